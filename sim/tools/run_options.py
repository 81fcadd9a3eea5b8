"""Checks and choices shared by ``python -m sim run`` and the page, on either engine.

Each check raises :class:`UsageError` with what is wrong and how to fix it; the command
line prints it and exits with status 2.
"""

import tempfile
from pathlib import Path


class UsageError(Exception):
    """A bad combination of options; the message says what to do instead."""


def startup_items(args):
    """[(kind, payload)] from --qr/--photo/--name, checked before the run starts."""
    from sim.content.payloads import name_payload, photo_payload, qr_payload

    try:
        items = []
        if args.qr is not None:
            items.append(("qr", qr_payload(args.qr)[0]))
        if args.photo is not None:
            items.append(("photo", photo_payload(args.photo)[0]))
        if args.name is not None:
            items.append(("name", name_payload(args.name)[0]))
    except ValueError as error:
        raise UsageError(str(error)) from None
    if (items or args.screen) and args.no_module:
        raise UsageError("--qr, --photo, --name and --screen travel through the module: "
                         "drop --no-module")
    return items


def cpython_root(args, deploy_hint="python -m sim deploy %s"):
    """The deployed folder of --root for the CPython engine (None without --root)."""
    from sim.tools.deploy import cpython_engine_refusal

    if not args.root:
        return None
    root = Path(args.root).resolve()
    if not (root / "code.py").exists():
        raise UsageError("%s has no code.py: deploy first (%s)" % (root, deploy_hint % root))
    refusal = cpython_engine_refusal(root)
    if refusal:
        raise UsageError(refusal)
    return root


def cpython_drive(args, root):
    """(drive folder, scratch folder to remove afterwards or None) for the CPython
    engine: --drive, else the deployed root, else a fresh temporary folder; the drive
    gets the settings template if it has no settings.toml."""
    from sim.tools.deploy import write_settings_template

    scratch = None
    if args.drive:
        drive = Path(args.drive)
    elif root is not None:
        drive = root
    else:
        scratch = drive = Path(tempfile.mkdtemp(prefix="badge-drive-"))
    write_settings_template(drive)
    return drive, scratch
