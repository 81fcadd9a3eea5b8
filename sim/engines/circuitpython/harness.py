"""Test helpers: run a program on the real CircuitPython and act on its console lines.

``run_program(drive, version, script, duration_s)`` boots the engine on ``drive`` and
follows ``script`` as console lines arrive: a list of rules ``(text, action, delay_s)``
taken in order; when a line contains the next rule's ``text``, ``action(badge)`` runs
``delay_s`` emulated seconds later and the rule after it is armed. Actions: :func:`press`, :func:`reload`,
:func:`stop`, :func:`snapshot`. The result keeps the console, frames taken by
:func:`snapshot`, the last frame and the badge itself.
"""

from dataclasses import dataclass, field

from sim.engines.circuitpython.badge import CircuitPythonBadge


def why_missing(version):
    """Why the engine cannot run ``version`` here (a missing UF2, Node package or
    mpy-cross, with where to get it), or None when everything is there."""
    from sim.tools import mpy_cross
    from sim.engines.circuitpython.parts import MissingPart, find_parts

    try:
        find_parts(version)
    except MissingPart as missing:
        return str(missing)
    try:
        mpy_cross.find_mpy_cross()
    except mpy_cross.MpyCrossError as missing:
        return str(missing)
    return None


@dataclass
class ProgramRun:
    badge: CircuitPythonBadge
    lines: list
    text: str
    frames: dict = field(default_factory=dict)  # name -> panel pixels (bytes)
    last_frame: bytes = b""
    facts: dict = field(default_factory=dict)  # the run's report (see .report)
    report: object = None

    def checks(self, name):
        """The values of the program's ``check NAME ...`` lines, in order."""
        prefix = "check %s" % name
        size = len(prefix)
        return [line[size:].strip() for line in self.lines if line.startswith(prefix)
                and (name.endswith("=") or line[size:size + 1] in ("", " "))]


def press(button, hold_s=0.1):
    return lambda badge: badge.press(button, hold_s)


def reload(badge):
    badge.soft_reload()


def stop(badge):
    badge.stop()


def snapshot(name):
    def take(badge):
        badge.snapshots[name] = bytes(badge.display.panel_pixels())
    return take


def run_program(drive, version, script=(), duration_s=30.0, setup=None, **options):
    """Boot CircuitPython ``version`` on ``drive`` and follow ``script``; a ProgramRun.
    ``setup(badge)``, if given, runs before the boot (e.g. to attach another chip)."""
    from sim.engines.circuitpython.report import RunReport

    badge = CircuitPythonBadge(drive, version=version, **options)
    if setup is not None:
        setup(badge)
    badge.snapshots = {}
    report = RunReport(badge)
    pending = list(script)

    def on_line(line, time_s):
        if pending and pending[0][0] in line:
            _text, action, delay_s = pending.pop(0)
            if delay_s <= 0:
                action(badge)
            else:
                badge._loop.call_at(time_s + delay_s, action, badge)

    badge.console.on_line.append(on_line)
    badge.run(duration_s)
    return ProgramRun(badge, list(badge.console.lines), badge.console.all_text,
                      dict(badge.snapshots), bytes(badge.display.panel_pixels()),
                      report.as_dict(badge.wall_s), report)


class CodeEndWatch:
    """Stops a badge's run ``grace_s`` after its code.py ends by itself ("Code done
    running." that no Ctrl-C of the host caused): firmware that ends is a dead badge.
    ``ended_s``: emulated time it ended, or None."""

    def __init__(self, badge, grace_s=0.5):
        self.badge = badge
        self.grace_s = grace_s
        self.ended_s = None
        self._armed = False
        self._sent = badge.send_keys
        badge.send_keys = self._keys
        badge.console.on_line.append(self._line)

    def _keys(self, data):
        if b"\x03" in data:
            self._armed = False  # the host interrupts: code.py ending now is expected
        self._sent(data)

    def _line(self, line, time_s):
        if "code.py output:" in line:
            self._armed = True
        elif "Code done running." in line and self._armed and self.ended_s is None:
            self.ended_s = time_s
            self.badge._loop.call_at(time_s + self.grace_s, self.badge.stop)


def run_repl(drive, version, statements, duration_s=120.0, **options):
    """Stop code.py with Ctrl-C once it runs with the console attached, then type each
    of ``statements`` (one line each) at the REPL; returns [(statement, output)], the
    output as printed, without the echo and the prompt. E.g. ``["import gc",
    "gc.collect()", "print(gc.mem_free())"]``."""
    badge = CircuitPythonBadge(drive, version=version, **options)
    pending = list(statements)
    results = []
    state = {"text": "", "started": False}

    def type_next(time_s):
        if not pending:
            badge._loop.call_at(time_s + 0.01, badge.stop)
            return
        state["statement"] = pending.pop(0)
        state["text"] = ""
        badge._loop.call_at(time_s + 0.01, badge.send_keys,
                            state["statement"].encode() + b"\r")

    def on_line(line, time_s):
        if "code.py output:" in line and not state["started"]:
            state["started"] = True
            badge._loop.call_at(time_s + 0.1, badge.send_keys, b"\x03")
            badge._loop.call_at(time_s + 0.2, badge.send_keys, b"\r")

    def on_text(text, time_s):
        if not state["started"]:
            return
        state["text"] += text
        if not state["text"].endswith(">>> "):
            return
        if "statement" in state:
            body = state["text"].replace("\r", "")[:-len(">>> ")]
            output = body.split("\n", 1)[1] if "\n" in body else ""
            results.append((state["statement"], output))
        type_next(time_s)

    badge.console.on_line.append(on_line)
    badge.console.on_text.append(on_text)
    badge.run(duration_s)
    return results
