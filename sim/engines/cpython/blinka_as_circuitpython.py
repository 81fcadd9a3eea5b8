"""Blinka's displayio, made to behave as CircuitPython's does where the badge can tell.

The CPython engine draws with Blinka's displayio (``adafruit-blinka-displayio``), which
differs from CircuitPython's C implementation in ways that change what the badge does or
shows: a background refresh thread, a display bus that neither probes its address nor
owns its I2C bus across a reload, and the built-in font's glyph metrics. Each function
here puts one of those right for a run, through a :class:`~sim.engines.cpython.patches.Patched`.
"""


def quiet_displayio():
    """Stop blinka_displayio's background refresh thread: the badge's display task
    refreshes explicitly, and a thread would race the simulator's clock."""
    import displayio

    displayio._stop_background()
    displayio.release_displays()


def display_bus_as_on_circuitpython(patches):
    """Make Blinka's I2CDisplayBus behave as CircuitPython's does.

    CircuitPython probes the address when the display bus is built (ValueError
    "Unable to find I2C Display at 3c" when nobody answers), and releasing the
    display leaves an I2C bus that the caller created alone, unless a soft reload
    has happened since: then the display bus owns the I2C bus (CircuitPython moved
    it out of the finished VM's heap) and deinitialises it. It ignores the result
    of every write, so a display that drops off the bus goes unnoticed
    (``common_hal_i2cdisplaybus_i2cdisplaybus_send``). Blinka does none of this.
    """
    import i2cdisplaybus

    cls = i2cdisplaybus.I2CDisplayBus
    original_init = cls.__init__

    def __init__(bus, i2c_bus, *, device_address, reset=None):
        while not i2c_bus.try_lock():
            pass
        try:
            i2c_bus.writeto(device_address, b"")
            found = True
        except OSError:
            found = False
        finally:
            i2c_bus.unlock()
        if not found:
            import displayio

            if bus in displayio.display_buses:  # Blinka registered it in __new__
                displayio.display_buses.remove(bus)
            raise ValueError("Unable to find I2C Display at %x" % device_address)
        original_init(bus, i2c_bus, device_address=device_address, reset=reset)

    def deinit(bus):
        if getattr(bus, "_sim_owns_i2c", False):
            bus._i2c.deinit()
        if getattr(bus, "_reset", None) is not None:
            bus.reset()
            bus._reset.deinit()

    original_send = cls._send

    def _send(bus, *args, **kwargs):
        try:
            original_send(bus, *args, **kwargs)
        except OSError:
            pass  # CircuitPython does not look at the I2C write's result

    patches.set(cls, "__init__", __init__)
    patches.set(cls, "deinit", deinit)
    patches.set(cls, "_send", _send)


def builtin_font_as_on_circuitpython(patches):
    """Give ``terminalio.FONT``'s glyphs CircuitPython's metrics.

    Blinka loads the same Terminus font from its BDF file, where every glyph is a
    6x12 box 2 rows below the baseline (dy = -2). CircuitPython's built-in font
    stores each glyph as a whole 6x12 tile and reports dx = dy = 0, shift_x = 6,
    shift_y = 0 (``common_hal_fontio_builtinfont_get_glyph``). Text laid out from
    Blinka's metrics sits one row lower than on the badge.
    """
    import fontio

    original = fontio.BuiltinFont.get_glyph
    tiles = {}

    def get_glyph(font, codepoint):
        glyph = tiles.get((id(font), codepoint))
        if glyph is None:
            found = original(font, codepoint)
            if found is None:
                return None
            glyph = fontio.Glyph(found.bitmap, found.tile_index, found.width,
                                 found.height, 0, 0, found.width, 0)
            tiles[(id(font), codepoint)] = glyph
        return glyph

    patches.set(fontio.BuiltinFont, "get_glyph", get_glyph)
