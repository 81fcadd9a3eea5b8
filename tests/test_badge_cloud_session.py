"""The cloud session's errors: the link's troubles are retried inside the session, a
caller bug (StateError) reaches the task supervisor, which logs its traceback."""

import asyncio

from expresslink.errors import CommandTimeout, StateError

from firmware.cloud import CloudSession
from firmware.outbox import Outbox
from firmware.state import BadgeState
from firmware.tasks import supervise


class FailingClient:
    """An ExpressLink client whose every session fails at once with ``error``."""

    def __init__(self, error):
        self.error = error
        self.calls = 0

    async def wait_ready(self):
        self.calls += 1
        raise self.error


def run_supervised(error, until):
    """Supervise a session on ``FailingClient(error)`` until ``until(client, crashes)``
    (checked every 10 ms, 3 s at most); the log lines, the crashes and the client."""
    lines, crashes = [], {}

    def log(topic, text):
        lines.append((topic, text))

    client = FailingClient(error)
    session = CloudSession(client, BadgeState(), Outbox(4), log, asyncio.Event())

    async def main():
        task = asyncio.create_task(supervise("cloud_session", session.run, log, crashes))
        for _ in range(300):
            if until(client, crashes):
                break
            await asyncio.sleep(0.01)
        task.cancel()
        try:
            await task
        except asyncio.CancelledError:
            pass

    asyncio.run(main())
    return lines, crashes, client


def test_a_state_error_reaches_the_supervisor_with_its_traceback(capsys):
    lines, crashes, client = run_supervised(StateError("a command is already in flight"),
                                            lambda client, crashes: crashes)
    assert crashes == {"cloud_session": 1}
    assert client.calls == 1  # not retried by the session itself
    assert ("cloud_session", "crashed: StateError: a command is already in flight; "
            "restarting in 1 s") in lines
    printed = capsys.readouterr().out
    assert "Traceback" in printed and "wait_ready" in printed, printed


def test_a_module_that_does_not_answer_is_retried_by_the_session():
    lines, crashes, client = run_supervised(CommandTimeout("no reply"),
                                            lambda client, crashes: client.calls >= 1)
    assert crashes == {}
    assert ("cloud", "module not answering (no reply)") in lines
