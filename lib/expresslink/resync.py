"""Bring the link back in step, sans I/O: bytes and time in, the next thing to do out."""

from micropython import const

from expresslink.errors import ProtocolError

# Plans for Resync.start.
RESYNC = const(1)  # ping up to ``attempts`` times, then pulse RST (when there is one)
READY = const(2)  # ping until ``timeout_ms`` has passed, then pulse RST (after power-up)
PULSE = const(3)  # pulse RST at once, then wait for the module to start
BOOT = const(4)  # the module is restarting by itself (RESET): wait for it to start

# What the caller does next (Resync.next_action).
SEND_PING = const(1)  # discard the input waiting in the UART, then write b"AT\n"
LISTEN = const(2)  # give bytes to receive() as they arrive; call again then or at wake_ms
PAUSE = const(3)  # leave the UART alone; call again at wake_ms
WATCH_EVENT = const(4)  # EVENT pin high: call startup_seen(); else call again at wake_ms
RESET_LOW = const(5)  # drive RST low (the module is held in reset)
RESET_HIGH = const(6)  # release RST (the module boots)
IN_STEP = const(7)  # done: the next command's reply will be its own
FAILED = const(8)  # done: the module does not answer

_TICKS_PERIOD = const(1 << 29)  # same wrap as supervisor.ticks_ms / adafruit_ticks
_TICKS_HALF = const(1 << 28)
_RETRY_MS = const(100)  # pause between AT tries while the module boots
_EVENT_STEP_MS = const(10)  # EVENT pin check interval while the module boots
# States: what next_action does next.
_SEND = const(0)  # send AT
_REPLY = const(1)  # wait for a bare OK until wake_ms
_SETTLE = const(2)  # OK seen: any further byte before wake_ms spoils it
_RETRY = const(3)  # pause until wake_ms, then send AT
_LOW = const(4)  # pull RST low
_HIGH = const(5)  # release RST at wake_ms
_START = const(6)  # wait for the EVENT line until the boot deadline
_END = const(7)  # report ``result``


def _later(now_ms, ms):
    return (now_ms + ms) % _TICKS_PERIOD


def _passed(now_ms, then_ms):
    return ((now_ms - then_ms + _TICKS_HALF) % _TICKS_PERIOD) - _TICKS_HALF >= 0


class Resync:
    """Decides each step of bringing the module's replies back in line with our commands.

    One try: drain, send ``AT``, wait up to ``ping_timeout_ms`` for a bare ``OK`` (other
    lines are late replies or garbage: skipped, counted in ``stray_lines``), then
    ``settle_ms`` of silence: anything but EOLs after that ``OK`` means it was a late
    reply, and the try failed. After the plan's tries a module with a reset line
    (``reset_line``) gets an RST pulse of ``reset_pulse_ms``, then up to
    ``startup_timeout_ms`` to start: the EVENT line rising (``event_line``: STARTUP is
    queued; it stays queued for the application), then ``AT`` until it answers.

    ``assembler`` is the LineAssembler shared with the Exchange. Times are tick counts in
    ms that wrap at 2**29; the caller passes ``now_ms``, this class has no clock.
    """

    def __init__(self, assembler, *, event_line=False, reset_line=False, attempts=3,
                 ping_timeout_ms=1000, settle_ms=20, startup_timeout_ms=10000,
                 reset_pulse_ms=20):
        self._lines = assembler
        self._event_line = event_line
        self._reset_line = reset_line
        self.attempts = attempts
        self.ping_timeout_ms = ping_timeout_ms
        self.settle_ms = settle_ms
        self.startup_timeout_ms = startup_timeout_ms
        self.reset_pulse_ms = reset_pulse_ms
        self.wake_ms = 0  # LISTEN, PAUSE, WATCH_EVENT: when to call next_action at the latest
        self.stray_lines = 0
        self.hard_resets = 0
        self._state = _END
        self.result = FAILED
        self._tries = 0  # AT tries left (RESYNC)
        self._until = None  # or: tick (ms) after which no new try starts
        self._may_pulse = False  # pulse RST when the tries run out
        self._started = False

    def start(self, now_ms, plan, timeout_ms=0):
        """Begin ``plan`` (RESYNC, READY with ``timeout_ms``, PULSE or BOOT)."""
        self._tries = self.attempts
        self._until = _later(now_ms, timeout_ms) if plan == READY else None
        self._may_pulse = self._reset_line and plan != BOOT
        self._state = _SEND
        if plan == PULSE:
            self._state = _LOW
        elif plan == BOOT:
            self._boot(now_ms)

    def receive(self, data):
        """Bytes from the module, read while the last action was LISTEN."""
        self._lines.receive(data)

    def startup_seen(self):
        """The EVENT line is high while WATCH_EVENT: the module has started."""
        self._started = True

    def _boot(self, now_ms):
        self._state = _START
        self._started = not self._event_line
        self._until = _later(now_ms, self.startup_timeout_ms)

    def _try_failed(self, now_ms):
        if self._until is None:
            self._tries -= 1
            if self._tries > 0:
                self._state = _SEND
                return
        elif not _passed(now_ms, self._until):
            self._state = _RETRY
            self.wake_ms = _later(now_ms, _RETRY_MS)
            return
        self._state = _LOW if self._may_pulse else _END
        self.result = FAILED

    def _bare_ok(self):
        """Skip lines up to a bare ``OK``; True once one is found."""
        lines = self._lines
        while True:
            try:
                line = lines.next_line()
            except ProtocolError:
                self.stray_lines += 1
                continue
            if line is None:
                return False
            if line == b"OK":
                return True
            if line:
                self.stray_lines += 1  # a late reply or garbage

    def _quiet(self):
        """False when anything but EOLs has come after the resync ``OK``."""
        lines = self._lines
        while True:
            try:
                line = lines.next_line()
            except ProtocolError:
                line = b"?"
            if line is None:
                return not lines.pending()
            if line:
                self.stray_lines += 1
                return False

    def next_action(self, now_ms):
        """The next action (SEND_PING, LISTEN, ... FAILED) at tick ``now_ms``."""
        while True:
            state = self._state
            if state == _SEND:
                self._lines.clear()
                self._lines.drop_glitches = True
                self._state = _REPLY
                self.wake_ms = _later(now_ms, self.ping_timeout_ms)
                return SEND_PING
            if state == _REPLY:
                if self._bare_ok():
                    self._state = _SETTLE
                    self._lines.drop_glitches = False  # a reboot's 0x00/0xFF count too
                    self.wake_ms = _later(now_ms, self.settle_ms)
                elif _passed(now_ms, self.wake_ms):
                    self._try_failed(now_ms)
                else:
                    return LISTEN
            elif state == _SETTLE:
                if not self._quiet():
                    self._try_failed(now_ms)
                elif _passed(now_ms, self.wake_ms):
                    self._state = _END
                    self.result = IN_STEP
                else:
                    return LISTEN
            elif state == _RETRY:
                if not _passed(now_ms, self.wake_ms):
                    return PAUSE
                self._state = _SEND
            elif state == _LOW:
                self.hard_resets += 1
                self._may_pulse = False  # one pulse per plan
                self._state = _HIGH
                self.wake_ms = _later(now_ms, self.reset_pulse_ms)
                return RESET_LOW
            elif state == _HIGH:
                if not _passed(now_ms, self.wake_ms):
                    return PAUSE
                self._boot(now_ms)
                return RESET_HIGH
            elif state == _START:
                if self._started or _passed(now_ms, self._until):
                    self._state = _SEND
                else:
                    left = (self._until - now_ms) % _TICKS_PERIOD
                    self.wake_ms = _later(now_ms, min(_EVENT_STEP_MS, left))
                    return WATCH_EVENT
            else:
                return self.result
