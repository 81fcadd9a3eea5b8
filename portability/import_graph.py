"""Which badge modules import hardware, found by reading their import statements with ``ast``.

A module of ``lib/`` or ``firmware/`` is *hardware-free* when nothing it imports at
module level, directly or through our other modules, is a hardware module. Imports
inside functions run later and are not followed; imports inside
``try: ... except ImportError`` are allowed to fail and are not followed either (that is
how type-only imports and fallbacks are written).

What the badge can import at all (:func:`reachable_modules`, used by ``deploy`` to ship
only those) follows every import instead: inside functions, guarded ones, and a
package's lazy attribute loader (asyncio's ``_attrs`` table).
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

# Modules compiled into CircuitPython 9.x/10.x for the Pico (a full build) that libraries
# try first and replace with Python code only where they are missing: the asyncio port's
# ``_asyncio`` (else asyncio/task.py) and ``traceback`` (else asyncio/traceback.py).
BADGE_BUILT_INS = frozenset({"_asyncio", "traceback"})


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


def _imports_only_built_ins(statements, built_ins):
    """True when ``statements`` are absolute imports of modules in ``built_ins`` alone."""
    names = []
    for node in statements:
        if isinstance(node, ast.Import):
            names.extend(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and not node.level and node.module:
            names.append(node.module)
        else:
            return False
    return bool(names) and all(name.split(".")[0] in built_ins for name in names)


def _every_import_node(node, built_ins):
    """Every import statement, wherever it is: a lazy import inside a function runs too.

    The fallback of a guard whose ``try`` imports only modules in ``built_ins``
    (``try: from _asyncio import Task`` / ``except ImportError: from .task import
    Task``) never runs there, so it is skipped.
    """
    if isinstance(node, (ast.Import, ast.ImportFrom)):
        yield node
        return
    if is_import_guard(node) and _imports_only_built_ins(node.body, built_ins):
        children = node.body + node.orelse + node.finalbody
    else:
        children = ast.iter_child_nodes(node)
    for child in children:
        yield from _every_import_node(child, built_ins)


def module_imports(name, file, known, *, everywhere=False, built_ins=frozenset()):
    """Absolute names a module imports (``known``: our module names).

    By default only what runs when the module is imported; with ``everywhere`` also the
    imports inside functions and inside import guards, except the fallbacks of guards
    around ``built_ins`` (see :func:`_every_import_node`).
    """
    package = name if file.name == "__init__.py" else name.rpartition(".")[0]
    found = set()
    tree = ast.parse(file.read_text(encoding="utf-8"), filename=str(file))
    nodes = (_every_import_node(tree, built_ins) if everywhere
             else _import_nodes(tree.body))
    for node in nodes:
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


def lazy_attributes(file):
    """``{attribute: submodule}`` of a package that imports a submodule on first use of an
    attribute (a module-level ``_attrs = {"Event": "event", ...}`` and a module-level
    ``__getattr__``, as asyncio does); ``{}`` for any other module."""
    tree = ast.parse(Path(file).read_text(encoding="utf-8"), filename=str(file))
    table = {}
    has_getattr = False
    for node in tree.body:
        if isinstance(node, ast.FunctionDef) and node.name == "__getattr__":
            has_getattr = True
        elif (isinstance(node, ast.Assign) and len(node.targets) == 1
              and isinstance(node.targets[0], ast.Name) and node.targets[0].id == "_attrs"
              and isinstance(node.value, ast.Dict)):
            for key, value in zip(node.value.keys, node.value.values):
                if (isinstance(key, ast.Constant) and isinstance(key.value, str)
                        and isinstance(value, ast.Constant) and isinstance(value.value, str)):
                    table[key.value] = value.value
    return table if has_getattr else {}


def attributes_used(file, package):
    """Names a module takes from ``package``: ``package.NAME`` after ``import package``
    (or ``import package as alias``) and ``from package import NAME``."""
    tree = ast.parse(Path(file).read_text(encoding="utf-8"), filename=str(file))
    aliases = set()
    used = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                if alias.name == package:
                    aliases.add(alias.asname or package)
        elif isinstance(node, ast.ImportFrom) and not node.level and node.module == package:
            used.update(alias.name for alias in node.names)
    for node in ast.walk(tree):
        if (isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name)
                and node.value.id in aliases):
            used.add(node.attr)
    return used


def reachable_modules(entries, modules, *, built_ins=BADGE_BUILT_INS):
    """``{module: importer}`` for every module of ``modules`` the badge can import.

    ``entries``: the files CircuitPython runs itself (``code.py``, ``boot.py``);
    ``modules``: ``{name: file}`` of every module that could be shipped (ours and the
    libraries'). Every import counts, wherever it is written: at module level, inside a
    function (a lazy import runs when the function does), inside an import guard (a
    fallback must be there when it is needed, unless the guard tries only ``built_ins``,
    which the badge has), and an attribute of a package
    with a lazy loader (``asyncio.Event`` imports ``asyncio.event``). Names that are not
    in ``modules`` (built-in modules, typing) are left out. ``importer`` is the name of a
    module (or entry file) that imports it, to say why it is shipped.
    """
    lazy = {name: lazy_attributes(file) for name, file in modules.items()
            if file.name == "__init__.py"}
    lazy = {name: table for name, table in lazy.items() if table}
    reached = {}
    queue = [(Path(entry).stem, Path(entry)) for entry in entries]
    while queue:
        importer, file = queue.pop(0)
        imported = module_imports(importer if importer in modules else "", file, modules,
                                  everywhere=True, built_ins=built_ins)
        for package, table in lazy.items():
            if package in imported:
                for attribute in attributes_used(file, package):
                    if attribute in table:
                        imported.add(package + "." + table[attribute])
        for name in sorted(imported):
            if name in modules and name not in reached:
                reached[name] = importer
                queue.append((name, modules[name]))
    return reached
