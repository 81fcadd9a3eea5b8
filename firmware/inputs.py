"""One task looks at the badge's inputs: the buttons and the module's EVENT pin.

CircuitPython has no pin interrupts for Python code. ``keypad`` scans the buttons in
the background and queues presses, and the EVENT pin is a plain level, so a single
task polls both every ``poll_ms`` (settings.toml ``BADGE_POLL_MS``, default 25 ms) and
turns what it sees into calls and flags: a press calls ``on_press(key_number)``; a high
EVENT pin sets ``module_event`` for the cloud session. The period bounds how long a
message waits in the module before the badge fetches it; each look costs a wake-up of
the loop (40 a second at 25 ms). One poller serves every input.
"""

import asyncio

import keypad

POLL_MS = 25


class InputPoller:
    def __init__(self, keys, event_pin, on_press, module_event, poll_ms=POLL_MS):
        self._keys = keys
        self._event_pin = event_pin
        self._on_press = on_press
        self.module_event = module_event  # an asyncio.Event
        self._event = keypad.Event()  # reused: polling allocates nothing
        self._poll_s = poll_ms / 1000

    def poll(self):
        """Handle everything queued or raised since the last look."""
        keys = self._keys
        if keys is not None:
            event = self._event
            while keys.events.get_into(event):
                if event.pressed:
                    self._on_press(event.key_number)
        pin = self._event_pin
        if pin is not None and pin.value:
            self.module_event.set()

    async def run(self):
        # A plain ``await asyncio.sleep`` (no wrapper) is fine on the badge: only
        # passing the sleep itself to gather/wait_for/create_task is not.
        sleep = asyncio.sleep
        poll_s = self._poll_s
        while True:
            self.poll()
            await sleep(poll_s)
