"""One command/response exchange at a time, sans I/O: bytes in, results out, time passed in."""

from micropython import const

from expresslink.errors import ModuleError, ProtocolError, StateError
from expresslink.lines import LINE_CAPACITY, LineAssembler
from expresslink.escape import unescape
from expresslink.responses import Response, parse_head

_MAX_EXTRA_BYTES = const(16384)  # all extra lines of one response together
_TICKS_PERIOD = const(1 << 29)  # same wrap as supervisor.ticks_ms / adafruit_ticks
_TICKS_HALF = const(1 << 28)
_IDLE = const(0)
_HEAD = const(1)  # waiting for the OK/ERR line
_EXTRA = const(2)  # reading the lines an OK{n} announced


def ticks_diff(a_ms, b_ms):
    """Signed ``a - b`` in ms for tick counts that wrap at 2**29."""
    return ((a_ms - b_ms + _TICKS_HALF) % _TICKS_PERIOD) - _TICKS_HALF


class Exchange:
    """Matches the module's reply to the one command in flight.

    ``start`` begins an exchange (raises StateError if one is running) and drops any
    bytes received before it; ``receive`` buffers bytes; ``next_result`` returns a
    Response, None (more bytes needed), raises ModuleError (the module said ERR; the
    exchange is over and the link in step) or ProtocolError (bad bytes; the exchange
    is over and the link must be resynchronised). ``expired(now_ms)`` says the deadline
    has passed; the caller then calls ``abort``.
    """

    def __init__(self, capacity=LINE_CAPACITY):
        self.assembler = LineAssembler(capacity)
        self._state = _IDLE
        self._deadline_ms = 0
        self._count = 0
        self._detail = None
        self._extra = []
        self._extra_bytes = 0

    @property
    def busy(self):
        """True while a command is in flight."""
        return self._state != _IDLE

    def start(self, command, now_ms, timeout_ms):
        """Begin waiting for the reply to ``command`` (bytes); returns ``command``."""
        if self._state != _IDLE:
            raise StateError("a command is already in flight")
        if timeout_ms <= 0 or timeout_ms >= _TICKS_HALF:
            raise ValueError("timeout_ms out of range")
        self.assembler.clear()
        self.assembler.drop_glitches = True
        self._deadline_ms = (now_ms + timeout_ms) % _TICKS_PERIOD
        self._state = _HEAD
        self._detail = None
        self._extra = []
        self._extra_bytes = 0
        return command

    def receive(self, data):
        """Buffer bytes from the module."""
        self.assembler.receive(data)

    def deadline_ms(self):
        """Tick count (ms) by which the reply must be complete, or None when idle."""
        return self._deadline_ms if self._state != _IDLE else None

    def expired(self, now_ms):
        """True when a command is in flight and its deadline has passed."""
        return self._state != _IDLE and ticks_diff(now_ms, self._deadline_ms) >= 0

    def abort(self):
        """Give up on the command in flight (timeout or cancellation)."""
        self._state = _IDLE
        self._extra = []
        self.assembler.clear()

    def next_result(self):
        """Return the Response once complete, else None; see the class docstring."""
        if self._state == _IDLE:
            raise StateError("no command in flight")
        try:
            while True:
                line = self.assembler.next_line()
                if line is None:
                    return None
                if self._state == _HEAD:
                    if not line:
                        continue  # a stray EOL before the reply
                    count, detail = parse_head(bytes(line))
                    if count == 0:
                        self._state = _IDLE
                        return Response(detail, ())
                    self._count = count
                    self._detail = detail
                    self._state = _EXTRA
                    self.assembler.drop_glitches = False  # payload bytes are kept as sent
                    continue
                self._extra_bytes += len(line)
                if self._extra_bytes > _MAX_EXTRA_BYTES:
                    raise ProtocolError("extra lines over %d bytes" % _MAX_EXTRA_BYTES)
                self._extra.append(unescape(line))
                if len(self._extra) == self._count:
                    self._state = _IDLE
                    lines = tuple(self._extra)
                    self._extra = []
                    return Response(self._detail, lines)
        except ModuleError:
            self._state = _IDLE
            raise
        except ProtocolError:
            self.abort()
            raise
