"""Which badge modules import hardware, found by reading their import statements with ``ast``.

A module of ``lib/`` or ``firmware/`` is *hardware-free* when nothing it imports at
module level, directly or through our other modules, is a hardware module. Imports
inside functions run later and are not followed; imports inside
``try: ... except ImportError`` are allowed to fail and are not followed either (that is
how type-only imports and fallbacks are written).
"""

import ast
from pathlib import Path

# CircuitPython modules (and Adafruit libraries built on them) that need the badge's
# hardware or its displayio stack. A module importing one of these cannot run in a bare
# MicroPython VM.
HARDWARE_MODULES = frozenset({
    "alarm", "analogio", "audiobusio", "audiocore", "audiopwmio", "bitbangio",
    "bitmaptools", "board", "busdisplay", "busio", "countio", "digitalio", "displayio",
    "epaperdisplay", "fontio", "fourwire", "framebufferio", "i2cdisplaybus", "i2ctarget",
    "keypad", "microcontroller", "neopixel_write", "nvm", "onewireio", "paralleldisplaybus",
    "pulseio", "pwmio", "rotaryio", "rp2pio", "rtc", "sdcardio", "storage", "supervisor",
    "terminalio", "touchio", "usb_cdc", "usb_hid", "usb_midi", "vectorio", "watchdog",
    "adafruit_display_text", "adafruit_displayio_ssd1306", "adafruit_bitmap_font",
})

_GUARD_EXCEPTIONS = {"ImportError", "ModuleNotFoundError", "Exception", "BaseException"}


def badge_modules(root):
    """``{module name: file}`` for ``root/firmware`` (as ``firmware.x``) and ``root/lib`` (bare)."""
    root = Path(root)
    modules = {}
    for base, prefix in ((root / "firmware", ("firmware",)), (root / "lib", ())):
        if not base.is_dir():
            continue
        if prefix and (base / "__init__.py").is_file():
            modules["firmware"] = base / "__init__.py"
        for file in sorted(base.rglob("*.py")):
            parts = file.relative_to(base).with_suffix("").parts
            if parts[-1] == "__init__":
                parts = parts[:-1]
            if not parts or not all(p.isidentifier() for p in parts):
                continue
            modules[".".join(prefix + parts)] = file
    return modules


def is_import_guard(node):
    """True for a ``try`` whose handlers catch ImportError (or anything wider)."""
    if not isinstance(node, ast.Try):
        return False
    for handler in node.handlers:
        if handler.type is None:
            return True
        types = handler.type.elts if isinstance(handler.type, ast.Tuple) else [handler.type]
        if any(isinstance(t, ast.Name) and t.id in _GUARD_EXCEPTIONS for t in types):
            return True
    return False


def _import_nodes(statements):
    """Import statements that run when the module is imported."""
    for node in statements:
        if isinstance(node, (ast.Import, ast.ImportFrom)):
            yield node
        elif isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            continue
        elif isinstance(node, ast.Try):
            if not is_import_guard(node):
                yield from _import_nodes(node.body)
            for handler in node.handlers:
                yield from _import_nodes(handler.body)
            yield from _import_nodes(node.orelse)
            yield from _import_nodes(node.finalbody)
        else:
            for field in ("body", "orelse", "finalbody"):
                yield from _import_nodes(getattr(node, field, None) or [])
            for case in getattr(node, "cases", None) or []:
                yield from _import_nodes(case.body)


def module_imports(name, file, known):
    """Absolute names a module imports at load time (``known``: our module names)."""
    package = name if file.name == "__init__.py" else name.rpartition(".")[0]
    found = set()
    tree = ast.parse(file.read_text(encoding="utf-8"), filename=str(file))
    for node in _import_nodes(tree.body):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
            continue
        base = node.module or ""
        if node.level:
            parts = package.split(".") if package else []
            parts = parts[: len(parts) - (node.level - 1)]
            base = ".".join(parts + ([node.module] if node.module else []))
        if base:
            found.add(base)
        for alias in node.names:
            candidate = f"{base}.{alias.name}" if base else alias.name
            if candidate in known:
                found.add(candidate)
    # Importing a.b.c first imports a and a.b.
    for imported in list(found):
        parts = imported.split(".")
        found.update(".".join(parts[:i]) for i in range(1, len(parts)))
    parts = name.split(".")
    found.update(".".join(parts[:i]) for i in range(1, len(parts)))
    return found


def hardware_reasons(root):
    """``{module: chain}``: the import chain to hardware, or ``None`` when hardware-free.

    A chain reads ``["firmware.app", "firmware.display", "displayio"]``.
    """
    modules = badge_modules(root)
    direct = {name: module_imports(name, file, modules) for name, file in modules.items()}

    def chain(start):
        parent = {start: None}
        queue = [start]
        while queue:
            name = queue.pop(0)
            for imported in sorted(direct[name]):
                if imported.split(".")[0] in HARDWARE_MODULES:
                    path = [imported, name]
                    while parent[path[-1]] is not None:
                        path.append(parent[path[-1]])
                    return path[::-1]
                if imported in direct and imported not in parent:
                    parent[imported] = name
                    queue.append(imported)
        return None

    return {name: chain(name) for name in modules}
