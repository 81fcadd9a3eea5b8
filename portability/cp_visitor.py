"""The CircuitPython lint's walk over one module's syntax tree (rules: ``cp_lint.RULES``)."""

import ast
import re
from dataclasses import dataclass

from portability import cp_rules as R
from portability.import_graph import is_import_guard as _is_guarded

_CONVERSION_WIDTH = re.compile(r"\{[^{}]*![rsa]:[^{}]+\}")
# Counted repetition a{2} / a{1,3}, named groups, lookahead / lookbehind.
_REGEX_UNSUPPORTED = re.compile(r"(?<!\\)\{\d+(,\d*)?\}|\(\?P|\(\?=|\(\?!|\(\?<")


@dataclass(frozen=True)
class Finding:
    """One lint finding at ``path:line:col``."""

    path: str
    line: int
    col: int
    rule: str
    message: str

    def __str__(self):
        return f"{self.path}:{self.line}:{self.col}: [{self.rule}] {self.message}"


def _imported_module(stmt):
    if isinstance(stmt, ast.Import):
        return stmt.names[0].name
    if isinstance(stmt, ast.ImportFrom) and not stmt.level:
        return stmt.module
    return None


def _is_type_only(node):
    """A guarded try whose first statement imports typing: the rest never runs on the badge."""
    if not _is_guarded(node) or not node.body:
        return False
    module = _imported_module(node.body[0])
    return module is not None and module.split(".")[0] in R.TYPING_MODULES


class Linter(ast.NodeVisitor):
    """Walks one module; ``findings`` collects what it reports."""

    def __init__(self, path, entry):
        self.path = path
        self.entry = entry
        self.findings = []
        self.module_alias = {}   # local name -> module ("t" -> "time")
        self.from_names = {}     # local name -> (module, name)
        self.type_only = set()   # names bound only in type-only blocks
        self.guard_depth = 0     # inside try/except ImportError
        self.type_only_depth = 0
        self.uses_asyncio = False
        self.feature_checked = []  # (module, name) pairs under "if hasattr(module, name):"

    def report(self, node, rule, message):
        self.findings.append(Finding(self.path, node.lineno, node.col_offset, rule, message))

    # -- pre-pass: aliases and type-only names --------------------------------------
    def collect(self, tree):
        runtime_imports = []
        guarded_imports = set()
        for node in ast.walk(tree):
            if isinstance(node, ast.Import):
                for alias in node.names:
                    if alias.asname:
                        self.module_alias[alias.asname] = alias.name
                    else:
                        top = alias.name.split(".")[0]
                        self.module_alias[top] = top
            elif isinstance(node, ast.ImportFrom) and not node.level and node.module:
                for alias in node.names:
                    self.from_names[alias.asname or alias.name] = (node.module, alias.name)
            if isinstance(node, (ast.Import, ast.ImportFrom)):
                runtime_imports.append(node)
            if _is_type_only(node):
                for stmt in node.body:
                    if isinstance(stmt, (ast.Import, ast.ImportFrom)):
                        guarded_imports.add(id(stmt))
                        for alias in stmt.names:
                            self.type_only.add(alias.asname or alias.name.split(".")[0])
                for handler in node.handlers:
                    for sub in ast.walk(handler):
                        if isinstance(sub, ast.Name) and isinstance(sub.ctx, ast.Store):
                            self.type_only.discard(sub.id)
        for node in runtime_imports:   # a name also imported for real is defined on the badge
            if id(node) not in guarded_imports:
                for alias in node.names:
                    self.type_only.discard(alias.asname or alias.name.split(".")[0])
        self.uses_asyncio = "asyncio" in self.module_alias.values() or any(
            module == "asyncio" for module, _ in self.from_names.values())
        if self.from_names.get("TimeoutError", (None,))[0] == "asyncio":
            self.uses_asyncio = False

    def module_of(self, node):
        """The module an expression names (``time`` for ``t`` after ``import time as t``)."""
        if isinstance(node, ast.Name):
            return self.module_alias.get(node.id)
        return None

    def call_target(self, func):
        """(module, name) that a call's function refers to, when it is known."""
        if isinstance(func, ast.Attribute):
            module = self.module_of(func.value)
            if module:
                return module, func.attr
        elif isinstance(func, ast.Name) and func.id in self.from_names:
            return self.from_names[func.id]
        return None, None

    # -- imports ---------------------------------------------------------------------
    def check_import(self, node, module, names=()):
        top = module.split(".")[0]
        if top in R.TYPING_MODULES:
            if not self.guard_depth:
                self.report(node, "typing-import",
                            f"{top} does not exist on the badge: put type-only imports in "
                            "'try: from typing import ... except ImportError: pass'")
            return
        if top in R.ENTRY_ONLY_MODULES and not self.entry and not self.type_only_depth:
            self.report(node, "hardware-import",
                        f"only code.py and boot.py import {top}: take the ready-made object "
                        "(I2C bus, UART, pin) as an argument instead")
        if self.guard_depth:
            return
        if top in R.MISSING_MODULES:
            self.report(node, "missing-module", f"{top} {R.module_advice(top)}")
        elif top == "asyncio" and "." in module:
            self.report(node, "asyncio-submodule",
                        f"{module} does not exist in the badge's asyncio port: import names from asyncio")
        missing = R.MISSING_NAMES.get(module, {})
        for name in names:
            if name in missing:
                self.report(node, "missing-name", f"{module}.{name} is {missing[name]}")

    def visit_Import(self, node):
        for alias in node.names:
            self.check_import(node, alias.name)

    def visit_ImportFrom(self, node):
        if node.module and not node.level:
            self.check_import(node, node.module, [a.name for a in node.names])

    # -- statements --------------------------------------------------------------------
    def visit_Try(self, node):
        guarded, type_only = _is_guarded(node), _is_type_only(node)
        self.guard_depth += guarded
        self.type_only_depth += type_only
        for stmt in node.body:
            self.visit(stmt)
        self.guard_depth -= guarded
        self.type_only_depth -= type_only
        for part in (node.handlers, node.orelse, node.finalbody):
            for stmt in part:
                self.visit(stmt)

    def visit_If(self, node):
        checked = []
        tests = node.test.values if isinstance(node.test, ast.BoolOp) and isinstance(node.test.op, ast.And) \
            else [node.test]
        for test in tests:
            if isinstance(test, ast.Call) and isinstance(test.func, ast.Name) and test.func.id == "hasattr" \
                    and len(test.args) == 2 and isinstance(test.args[1], ast.Constant):
                checked.append((self.module_of(test.args[0]), test.args[1].value))
        self.visit(node.test)
        self.feature_checked.extend(checked)
        for stmt in node.body:
            self.visit(stmt)
        del self.feature_checked[len(self.feature_checked) - len(checked):]
        for stmt in node.orelse:
            self.visit(stmt)

    def visit_TryStar(self, node):
        self.report(node, "except-star", "except* is a syntax error on the badge: catch the exception types directly")
        self.generic_visit(node)

    def visit_Match(self, node):
        self.report(node, "match-statement", "match is a syntax error on the badge: use if / elif or a dict of handlers")
        self.generic_visit(node)

    def visit_ClassDef(self, node):
        for keyword in node.keywords:
            self.report(node, "class-keywords",
                        f"class keyword {keyword.arg}= is not supported on the badge: use a plain class")
        self.generic_visit(node)

    def check_function(self, node):
        if node.args.posonlyargs:
            self.report(node, "positional-only-params", "'/' in parameters is a syntax error on the badge: drop it")
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            if node.name in ("__init_subclass__", "__class_getitem__"):
                self.report(node, "special-method", f"{node.name} is never called on the badge")
            for decorator in node.decorator_list:
                self.visit(decorator)
            for default in node.args.defaults + [d for d in node.args.kw_defaults if d is not None]:
                self.visit(default)
            for stmt in node.body:
                self.visit(stmt)   # annotations are skipped: they never run on the badge
        else:
            self.generic_visit(node)

    def visit_FunctionDef(self, node):
        self.check_function(node)

    def visit_Lambda(self, node):
        self.check_function(node)

    def visit_AsyncFunctionDef(self, node):
        if any(isinstance(n, (ast.Yield, ast.YieldFrom)) for n in _own_nodes(node)):
            self.report(node, "async-generator",
                        "async generators do not exist on the badge: write a class with __aiter__ / __anext__")
        self.check_function(node)

    def visit_AnnAssign(self, node):
        self.visit(node.target)
        if node.value is not None:
            self.visit(node.value)

    def visit_comprehension(self, node):
        if node.is_async:
            self.report(node.iter, "async-comprehension",
                        "async comprehensions are a syntax error on the badge: write the async for loop out")
        self.generic_visit(node)

    # -- expressions -------------------------------------------------------------------
    def visit_Name(self, node):
        if isinstance(node.ctx, ast.Load):
            if node.id == "TYPE_CHECKING" or node.id in self.type_only:
                self.report(node, "type-only-name",
                            f"{node.id} is undefined on the badge (type-only import): use it only in annotations")
            elif node.id in ("ExceptionGroup", "BaseExceptionGroup"):
                self.report(node, "except-star", f"{node.id} does not exist on the badge")

    def visit_ExceptHandler(self, node):
        caught = node.type.elts if isinstance(node.type, ast.Tuple) else [node.type]
        if self.uses_asyncio and any(isinstance(t, ast.Name) and t.id == "TimeoutError" for t in caught):
            self.report(node, "asyncio-timeout-error",
                        "the badge's asyncio.wait_for raises asyncio.TimeoutError, which is not the "
                        "built-in TimeoutError: catch asyncio.TimeoutError")
        self.generic_visit(node)

    def visit_Attribute(self, node):
        module = self.module_of(node.value)
        missing = R.MISSING_NAMES.get(module, {}) if module else {}
        if node.attr in missing and (module, node.attr) not in self.feature_checked:
            self.report(node, "missing-name", f"{module}.{node.attr} is {missing[node.attr]}")
        self.generic_visit(node)

    def visit_Call(self, node):
        module, name = self.call_target(node.func)
        if isinstance(node.func, ast.Attribute):
            self.check_method_call(node, node.func.attr, module)
        elif isinstance(node.func, ast.Name) and node.func.id in R.BUILTIN_POSITIONAL_ONLY:
            self.check_keywords(node, node.func.id, R.BUILTIN_POSITIONAL_ONLY[node.func.id])
        called = getattr(node.func, "attr", None) or getattr(node.func, "id", None)
        if called in R.ASYNCIO_TAKES_COROUTINE and (module in (None, "asyncio")):
            for arg in node.args:
                if isinstance(arg, ast.Call) and self.call_target(arg.func)[0] == "asyncio" \
                        and self.call_target(arg.func)[1] in R.ASYNCIO_SLEEPS:
                    self.report(arg, "asyncio-bare-sleep",
                                f"on the badge asyncio.sleep() is not a coroutine and {called}() rejects it: "
                                "wrap the sleep in an async def")
        if module == "json" and name in ("dump", "dumps", "load", "loads"):
            bad = [k.arg for k in node.keywords if k.arg != "separators" or name.startswith("load")]
            if bad:
                self.report(node, "json-keywords",
                            f"json.{name}() on the badge takes no {', '.join(map(str, bad))}=: "
                            "only separators= (dump/dumps)")
        elif module == "collections" and name == "deque":
            if len(node.args) < 2 or node.keywords:
                self.report(node, "deque-arguments",
                            "the badge's deque needs (iterable, maxlen) positionally, e.g. deque((), 16)")
        elif module == "re" and name in R.RE_PATTERN_FUNCS and node.args:
            pattern = node.args[0]
            if isinstance(pattern, ast.Constant) and isinstance(pattern.value, (str, bytes)):
                text = pattern.value if isinstance(pattern.value, str) else pattern.value.decode("latin-1")
                if _REGEX_UNSUPPORTED.search(text):
                    self.report(pattern, "regex-feature",
                                "the badge's re has no counted repetition {n}, named groups or lookaround "
                                "(a{2} silently never matches): spell it out, e.g. aa")
        self.generic_visit(node)

    def check_method_call(self, node, method, module):
        if module is None and method in R.MISSING_METHODS:
            self.report(node, "missing-method", f".{method}() is {R.MISSING_METHODS[method]}")
        if method in R.METHOD_POSITIONAL_ONLY:
            self.check_keywords(node, f".{method}", R.METHOD_POSITIONAL_ONLY[method])
        if method == "decode" and len(node.args) >= 2 and not (
                isinstance(node.args[1], ast.Constant) and node.args[1].value == "strict"):
            self.report(node, "decode-errors",
                        "decode ignores errors on the badge and raises UnicodeError on bad UTF-8: catch it")
        if method == "format" and isinstance(node.func.value, ast.Constant) \
                and isinstance(node.func.value.value, str) \
                and _CONVERSION_WIDTH.search(node.func.value.value):
            self.report(node, "fstring-conversion-width",
                        "width after !r / !s is ignored on the badge: format repr(x) with '{:>N}'")

    def check_keywords(self, node, name, keywords):
        for keyword in node.keywords:
            if keyword.arg == "errors" and name == ".decode":
                self.report(node, "decode-errors",
                            "decode ignores errors= on the badge and raises UnicodeError on bad UTF-8: catch it")
            elif keyword.arg in keywords:
                self.report(node, "keyword-argument",
                            f"{name}() takes no keyword arguments on the badge: pass {keyword.arg} positionally"
                            if keyword.arg != "flush" else "print() has no flush= on the badge: drop it")

    def visit_FormattedValue(self, node):
        if node.conversion != -1 and node.format_spec is not None:
            self.report(node, "fstring-conversion-width",
                        "width after !r / !s is ignored on the badge: format repr(x) with '{:>N}'")
        self.generic_visit(node)


def _own_nodes(function):
    """Nodes of a function's body, without descending into nested functions or classes."""
    scopes = (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda, ast.ClassDef)
    stack = [n for n in function.body if not isinstance(n, scopes)]
    while stack:
        node = stack.pop()
        yield node
        stack.extend(c for c in ast.iter_child_nodes(node) if not isinstance(c, scopes))
