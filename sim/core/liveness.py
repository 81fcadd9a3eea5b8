"""Liveness: no task may hold the event loop longer than a limit.

Every step of every task is measured by the simulator's loop (``clock.stalls``); this
turns the record into a verdict with the culprit's name.
"""

from sim.core.loop import step_name


class LoopHeld(AssertionError):
    """A task held the loop too long; the message names it and the time."""


def longest_stall(stalls, kind):
    """(seconds, task name) of the longest single-step wait of ``kind``."""
    seconds = stalls.longest_step_s.get(kind, 0.0)
    where = stalls.longest_step_where.get(kind)
    return seconds, (step_name(where) if where is not None else "-")


def check_liveness(stalls, limit_s, kinds=("sleep",)):
    """Raise LoopHeld if any step blocked for more than ``limit_s`` in ``kinds``."""
    for kind in kinds:
        seconds, where = longest_stall(stalls, kind)
        if seconds > limit_s:
            raise LoopHeld("%s held the loop for %.1f ms (%s wait); the limit is %.1f ms"
                           % (where, seconds * 1e3, kind, limit_s * 1e3))
