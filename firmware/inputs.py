"""Tasks that wait for the badge's inputs: the buttons and the module's EVENT line.

Both are ``keypad`` scanners, which CircuitPython runs in the background; each task
sleeps on its scanner's event queue (:mod:`firmware.pollable`) and wakes only when an
edge is queued. Nothing polls, so an idle badge does no work for its inputs, and a
message reaches the badge one EVENT scan interval (``BADGE_EVENT_SCAN_MS``) after the
module has it.
"""

import keypad

from firmware.pollable import readable


async def watch_buttons(keys, on_press):
    """Call ``on_press(key_number)`` for each press queued by ``keys``."""
    events = keys.events
    event = keypad.Event()  # reused: a press allocates nothing
    while True:
        await readable(events)
        while events.get_into(event):
            if event.pressed:
                on_press(event.key_number)


async def watch_event_line(line, module_event):
    """Set ``module_event`` (an asyncio.Event) whenever the EVENT line is high after an
    edge; the cloud session clears it and asks the module what happened."""
    while True:
        await line.wait_change()
        if line.value:
            module_event.set()
