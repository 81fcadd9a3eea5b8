"""Split the module's byte stream into lines in one bounded, preallocated buffer."""

from micropython import const

from expresslink.errors import LineTooLong

LINE_CAPACITY = const(9728)  # bytes per line: a 9 KB message escaped, plus "OK " and slack
_LF = const(0x0A)
_CR = const(0x0D)
_UNKNOWN = const(-2)  # EOL position not searched yet in the current chunk
# Bytes a module emits around reset/power-up; dropped at the start of a line.
_GLITCH = b"\x00\xff\xfe\xfd\xfc\xfb\xfa"


class LineAssembler:
    """Collects bytes up to an EOL (CR LF, lone LF or lone CR) and hands out lines.

    ``receive`` keeps a reference to the chunk; ``next_line`` copies from it into the
    line buffer and returns a memoryview of one line without its EOL, valid until the
    next call, or None when more bytes are needed. Every byte is examined once: EOL
    positions found in a chunk are remembered. A line longer than ``capacity`` raises
    LineTooLong (a ProtocolError) once; its remaining bytes up to the next EOL are dropped.
    ``drop_glitches`` removes 0x00 and 0xFA-0xFF bytes at the start of a line.
    """

    def __init__(self, capacity=LINE_CAPACITY):
        if capacity < 16:
            raise ValueError("line capacity too small")
        self.capacity = capacity
        self._buf = bytearray(capacity)
        self._view = memoryview(self._buf)
        self.drop_glitches = True
        self.clear()

    def clear(self):
        """Forget every byte received so far (a drain)."""
        self._chunk = b""
        self._chunk_view = memoryview(self._chunk)
        self._offset = 0
        self._lf_at = _UNKNOWN
        self._cr_at = _UNKNOWN
        self._length = 0
        self._after_cr = False
        self._discarding = False

    def pending(self):
        """Bytes held: the partial line plus the chunk bytes not yet examined."""
        return self._length + len(self._chunk) - self._offset

    def receive(self, data):
        """Add bytes from the module (bytes, bytearray or memoryview)."""
        if not data:
            return
        if not isinstance(data, (bytes, bytearray)):
            data = bytes(data)
        if self._offset < len(self._chunk):
            data = bytes(self._chunk[self._offset :]) + bytes(data)
        self._chunk = data
        self._chunk_view = memoryview(data)
        self._offset = 0
        self._lf_at = _UNKNOWN
        self._cr_at = _UNKNOWN

    def _find_eol(self, offset):
        chunk = self._chunk
        lf = self._lf_at
        if lf == _UNKNOWN or 0 <= lf < offset:
            lf = self._lf_at = chunk.find(b"\n", offset)
        cr = self._cr_at
        if cr == _UNKNOWN or 0 <= cr < offset:
            cr = self._cr_at = chunk.find(b"\r", offset)
        if lf < 0:
            return cr
        if cr < 0 or lf < cr:
            return lf
        return cr

    def next_line(self):
        """Return the next complete line (memoryview) or None if more bytes are needed."""
        chunk = self._chunk
        end = len(chunk)
        offset = self._offset
        while offset < end:
            if self._after_cr:
                self._after_cr = False
                if chunk[offset] == _LF:
                    offset += 1
                    continue
            if self._length == 0 and not self._discarding and self.drop_glitches:
                while offset < end and chunk[offset] in _GLITCH:
                    offset += 1
                if offset == end:
                    break
            eol = self._find_eol(offset)
            stop = end if eol < 0 else eol
            count = stop - offset
            if not self._discarding:
                if self._length + count > self.capacity:
                    self._discarding = True
                    self._length = 0
                    self._offset = stop
                    raise LineTooLong("line longer than %d bytes" % self.capacity)
                self._view[self._length : self._length + count] = self._chunk_view[offset:stop]
                self._length += count
            if eol < 0:
                offset = end
                break
            offset = eol + 1
            self._after_cr = chunk[eol] == _CR
            if self._discarding:
                self._discarding = False
                continue
            self._offset = offset
            length = self._length
            self._length = 0
            return self._view[:length]
        self._offset = offset
        if offset >= end:
            self._chunk = b""
            self._chunk_view = memoryview(self._chunk)
            self._offset = 0
            self._lf_at = _UNKNOWN
            self._cr_at = _UNKNOWN
        return None
