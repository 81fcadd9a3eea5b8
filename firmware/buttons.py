"""Buttons: A shows the previous screen, B the next; C is reserved for actions."""

# Key numbers, in the order code.py passes the pins to keypad.Keys (C is 2).
BUTTON_A = 0
BUTTON_B = 1


def handle_press(state, key_number):
    """What a press of ``key_number`` does to the badge's state."""
    if key_number == BUTTON_A:
        state.step_screen(-1)
    elif key_number == BUTTON_B:
        state.step_screen(1)
