"""Bring the link back in step, sans I/O: bytes and time in, the next thing to do out."""

from micropython import const

from expresslink.errors import ProtocolError
from expresslink.exchange import ticks_diff

# Plans for Resync.start.
RESYNC = const(1)  # up to 3 tries, then pulse RST (when there is one)
READY = const(2)  # ping until ``timeout_ms`` has passed, then pulse RST (after power-up)
PULSE = const(3)  # pulse RST at once, then wait for the module to start
BOOT = const(4)  # the module is restarting by itself (RESET): wait for it to start

# What the caller does next (Resync.next_action).
SEND_PING = const(1)  # discard the input waiting in the UART, then write b"AT\n"
LISTEN = const(2)  # give bytes to receive() as they arrive; call again then or at wake_ms
PAUSE = const(3)  # leave the UART alone; call again at wake_ms
RESET_LOW = const(4)  # drive RST low (the module is held in reset)
RESET_HIGH = const(5)  # release RST (the module boots)
IN_STEP = const(6)  # done: the next command's reply will be its own
FAILED = const(7)  # done: the module does not answer

_TICKS_PERIOD = const(1 << 29)  # same wrap as supervisor.ticks_ms / adafruit_ticks
_ATTEMPTS = const(3)  # AT tries in one RESYNC before an RST pulse
_RETRY_MS = const(100)  # pause between AT tries while the module boots
_EVENT_STEP_MS = const(10)  # EVENT pin check interval while the module boots
# States: what next_action does next (and IN_STEP, FAILED: its last answer).
_SEND = const(8)  # send AT
_REPLY = const(9)  # wait for a bare OK until wake_ms
_SETTLE = const(10)  # OK seen: anything but EOLs before wake_ms spoils it
_RETRY = const(11)  # pause until wake_ms, then send AT
_LOW = const(12)  # pull RST low
_HIGH = const(13)  # release RST at wake_ms
_START = const(14)  # wait for the EVENT line to rise, until the boot deadline


def _later(now_ms, ms):
    return (now_ms + ms) % _TICKS_PERIOD


class Resync:
    """Decides each step of bringing the module's replies back in line with our commands.

    One try: drain, send ``AT``, wait up to ``ping_timeout_ms`` for a bare ``OK`` (other
    lines are late replies or garbage: skipped, counted in ``stray_lines``), then
    ``settle_ms`` of silence: anything but EOLs after that ``OK`` means it was a late
    reply, and the try failed. A RESYNC makes 3 tries. When the tries run out, a module
    with a reset line (``reset_line``) gets an RST pulse of ``reset_pulse_ms``, then up to
    ``startup_timeout_ms`` to start: the EVENT line rising (when there is one,
    ``event_line``: STARTUP is queued; it stays queued for the application), then ``AT``
    until it answers.

    ``assembler`` is the LineAssembler shared with the Exchange. Times are tick counts in
    ms that wrap at 2**29; the caller passes ``now_ms``, this class has no clock.
    """

    def __init__(self, assembler, *, event_line=False, reset_line=False,
                 ping_timeout_ms=1000, settle_ms=20, startup_timeout_ms=10000,
                 reset_pulse_ms=20):
        self._lines = assembler
        self._event_line = event_line
        self._reset_line = reset_line
        self.ping_timeout_ms = ping_timeout_ms
        self.settle_ms = settle_ms
        self.startup_timeout_ms = startup_timeout_ms
        self.reset_pulse_ms = reset_pulse_ms
        self.wake_ms = 0  # LISTEN, PAUSE, WATCH_EVENT: when to call next_action at the latest
        self.stray_lines = 0
        self.hard_resets = 0
        self._state = FAILED
        self._tries = 0  # AT tries left (RESYNC)
        self._until = None  # or: tick (ms) after which no new try starts
        self._may_pulse = False  # pulse RST when the tries run out

    def start(self, now_ms, plan, timeout_ms=0):
        """Begin ``plan``: RESYNC, READY (with ``timeout_ms``), PULSE (needs
        ``reset_line``) or BOOT."""
        if plan == PULSE and not self._reset_line:
            raise ValueError("no reset line")
        self._tries = _ATTEMPTS
        self._until = _later(now_ms, timeout_ms) if plan == READY else None
        self._may_pulse = self._reset_line and plan != BOOT
        self._state = _LOW if plan == PULSE else _SEND
        if plan == BOOT:
            self._boot(now_ms)

    def receive(self, data):
        """Bytes from the module, read while the last action was LISTEN."""
        self._lines.receive(data)

    def _boot(self, now_ms):
        self._state = _START if self._event_line else _SEND
        self._until = _later(now_ms, self.startup_timeout_ms)

    def _try_failed(self, now_ms):
        if self._until is None:
            self._tries -= 1
            if self._tries > 0:
                self._state = _SEND
                return
        elif ticks_diff(now_ms, self._until) < 0:
            self._state = _RETRY
            self.wake_ms = _later(now_ms, _RETRY_MS)
            return
        self._state = _LOW if self._may_pulse else FAILED

    def _line(self):
        """The next whole line (``b"?"`` for one the assembler refused) or None."""
        try:
            return self._lines.next_line()
        except ProtocolError:
            return b"?"

    def next_action(self, now_ms, event_high=False):
        """The next action (SEND_PING, LISTEN, ... FAILED) at tick ``now_ms``, with the
        EVENT line high (``event_high``) or low."""
        while True:
            state = self._state
            if state == _SEND:
                self._lines.clear()
                self._lines.drop_glitches = True
                self._state = _REPLY
                self.wake_ms = _later(now_ms, self.ping_timeout_ms)
                return SEND_PING
            if state == _REPLY:
                line = self._line()
                if line == b"OK":
                    self._state = _SETTLE
                    self._lines.drop_glitches = False  # a reboot's 0x00/0xFF count too
                    self.wake_ms = _later(now_ms, self.settle_ms)
                elif line:
                    self.stray_lines += 1  # a late reply or garbage
                elif line is not None:
                    pass  # a stray EOL
                elif ticks_diff(now_ms, self.wake_ms) >= 0:
                    self._try_failed(now_ms)
                else:
                    return LISTEN
            elif state == _SETTLE:
                line = self._line()
                if line:
                    self.stray_lines += 1  # so the OK was a late reply
                    self._try_failed(now_ms)
                elif line is not None:
                    pass
                elif self._lines.pending():
                    self._try_failed(now_ms)
                elif ticks_diff(now_ms, self.wake_ms) >= 0:
                    self._state = IN_STEP
                else:
                    return LISTEN
            elif state == _RETRY:
                if ticks_diff(now_ms, self.wake_ms) < 0:
                    return PAUSE
                self._state = _SEND
            elif state == _LOW:
                self.hard_resets += 1
                self._may_pulse = False  # one pulse per plan
                self._state = _HIGH
                self.wake_ms = _later(now_ms, self.reset_pulse_ms)
                return RESET_LOW
            elif state == _HIGH:
                if ticks_diff(now_ms, self.wake_ms) < 0:
                    return PAUSE
                self._boot(now_ms)
                return RESET_HIGH
            elif state == _START:
                left = ticks_diff(self._until, now_ms)
                if event_high or left <= 0:
                    self._state = _SEND
                else:
                    self.wake_ms = _later(now_ms, min(_EVENT_STEP_MS, left))
                    return PAUSE
            else:
                return state  # IN_STEP or FAILED
