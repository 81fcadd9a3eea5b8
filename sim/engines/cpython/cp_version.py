"""What the CircuitPython version on the badge changes, for the simulator's shims.

Read off CircuitPython's source (tags 9.0.5, 9.1.0, 9.2.1, 10.0.3, 10.1.x, 10.2.1):

- **floats** are 32-bit IEEE values stored in a 30-bit object (``MICROPY_OBJ_REPR_C``):
  storing a float clears its 2 low mantissa bits. Up to 10.1.x reading it back leaves
  them 0 (every stored float is truncated towards zero); from 10.2.0 reading copies the
  two bits above them into the gap (``py/obj.h``, ``mp_obj_float_get``).
- **asyncio.sleep(t)** is ``sleep_ms(int(t * 1000))`` in the asyncio port, so with the
  float rules above ``sleep(0.016)`` sleeps 15 ms and ``sleep(0.001)`` 0 ms on 9.x-10.1.x.
- **os.getenv** up to 10.1.x returns an int for a bare value and raises ValueError for a
  bare value that is not an integer or a malformed line (``shared-module/os/getenv.c``);
  from 10.2.0 it returns the value as ``str`` and ``default`` for anything it cannot read
  (``supervisor/shared/settings.c``).
- **keypad** before 9.1.0 queues a "pressed" event for a key already held when the
  scanner is made (its first scan runs in the constructor with everything released as
  the previous state); 9.1.0 added debouncing, which absorbs it.
- **sys.print_exception** warns on 9.2 and is gone in 10 (``traceback`` instead).
- **storage.remount** of ``/`` while the drive is visible over USB raises RuntimeError,
  with a message that changed in 10.0.
"""

import struct

SUPPORTED = ("9.2.1", "10.0.3", "10.2.1")
NEWEST = "10.2.1"


class CPVersion:
    """One CircuitPython version, e.g. ``CPVersion("9.2.1")``; compares as a tuple."""

    def __init__(self, text=NEWEST):
        try:
            parts = tuple(int(p) for p in str(text).split("."))
        except ValueError:
            parts = ()
        if len(parts) != 3 or parts[0] not in (9, 10):
            raise ValueError("CircuitPython version %r: use one of %s (9.x or 10.x)"
                             % (text, ", ".join(SUPPORTED)))
        self.text = str(text)
        self.parts = parts

    def __repr__(self):
        return "CPVersion(%r)" % self.text

    def at_least(self, *parts):
        return self.parts >= parts

    # -- behaviour --------------------------------------------------------------------
    @property
    def float_fills_low_bits(self):
        return self.at_least(10, 2, 0)

    @property
    def getenv_returns_str(self):
        return self.at_least(10, 2, 0)

    @property
    def keypad_reports_key_held_at_start(self):
        return not self.at_least(9, 1, 0)

    @property
    def has_sys_print_exception(self):
        return not self.at_least(10, 0, 0)

    @property
    def remount_refusal(self):
        if self.at_least(10, 0, 0):
            return "Cannot remount path when visible via USB."
        return "Cannot remount '/' when visible via USB."

    # -- floats --------------------------------------------------------------------------
    def float(self, value):
        """``value`` as the badge holds it in a float object."""
        bits = struct.unpack("<I", struct.pack("<f", value))[0] & ~3
        if self.float_fills_low_bits:
            bits |= (bits >> 2) & 3
        return struct.unpack("<f", struct.pack("<I", bits))[0]

    def sleep_ms(self, seconds):
        """The whole milliseconds that ``asyncio.sleep(seconds)`` sleeps on the badge:
        ``int(t * 1000)`` in single precision, each float stored as an object."""
        product = struct.unpack("<f", struct.pack("<f", self.float(seconds) * 1000.0))[0]
        return max(0, int(self.float(product)))


# -- settings.toml, as os.getenv reads it ---------------------------------------------

_NL = 0x0A


def _isspace(byte):
    return byte == 0x20 or 0x09 <= byte <= 0x0D


class _Reader:
    """The C code's view of the file: one byte at a time, 0 at the end."""

    def __init__(self, data):
        self._data = data
        self.pos = 0

    def next(self):
        if self.pos >= len(self._data):
            return 0
        byte = self._data[self.pos]
        self.pos += 1
        return byte

    def eof(self):
        return self.pos >= len(self._data)

    def seek_eof(self):
        self.pos = len(self._data)

    def next_line(self):
        byte = self.next()
        while byte not in (0, _NL):
            byte = self.next()

    def consume_whitespace(self):
        byte = self.next()
        while byte not in (0, _NL) and _isspace(byte):
            byte = self.next()
        return byte


class _Bad(Exception):
    """A value CircuitPython cannot read; ``args[0]`` is its error text."""


def _byte_text(byte):
    return "'EOF'" if byte == 0 else repr(chr(byte))


def _key_matches(reader, key):
    byte = reader.consume_whitespace()
    if byte in (ord("["), 0):  # [sections] are not supported: nothing after one counts
        reader.seek_eof()
        return False
    for want in key:
        if byte != want:
            if byte != _NL:
                reader.next_line()
            return False
        byte = reader.next()
    if _isspace(byte):
        byte = reader.consume_whitespace()
    if byte != ord("="):
        if byte != _NL:
            reader.next_line()
        return False
    return True


def _read_string(reader):
    out = bytearray()
    while True:
        byte = reader.next()
        if byte in (0, _NL):
            raise _Bad("Invalid byte %s" % _byte_text(byte))
        if byte == ord('"'):
            byte = reader.consume_whitespace()
            if byte == ord("#"):
                reader.next_line()
                return bytes(out)
            if byte in (0, _NL):
                return bytes(out)
            raise _Bad("Invalid byte %s" % _byte_text(byte))
        if byte == ord("\\"):
            byte = reader.next()
            if byte in (0, _NL):
                raise _Bad("Invalid byte %s" % _byte_text(byte))
            if byte in b"uU":
                size = 4 if byte == ord("u") else 8
                digits = bytes(reader.next() for _ in range(size))
                try:
                    code = int(digits.decode("latin-1"), 16)
                except ValueError:
                    raise _Bad("Invalid byte %s" % _byte_text(digits[-1])) from None
                if code >= 0x110000:
                    raise _Bad("Invalid unicode escape")
                out += chr(code).encode("utf-8", "surrogatepass")
                continue
            byte = {ord("b"): 8, ord("r"): 13, ord("n"): 10, ord("t"): 9, ord("v"): 11,
                    ord("f"): 12}.get(byte, byte)
        out.append(byte)


def _read_bare(reader, byte, trim):
    out = bytearray()
    while byte not in (0, _NL):
        if byte == ord("#"):
            reader.next_line()
            break
        out.append(byte)
        byte = reader.next()
    if trim:
        out = out.rstrip(b" \t\r")
    return bytes(out)


def _find(data, key):
    """(found, quoted, raw bytes) for ``key`` (the first line naming it).

    Raises _Bad when that line's value cannot be read."""
    reader = _Reader(data)
    key_bytes = key.encode("utf-8")
    while not reader.eof():
        if _key_matches(reader, key_bytes):
            byte = reader.consume_whitespace()
            if byte == ord('"'):
                return True, True, _read_string(reader)
            return True, False, _read_bare(reader, byte, False) if byte else b""
    return False, False, None


def _parse_int(text):
    """MicroPython's ``mp_parse_num_integer(text, base=0)`` for settings values."""
    body = text.strip(" \t\n\r\v\f")
    sign = 1
    if body[:1] in ("+", "-"):
        sign = -1 if body[0] == "-" else 1
        body = body[1:]
    base = 10
    prefix = body[:2].lower()
    if prefix in ("0x", "0o", "0b"):
        base = {"0x": 16, "0o": 8, "0b": 2}[prefix]
        body = body[2:]
    if not body or not all(c in "0123456789abcdefghijklmnopqrstuvwxyz"[:base]
                           for c in body.lower()):
        # The base it names is the one in effect after the prefix (10 without one).
        raise ValueError("invalid syntax for integer with base %d" % base)
    return sign * int(body, base)


def getenv(data, key, default, version):
    """``os.getenv(key, default)`` on the badge whose CIRCUITPY/settings.toml holds
    ``data`` (bytes, or None when there is no such file)."""
    if not isinstance(key, str):
        raise TypeError("can't convert %s to str" % type(key).__name__)
    if data is None:
        return default
    if version.getenv_returns_str:
        return _getenv_str(data, key, default)
    try:
        found, quoted, raw = _find(data, key)
    except _Bad as error:
        raise ValueError(error.args[0]) from None
    if not found:
        return default
    text = raw.decode("utf-8", "replace")
    return text if quoted else _parse_int(text)


def _getenv_str(data, key, default):
    reader = _Reader(data)
    key_bytes = key.encode("utf-8")
    while not reader.eof():
        if not _key_matches(reader, key_bytes):
            continue
        byte = reader.consume_whitespace()
        try:
            if byte == ord('"'):
                raw = _read_string(reader)
            elif byte in (0, _NL):
                return default
            else:
                raw = _read_bare(reader, byte, True)
        except _Bad:
            return default
        return raw.decode("utf-8", "replace")
    return default
