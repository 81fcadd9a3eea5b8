"""Badge settings from settings.toml (``os.getenv``), validated, with defaults.

Every key is optional. A value of the wrong type or out of range is reported on the
console with what is allowed, and the default is used instead: a typo never stops
the badge. CircuitPython 9.0-10.1 raise ValueError from ``os.getenv`` for a bare value
that is not a whole number (``KEY = GP4``) or a line they cannot read (``KEY = "GP4``);
10.2 and later return every value as text (and the default for an unreadable line).
"""

# (key, attribute, default, minimum, maximum); strings have no bounds.
_INTEGERS = (
    ("BADGE_SAMPLE_PERIOD_S", "sample_period_s", 10, 2, 3600),
    ("BADGE_SENSOR_ADDRESS", "sensor_address", 0x44, 0x44, 0x45),
    ("BADGE_DISPLAY_ADDRESS", "display_address", 0x3C, 0x3C, 0x3D),
    ("BADGE_I2C_HZ", "i2c_hz", 400_000, 10_000, 1_000_000),
    ("BADGE_CONTRAST", "contrast", 255, 0, 255),
    ("BADGE_OUTBOX_SIZE", "outbox_size", 64, 1, 1024),
    # How often (ms) the background scanner looks at the ExpressLink module's EVENT pin:
    # a message waits in the module at most this long before the badge fetches it.
    ("BADGE_EVENT_SCAN_MS", "event_scan_ms", 2, 1, 50),
    # OLED burn-in care: dim after this many idle seconds (0 = never), to this contrast;
    # shift the picture by a pixel every so many seconds (0 = never).
    ("BADGE_DIM_AFTER_S", "dim_after_s", 300, 0, 86400),
    ("BADGE_DIM_CONTRAST", "dim_contrast", 16, 0, 255),
    ("BADGE_SHIFT_EVERY_S", "shift_every_s", 60, 0, 3600),
)
# The pin map, read by boot.py, code.py and the simulator: (key, attribute, default pin
# name on the Pico). Names, not pins: only boot.py and code.py look them up in ``board``.
PINS = (
    ("BADGE_PIN_SDA", "pin_sda", "GP4"),  # I2C0: the OLED and the SHT31-D
    ("BADGE_PIN_SCL", "pin_scl", "GP5"),
    ("BADGE_PIN_UART_TX", "pin_uart_tx", "GP0"),  # UART0 to the ExpressLink module
    ("BADGE_PIN_UART_RX", "pin_uart_rx", "GP1"),
    ("BADGE_PIN_EVENT", "pin_event", "GP10"),  # from the module, active high
    ("BADGE_PIN_WAKE", "pin_wake", "GP11"),  # to the module, active low
    ("BADGE_PIN_RESET", "pin_reset", "GP12"),  # to the module, active low
    ("BADGE_PIN_BUTTON_A", "pin_button_a", "GP13"),  # buttons to ground
    ("BADGE_PIN_BUTTON_B", "pin_button_b", "GP14"),
    ("BADGE_PIN_BUTTON_C", "pin_button_c", "GP15"),
    ("BADGE_PIN_LED", "pin_led", "GP25"),
)


# Keys earlier firmware read, and what to use instead.
_RETIRED = (
    ("BADGE_POLL_MS", "the badge no longer polls its inputs; BADGE_EVENT_SCAN_MS sets "
     "how soon it sees a message (1..50 ms)"),
)


class Settings:
    """Plain attributes named after the keys (``sample_period_s``, ``pin_sda``...).

    No methods: a settings object keeps nothing of this module alive, so code.py can
    let the module go once the hardware is built (about 4 KB of heap).
    """


def _as_int(value):
    if isinstance(value, int) and not isinstance(value, bool):
        return value
    if isinstance(value, str):
        text = value.strip()
        base = 16 if text[:2] in ("0x", "0X") else 10
        return int(text, base)  # ValueError for anything else
    raise ValueError("not a whole number")


def _read(getenv, key, log, example):
    """``getenv(key)``, or None (logged) when CircuitPython cannot read its line."""
    try:
        return getenv(key)
    except ValueError as error:
        log("settings", "the %s line in settings.toml cannot be read (%s): write it as "
            "%s = %s; using the default" % (key, error, key, example))
        return None


def _pin_name(getenv, key, default, log):
    """The pin name set for ``key``, or ``default`` (logged when the value is bad)."""
    raw = _read(getenv, key, log, '"%s"' % default)
    if raw is None:
        return default
    if not isinstance(raw, str) or not raw:
        log("settings", "%s = %r is not valid: use a quoted name like \"%s\"; "
            "using \"%s\"" % (key, raw, default, default))
        return default
    return raw


def _pin_entry(attr):
    for entry in PINS:
        if entry[1] == attr:
            return entry
    raise KeyError(attr)


def board_pin(board, attr, name, log):
    """``board.<name>`` for the pin setting ``attr``; its default pin (logged) when the
    board has no pin of that name, so a typo never stops the badge."""
    found = getattr(board, name, None)
    if found is None:
        default = _pin_entry(attr)[2]
        log("settings", "no pin board.%s; using %s" % (name, default))
        found = getattr(board, default)
    return found


def read_pin(board, getenv, attr, log):
    """One pin of the map straight from settings.toml (boot.py needs only button A)."""
    key, _attr, default = _pin_entry(attr)
    return board_pin(board, attr, _pin_name(getenv, key, default, log), log)


def load_settings(getenv, log):
    """Read every key through ``getenv`` (``os.getenv`` on the badge)."""
    settings = Settings()
    for key, attr, default, low, high in _INTEGERS:
        setattr(settings, attr, default)
        raw = _read(getenv, key, log, default)
        if raw is None:
            continue
        try:
            value = _as_int(raw)
        except ValueError:
            value = None
        if value is None or not low <= value <= high:
            log("settings", "%s = %r is not valid: use a whole number from %d to %d; "
                "using %d" % (key, raw, low, high, default))
            continue
        setattr(settings, attr, value)
    for key, attr, name in PINS:
        setattr(settings, attr, _pin_name(getenv, key, name, log))
    for key, advice in _RETIRED:
        if _read(getenv, key, log, "nothing (delete the line)") is not None:
            log("settings", "%s is no longer used: %s" % (key, advice))
    return settings
