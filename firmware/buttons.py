"""Buttons: A shows the previous screen, B the next; C is reserved for actions."""

import asyncio

import keypad

# Key numbers in the order code.py passes the pins.
BUTTON_A = 0
BUTTON_B = 1
BUTTON_C = 2

# keypad scans in the background and queues events, so polling this often loses
# nothing; it only bounds the delay between a press and the screen change
# (100 ms, about the limit of what feels immediate).
_POLL_S = 0.1


async def _sleep(seconds):
    await asyncio.sleep(seconds)


async def poll_buttons(keys, state, on_press=None):
    """Turn key presses into screen changes; ``on_press(key_number)`` sees all."""
    event = keypad.Event()
    while True:
        while keys.events.get_into(event):
            if not event.pressed:
                continue
            if event.key_number == BUTTON_A:
                state.step_screen(-1)
            elif event.key_number == BUTTON_B:
                state.step_screen(1)
            if on_press is not None:
                on_press(event.key_number)
        await _sleep(_POLL_S)
