"""CircuitPython lint: CPython-only language and library use in the badge's files.

mypy with circuitpython-stubs checks the CircuitPython APIs but takes CPython's standard
library for granted; this lint (pure ``ast``) catches what would fail only on the badge.
``python -m portability.cp_lint [PATH ...]`` prints ``file:line:col: [rule] message`` and
exits 1 on findings; the default paths are code.py, boot.py, firmware/ and lib/.
``--rules`` lists the rules; their tables are in ``cp_rules``, the walk in ``cp_visitor``.
"""

import ast
import sys
from pathlib import Path

from portability import DEFAULT_TARGETS, ENTRY_FILES, REPO_ROOT, display_path, python_files
from portability.cp_visitor import Finding, Linter

RULES = {
    "missing-module": "import of a standard-library module the badge does not have",
    "missing-name": "a name the badge's time, sys, asyncio, os, re, json, collections or random lacks",
    "missing-method": "a str / bytes / int / exception method the badge lacks (removeprefix, zfill, ...)",
    "typing-import": "typing imported outside try/except ImportError",
    "type-only-name": "a name from a type-only import (or TYPE_CHECKING) used at run time",
    "asyncio-submodule": "import of an asyncio submodule",
    "asyncio-bare-sleep": "asyncio.sleep(...) passed straight to gather / wait_for / create_task / run",
    "asyncio-timeout-error": "built-in TimeoutError caught where asyncio.wait_for raises asyncio.TimeoutError",
    "hardware-import": "board or busio imported outside code.py and boot.py",
    "match-statement": "match statement (a syntax error on the badge)",
    "except-star": "except* or exception groups",
    "positional-only-params": "'/' in a parameter list (a syntax error on the badge)",
    "async-generator": "yield inside async def (becomes a plain generator on the badge)",
    "async-comprehension": "async for inside a comprehension (a syntax error on the badge)",
    "keyword-argument": "keyword argument to a built-in that takes positional arguments only on the badge",
    "decode-errors": "errors= given to decode (ignored on the badge: bad UTF-8 raises UnicodeError)",
    "deque-arguments": "collections.deque without (iterable, maxlen) given positionally",
    "json-keywords": "json keyword arguments other than separators=",
    "class-keywords": "metaclass= or other class keywords",
    "special-method": "__init_subclass__ / __class_getitem__ (never called on the badge)",
    "fstring-conversion-width": "{x!r:>10}: width after a conversion (ignored on the badge)",
    "regex-feature": "regex syntax the badge's re lacks (counted repetition, named groups, lookaround)",
    "syntax": "a file that does not parse",
}


def lint_source(source, path="<source>", entry=False):
    """Findings for one module's source; ``entry`` for code.py / boot.py."""
    try:
        tree = ast.parse(source, filename=str(path))
    except SyntaxError as error:
        return [Finding(str(path), error.lineno or 0, (error.offset or 1) - 1, "syntax",
                        f"does not parse: {error.msg}")]
    linter = Linter(str(path), entry)
    linter.collect(tree)
    linter.visit(tree)
    return sorted(linter.findings, key=lambda f: (f.line, f.col, f.rule))


def lint_paths(paths=None, root=REPO_ROOT):
    """Findings for every ``.py`` file under ``paths`` (default: the badge's files in ``root``)."""
    root = Path(root)
    findings = []
    for file in python_files(root, paths or DEFAULT_TARGETS):
        shown = display_path(file, root)
        findings.extend(lint_source(file.read_text(encoding="utf-8"), shown, entry=shown in ENTRY_FILES))
    return findings


def main(argv=None):
    args = sys.argv[1:] if argv is None else argv
    if args[:1] == ["--rules"]:
        for name, text in RULES.items():
            print(f"{name:26s} {text}")
        return 0
    root = Path.cwd() if args else REPO_ROOT
    paths = [Path(a).resolve() for a in args] or DEFAULT_TARGETS
    findings = lint_paths(paths, root=root)
    for finding in findings:
        print(finding)
    checked = len(python_files(root, paths))
    print(f"cp_lint: {len(findings)} finding(s) in {checked} file(s)")
    return 1 if findings else 0


if __name__ == "__main__":
    sys.exit(main())
