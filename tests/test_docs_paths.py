"""Every link in the Markdown pages, and every repository path the code and docs name, exists.

Two checks over the repository (virtual environments, node_modules, build and .git left out):

- each relative Markdown link ``[text](path)`` or ``[text](path#anchor)`` in a ``*.md``
  resolves to a file or folder, and its anchor to a heading of the target page;
- each path token starting ``docs/``, ``sim/``, ``portability/``, ``firmware/``, ``lib/``
  or ``tests/`` and ending in a file extension or ``/`` exists: in Markdown pages, ``.mjs``
  files, the Makefile and ``.ci/run`` anywhere in the text; in Python files only in comments and
  docstrings (string literals name paths on a badge's drive as often as in the checkout).
  Tokens with ``*`` are globs and must match something;
- in the same text, each other Markdown page named (``README.md``, ``../README.md``) exists
  in the repository, from its root or from the naming file's folder: the docs may not
  lean on pages kept outside the checkout.

A module that moves without its mentions fails here, naming the file and line.
"""

import ast
import io
import re
import tokenize
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

SKIP_DIRS = {".git", "node_modules", "build", "__pycache__", ".pytest_cache", ".mypy_cache"}

# Paths the docs name that exist only after a run: a failing golden comparison writes here.
GENERATED = {"tests/golden/_actual/"}

PREFIXES = ("docs", "sim", "portability", "firmware", "lib", "tests")
# A path token: one of the prefixes at the start of a word (not inside another path such as
# ``../shared/x/lib/``, a URL, a dotted name or an environment variable), then path characters.
PATH_TOKEN = re.compile(
    r"(?<![\w./\-$~@])((?:%s)/[\w.\-/*]*)" % "|".join(PREFIXES)
)
PLACEHOLDER = re.compile(r"(?<![^/])[A-Z][A-Z_]+(?=[./]|$)")
ENDS_LIKE_PATH = re.compile(r"(/|\.[A-Za-z][A-Za-z0-9]{0,4})$")

# Any other name of a Markdown page (the prefixed ones are PATH_TOKEN's).
MD_NAME = re.compile(r"(?<![\w./\-$~@:])((?:\.\./|\./)*[\w\-./]*\w\.md)(?![\w/])")
MD_LINK = re.compile(r"\[(?:[^\]\[]|\[[^\]]*\])*\]\(\s*<?([^)\s>]+)>?(?:\s+\"[^\"]*\")?\s*\)")
FENCE = re.compile(r"^( {0,3})(```|~~~).*?^\1\2[ \t]*$", re.M | re.S)
CODE_SPAN = re.compile(r"(`+)(?:(?!\1).)+?\1", re.S)
HEADING = re.compile(r"^ {0,3}#{1,6}[ \t]+(.*?)[ \t#]*$", re.M)


def repo_files():
    """Every file of the checkout that the checks read, as (path, relative posix name)."""
    out = []
    stack = [ROOT]
    while stack:
        folder = stack.pop()
        for entry in folder.iterdir():
            name = entry.name
            if entry.is_dir():
                if name in SKIP_DIRS or name.startswith(".venv") or name.endswith(".egg-info"):
                    continue
                stack.append(entry)
            elif name.endswith((".md", ".py", ".mjs")) or name == "Makefile":
                out.append(entry)
    run = ROOT / ".ci" / "run"
    if run.exists():
        out.append(run)
    return sorted(out)


def strip_code(markdown):
    """Markdown without fenced blocks and code spans, where brackets are not links."""
    return CODE_SPAN.sub("", FENCE.sub("", markdown))


def slug(heading):
    """The anchor GitHub gives a heading: lower case, punctuation dropped, spaces to '-'."""
    text = re.sub(r"\[([^\]]*)\]\([^)]*\)", r"\1", heading)  # a link's text only
    text = re.sub(r"[^\w\- ]", "", text.lower())
    return text.replace(" ", "-")


_anchors = {}


def anchors_of(page):
    if page not in _anchors:
        seen = {}
        found = set()
        for heading in HEADING.findall(FENCE.sub("", page.read_text(encoding="utf-8"))):
            base = slug(heading)
            n = seen.get(base, 0)
            seen[base] = n + 1
            found.add(base if n == 0 else "%s-%d" % (base, n))
        _anchors[page] = found
    return _anchors[page]


def link_targets(text):
    """(line number, target) of each Markdown link in a page."""
    prose = strip_code(text)
    # Line numbers from the prose with code removed are close enough only if we keep
    # newlines; the substitutions above drop some, so count in the original instead.
    out = []
    for match in MD_LINK.finditer(prose):
        target = match.group(1)
        line = text.count("\n", 0, max(text.find(match.group(0)), 0)) + 1
        out.append((line, target))
    return out


def check_link(page, target):
    """None when the link resolves, else why not."""
    if re.match(r"^[a-zA-Z][a-zA-Z0-9+.\-]*:", target):  # http:, https:, mailto:
        return None
    path_part, _, anchor = target.partition("#")
    dest = page if not path_part else (page.parent / path_part).resolve()
    if not dest.exists():
        return "no such file or folder"
    try:
        dest.relative_to(ROOT)
    except ValueError:
        return "outside the repository"
    if anchor and dest.suffix == ".md" and anchor.lower() not in anchors_of(dest):
        return "no heading with anchor #%s in %s" % (anchor, dest.relative_to(ROOT))
    return None


def python_prose(source):
    """(line number, text) of the comments and docstrings of a Python source."""
    out = []
    try:
        for tok in tokenize.generate_tokens(io.StringIO(source).readline):
            if tok.type == tokenize.COMMENT:
                out.append((tok.start[0], tok.string))
    except (tokenize.TokenError, SyntaxError):
        return [(1, source)]
    try:
        tree = ast.parse(source)
    except SyntaxError:
        return [(1, source)]
    for node in ast.walk(tree):
        if isinstance(node, (ast.Module, ast.ClassDef, ast.FunctionDef, ast.AsyncFunctionDef)):
            body = node.body
            if body and isinstance(body[0], ast.Expr) and isinstance(body[0].value, ast.Constant):
                value = body[0].value.value
                if isinstance(value, str):
                    out.append((body[0].lineno, value))
    return out


def path_mentions(text, first_line=1):
    """(line number, path) of each repository path token in a piece of prose."""
    out = []
    for match in PATH_TOKEN.finditer(text):
        token = match.group(1).rstrip(".")
        if not ENDS_LIKE_PATH.search(token):
            continue
        out.append((first_line + text.count("\n", 0, match.start()), token))
    return out


def path_exists(token):
    if any(token.startswith(generated) for generated in GENERATED):
        return True
    # An upper-case component is a placeholder (tests/golden/NAME.png): any name will do.
    token = PLACEHOLDER.sub("*", token)
    if "*" in token:
        return any(ROOT.glob(token.rstrip("/")))
    return (ROOT / token).exists()


def md_name_exists(file, token):
    for base in (ROOT, file.parent):
        dest = (base / token).resolve()
        if dest.exists() and dest.is_relative_to(ROOT):
            return True
    return False


def md_names(text, first_line=1):
    """(line number, name) of each Markdown page named without one of the path prefixes."""
    out = []
    for match in MD_NAME.finditer(text):
        token = match.group(1)
        if not token.startswith(tuple(prefix + "/" for prefix in PREFIXES)):
            out.append((first_line + text.count("\n", 0, match.start()), token))
    return out


def scan():
    """(links checked, paths checked, problems) over the whole repository."""
    links = paths = 0
    problems = []
    for file in repo_files():
        rel = file.relative_to(ROOT).as_posix()
        text = file.read_text(encoding="utf-8", errors="replace")
        if file.suffix == ".md":
            for line, target in link_targets(text):
                links += 1
                why = check_link(file, target)
                if why:
                    problems.append("%s:%d: link (%s): %s" % (rel, line, target, why))
            prose = [(1, text)]
        elif file.suffix == ".py":
            # Parsing every file is slow; only a file naming something missing needs it.
            fine = all(path_exists(token) for _, token in path_mentions(text)) and all(
                md_name_exists(file, token) for _, token in md_names(text))
            prose = [(1, text)] if fine else python_prose(text)
        else:
            prose = [(1, text)]
        for first_line, chunk in prose:
            for line, token in path_mentions(chunk, first_line):
                paths += 1
                if not path_exists(token):
                    problems.append("%s:%d: names %s, which does not exist" % (rel, line, token))
            for line, token in md_names(chunk, first_line):
                paths += 1
                if not md_name_exists(file, token):
                    problems.append("%s:%d: names page %s, outside the repository"
                                    % (rel, line, token))
    return links, paths, problems


def test_every_link_and_path_resolves():
    links, paths, problems = scan()
    # Not vacuous: the pages link to each other and the code names many of its files.
    assert links >= 15, "only %d Markdown links found: is the link pattern broken?" % links
    assert paths >= 100, "only %d path mentions found: is the path pattern broken?" % paths
    assert not problems, "%d stale references:\n  " % len(problems) + "\n  ".join(problems)


def test_the_checks_catch_a_stale_reference():
    # Paths: found in prose and in comments/docstrings, missing ones reported.
    prose = "see `sim/no_such_module.py`, the docs/nowhere.md page and tests/golden/*.xyz"
    tokens = [token for _, token in path_mentions(prose)]
    assert tokens == ["sim/no_such_module.py", "docs/nowhere.md", "tests/golden/*.xyz"]
    assert not any(path_exists(token) for token in tokens)
    assert path_exists("tests/golden/NAME.png") and not path_exists("tests/golden/NAME.xyz")
    source = '"""Reads firmware/absent.py."""\nx = "lib/on_a_drive.mpy"  # and sim/gone/\n'
    found = [tok for line, chunk in python_prose(source) for _, tok in path_mentions(chunk, line)]
    assert sorted(found) == ["firmware/absent.py", "sim/gone/"]  # not the string literal
    # Not paths: inside another path, a URL, a dotted name, a word without an extension.
    prose = "../shared/x/lib/a.py https://h/sim/a.py sim.cloud.broker the sim/ run"
    assert path_mentions(prose) == [(1, "sim/")]
    # Pages outside the repository, by any name.
    prose = "see design.md, ../shared/chips.md and README.md; not https://h/x.md or docs/a.md"
    names = [token for _, token in md_names(prose)]
    assert names == ["design.md", "../shared/chips.md", "README.md"]
    assert [md_name_exists(ROOT / "tests" / "x.py", name) for name in names] == [False, False, True]
    # Links: a missing file, a missing anchor; external links and good anchors pass.
    readme = ROOT / "README.md"
    assert check_link(readme, "docs/no-such-page.md") == "no such file or folder"
    assert "no heading" in check_link(readme, "docs/testing.md#no-such-heading")
    assert check_link(readme, "docs/testing.md#testing") is None
    assert check_link(readme, "https://example.org/x.md") is None
    assert link_targets("[a](x.md) `[b](y.md)`\n```\n[c](z.md)\n```\n") == [(1, "x.md")]
