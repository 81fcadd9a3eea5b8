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


@dataclass
class ProgramRun:
    badge: CircuitPythonBadge
    lines: list
    text: str
    frames: dict = field(default_factory=dict)  # name -> panel pixels (bytes)
    last_frame: bytes = b""

    def checks(self, name):
        """The values of the program's ``check NAME ...`` lines, in order."""
        prefix = "check %s" % name
        return [line[len(prefix):].strip() for line in self.lines if line.startswith(prefix)]


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


def run_program(drive, version, script=(), duration_s=30.0, **options):
    """Boot CircuitPython ``version`` on ``drive`` and follow ``script``; a ProgramRun."""
    badge = CircuitPythonBadge(drive, version=version, **options)
    badge.snapshots = {}
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
                      dict(badge.snapshots), bytes(badge.display.panel_pixels()))
