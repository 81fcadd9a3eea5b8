"""Emulated SSD1306 128x64 OLED controller on I2C: command decoder, GDDRAM, panel image.

Written from the SSD1306 datasheet (Solomon Systech). Modelling choices where the
datasheet is silent:

- A pending command argument survives control bytes and STOP (drivers send ``80 xx``
  per byte). Control bytes are decoded by their Co and D/C# bits alone.
- Every byte read returns the status byte: bit 6 = display off, low bits ``status_id``
  (0x06 by default; modules report 0x03, 0x04 or 0x06). GDDRAM is never readable.
- Unknown opcodes (``AD``, ``23``, ``D6``, ...) are logged one-byte no-ops; any argument
  value is accepted. Invalid values (20 03, A8 < 0x0E) are logged and ignored.
- Page mode wraps column 127 back to the 00-1F start address; window and page commands
  outside "their" addressing mode are applied anyway.
- Segment remap applies at write time (RAM is indexed by SEG); COM direction, start
  line, offset, multiplex, DA, inverse, A4/A5 apply when the panel is looked at.
- The panel follows the usual 128x64 module: ``x = 127 - seg``, ``y = 63 - row`` with
  the datasheet's COM pins table (DA, Table 10-3). A5 beats A7. Display off, or charge
  pump off without ``external_vcc``, shows a dark panel. The ~100 ms switch-on ramp
  after AF is not modelled.
- Scrolling: setups and 2E/2F are recorded (``scroll_setup``, ``scrolling``) but the
  image is shown static, unscrolled.
- GDDRAM starts as zeros and survives ``reset()`` (it is not in the reset list).
"""

import logging

from sim.chips.ssd1306_panel import WIDTH, panel_pixels, pixels_to_image
from sim.core.i2c_bus import I2CTarget, Nack

_log = logging.getLogger("sim.chips.ssd1306")

PAGES = 8
ADDRESSES = (0x3C, 0x3D)

HORIZONTAL = 0
VERTICAL = 1
PAGE = 2

_STATUS_DISPLAY_OFF = 0x40
_FOSC_HZ = 370_000  # typical oscillator frequency at the reset D5 setting


class SSD1306(I2CTarget):
    """The controller at ``address`` (0x3C, or 0x3D with SA0 high).

    Fault knobs: ``present`` (False: gone from the bus), ``nack`` (NACK every transfer).
    Counters: ``writes`` (write transactions with at least one byte), ``frame_count``
    (write transactions after which the panel may show something new),
    ``data_bytes_written``, ``last_data_write_s`` (clock time of the last transaction
    carrying GDDRAM data, None before), ``unknown_commands``. ``frame_listeners``:
    callables() told each time ``frame_count`` goes up (views; they must not write).
    """

    def __init__(self, clock, address=0x3C, *, status_id=0x06):
        if address not in ADDRESSES:
            raise ValueError("SSD1306 address must be 0x3C or 0x3D")
        self.clock = clock
        self.address = address
        self.present = True
        self.nack = False
        self.external_vcc = False
        self.status_id = status_id & 0x3F
        self.ram = bytearray(WIDTH * PAGES)  # index page * 128 + seg, bit 0 = top row
        self.writes = 0
        self.frame_count = 0
        self.data_bytes_written = 0
        self.last_data_write_s = None
        self.unknown_commands = 0
        self.frame_listeners = []
        self._commands = self._command_table()
        self.reset()

    # -- RES# -------------------------------------------------------------------------
    def reset(self):
        """RES# pulse: every register to its reset value; GDDRAM is kept."""
        self.display_on = False
        self.contrast = 0x7F
        self.entire_on = False
        self.inverted = False
        self.charge_pump = False
        self.addressing_mode = PAGE
        self.column_window = (0, WIDTH - 1)
        self.page_window = (0, PAGES - 1)
        self.column = 0
        self.page = 0
        self.page_column_start = 0
        self.start_line = 0
        self.segment_remap = False
        self.com_scan_reversed = False
        self.multiplex_ratio = 64
        self.display_offset = 0
        self.com_pins = 0x12
        self.clock_divide = 0x80
        self.precharge = 0x22
        self.vcomh = 0x20
        self.scroll_setup = None
        self.scrolling = False
        self.vertical_scroll_area = (0, 64)
        self._pending = None  # [opcode, args wanted, args so far]
        self._changed = False

    # -- I2C target ---------------------------------------------------------------------
    def ack_address(self, direction):
        if self.nack:
            raise Nack("SSD1306 nack knob")

    def write(self, data):
        if not data:
            return
        self.writes += 1
        self._changed = False
        carried_data = False
        i = 0
        n = len(data)
        while i < n:
            control = data[i]
            i += 1
            if control & 0x3F:
                _log.warning("control byte 0x%02x has bits 5-0 set", control)
            is_data = bool(control & 0x40)
            if control & 0x80:  # Co = 1: exactly one byte, then another control byte
                if i >= n:
                    break
                chunk = data[i : i + 1]
                i += 1
            else:  # Co = 0: every remaining byte
                chunk = data[i:]
                i = n
            if is_data:
                self._write_ram(chunk)
                carried_data = True
            else:
                for byte in chunk:
                    self._command_byte(byte)
        if carried_data:
            self.last_data_write_s = self.clock.now()
        if self._changed:
            self.frame_count += 1
            for listener in self.frame_listeners:
                listener()

    def read(self, count):
        return bytes((self.status,)) * count

    @property
    def status(self):
        """The status byte: bit 6 = display off, low bits ``status_id``."""
        return self.status_id | (0 if self.display_on else _STATUS_DISPLAY_OFF)

    # -- GDDRAM -------------------------------------------------------------------------
    def _write_ram(self, chunk):
        if self.scrolling:
            _log.warning("GDDRAM written while scrolling is active")
        ram = self.ram
        for byte in chunk:
            seg = WIDTH - 1 - self.column if self.segment_remap else self.column
            ram[self.page * WIDTH + seg] = byte
            self._advance()
        self.data_bytes_written += len(chunk)
        self._changed = True

    def _advance(self):
        col_start, col_end = self.column_window
        page_start, page_end = self.page_window
        if self.addressing_mode == HORIZONTAL:
            self.column += 1
            if self.column > col_end:
                self.column = col_start
                self.page += 1
                if self.page > page_end:
                    self.page = page_start
        elif self.addressing_mode == VERTICAL:
            self.page += 1
            if self.page > page_end:
                self.page = page_start
                self.column += 1
                if self.column > col_end:
                    self.column = col_start
        else:
            self.column += 1
            if self.column > WIDTH - 1:
                self.column = self.page_column_start

    # -- commands -----------------------------------------------------------------------
    def _command_byte(self, byte):
        pending = self._pending
        if pending is not None:
            pending[2].append(byte)
            if len(pending[2]) == pending[1]:
                self._pending = None
                self._execute(pending[0], pending[2])
            return
        entry = self._commands.get(byte)
        if entry is None:
            self.unknown_commands += 1
            _log.warning("unknown command 0x%02x ignored", byte)
            return
        if entry[0]:
            self._pending = [byte, entry[0], []]
        else:
            self._execute(byte, [])

    def _execute(self, opcode, args):
        nargs, handler, visible = self._commands[opcode]
        if self.scrolling and opcode not in (0x2E, 0xAE, 0xAF):
            _log.warning("command 0x%02x while scrolling is active", opcode)
        handler(opcode, args)
        if visible:
            self._changed = True

    def _command_table(self):
        """opcode -> (argument count, handler(opcode, args), changes the panel)."""
        table = {
            0x81: (1, self._cmd_contrast, True),
            0xA4: (0, self._cmd_entire, True),
            0xA5: (0, self._cmd_entire, True),
            0xA6: (0, self._cmd_inverse, True),
            0xA7: (0, self._cmd_inverse, True),
            0xAE: (0, self._cmd_display, True),
            0xAF: (0, self._cmd_display, True),
            0x26: (6, self._cmd_scroll_setup, False),
            0x27: (6, self._cmd_scroll_setup, False),
            0x29: (5, self._cmd_scroll_setup, False),
            0x2A: (5, self._cmd_scroll_setup, False),
            0x2E: (0, self._cmd_scrolling, False),
            0x2F: (0, self._cmd_scrolling, False),
            0xA3: (2, self._cmd_vertical_scroll_area, False),
            0x20: (1, self._cmd_addressing_mode, False),
            0x21: (2, self._cmd_column_window, False),
            0x22: (2, self._cmd_page_window, False),
            0xA0: (0, self._cmd_segment_remap, False),
            0xA1: (0, self._cmd_segment_remap, False),
            0xA8: (1, self._cmd_multiplex, True),
            0xC0: (0, self._cmd_com_scan, True),
            0xC8: (0, self._cmd_com_scan, True),
            0xD3: (1, self._cmd_display_offset, True),
            0xDA: (1, self._cmd_com_pins, True),
            0xD5: (1, self._cmd_register, False),
            0xD9: (1, self._cmd_register, False),
            0xDB: (1, self._cmd_register, False),
            0xE3: (0, self._cmd_nop, False),
            0x8D: (1, self._cmd_charge_pump, True),
        }
        for opcode in range(0x00, 0x20):
            table[opcode] = (0, self._cmd_page_column, False)
        for opcode in range(0xB0, 0xB8):
            table[opcode] = (0, self._cmd_page, False)
        for opcode in range(0x40, 0x80):
            table[opcode] = (0, self._cmd_start_line, True)
        return table

    def _cmd_contrast(self, opcode, args):
        self.contrast = args[0]

    def _cmd_entire(self, opcode, args):
        self.entire_on = opcode == 0xA5

    def _cmd_inverse(self, opcode, args):
        self.inverted = opcode == 0xA7

    def _cmd_display(self, opcode, args):
        self.display_on = opcode == 0xAF

    def _cmd_scroll_setup(self, opcode, args):
        if args[2] & 0x07 > args[3] & 0x07:
            _log.warning("scroll setup 0x%02x: end page before start page", opcode)
        self.scroll_setup = (opcode, tuple(args))

    def _cmd_scrolling(self, opcode, args):
        if opcode == 0x2F and self.scroll_setup is None:
            _log.warning("scrolling started without a setup")
        self.scrolling = opcode == 0x2F

    def _cmd_vertical_scroll_area(self, opcode, args):
        self.vertical_scroll_area = (args[0] & 0x3F, args[1] & 0x7F)

    def _cmd_addressing_mode(self, opcode, args):
        mode = args[0] & 0x03
        if mode == 0x03:
            _log.warning("invalid addressing mode 0x%02x ignored", args[0])
            return
        self.addressing_mode = mode

    def _cmd_column_window(self, opcode, args):
        start, end = args[0] & 0x7F, args[1] & 0x7F
        if start > end:
            _log.warning("column window %d..%d: start after end", start, end)
        self.column_window = (start, end)
        self.column = start

    def _cmd_page_window(self, opcode, args):
        start, end = args[0] & 0x07, args[1] & 0x07
        if start > end:
            _log.warning("page window %d..%d: start after end", start, end)
        self.page_window = (start, end)
        self.page = start

    def _cmd_page_column(self, opcode, args):
        if opcode < 0x10:
            start = (self.page_column_start & 0x70) | (opcode & 0x0F)
        else:
            start = ((opcode & 0x07) << 4) | (self.page_column_start & 0x0F)
        self.page_column_start = start
        self.column = start

    def _cmd_page(self, opcode, args):
        self.page = opcode & 0x07

    def _cmd_start_line(self, opcode, args):
        self.start_line = opcode & 0x3F

    def _cmd_segment_remap(self, opcode, args):
        self.segment_remap = opcode == 0xA1

    def _cmd_multiplex(self, opcode, args):
        value = args[0] & 0x3F
        if value < 15:
            _log.warning("invalid multiplex ratio 0x%02x ignored", args[0])
            return
        self.multiplex_ratio = value + 1

    def _cmd_com_scan(self, opcode, args):
        self.com_scan_reversed = opcode == 0xC8

    def _cmd_display_offset(self, opcode, args):
        self.display_offset = args[0] & 0x3F

    def _cmd_com_pins(self, opcode, args):
        if args[0] & 0xCF != 0x02:
            _log.warning("COM pins value 0x%02x has unexpected bits", args[0])
        self.com_pins = (args[0] & 0x30) | 0x02

    def _cmd_register(self, opcode, args):
        value = args[0]
        if opcode == 0xD5:
            self.clock_divide = value
        elif opcode == 0xD9:
            if not value & 0x0F or not value & 0xF0:
                _log.warning("pre-charge 0x%02x: a phase of 0 is invalid", value)
            self.precharge = value
        else:
            self.vcomh = value

    def _cmd_nop(self, opcode, args):
        pass

    def _cmd_charge_pump(self, opcode, args):
        self.charge_pump = bool(args[0] & 0x04)

    # -- the panel ------------------------------------------------------------------------
    @property
    def panel_lit(self):
        """True when SEG/COM drivers run: display on, and VCC from the pump or outside."""
        return self.display_on and (self.charge_pump or self.external_vcc)

    @property
    def frame_rate_hz(self):
        """Panel refresh rate, Fosc / (D * K * N), for the typical Fosc of 370 kHz."""
        divide = (self.clock_divide & 0x0F) + 1
        k = (self.precharge & 0x0F) + (self.precharge >> 4) + 50
        return _FOSC_HZ / (divide * k * self.multiplex_ratio)

    def panel_pixels(self):
        """The lit pixels, 64 rows of 128 bytes (0/1), row-major: index y * 128 + x."""
        return panel_pixels(self)

    def to_image(self, scale=1):
        """The panel as a PIL image, mode "1" (white = lit), ``scale`` times bigger."""
        return pixels_to_image(self.panel_pixels(), scale)

    def save_png(self, path, scale=1):
        """Write the panel image to ``path`` as PNG."""
        self.to_image(scale).save(path, format="PNG")
