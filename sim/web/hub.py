"""Where the badge page meets a running badge of either engine.

The hub lives on the simulation's thread. It listens where things happen (the SSD1306's
frame counter, both ends of the UART, the EVENT pin, the module's MQTT link, the
console, the broker) and turns each into a protocol.md message stamped with the
simulated time. Messages wait in an outbox that the web server empties from its own
thread: ``attach(wake)`` gives the hub a callable it calls (from the simulation's
thread) when the outbox stops being empty; the server then calls :meth:`take`.

Nothing else crosses threads: the server asks for work with :meth:`call` (run a
callable on the simulation's loop, ``call_soon_threadsafe``) and the hub's ``tick``
(4 times a second of real time) sends the clock and looks at the slowly changing parts
(climate, module state, fault knobs).
"""

import base64
import collections
import threading

from sim.web.cloud_watch import CloudWatch
from sim.web.faults import Faults
from sim.web.frames import Frame
from sim.web.uart_lines import LineAssembler

SPEED_WINDOW_S = 1.0  # real seconds over which ``speed`` is measured


class TappedLines(list):
    """The CPython engine's console list, telling ``listeners(line)`` of each new line."""

    def __init__(self, lines=()):
        super().__init__(lines)
        self.listeners = []

    def append(self, line):
        super().append(line)
        for listener in self.listeners:
            listener(line)


def module_state(badge):
    """The module as the page names it: off, booting, idle, connecting, connected, hung,
    absent (a badge without one)."""
    module = badge.module
    if module is None:
        return "off" if badge.module_wanted else "absent"
    phase = module.power.phase
    if phase in ("off", "reset"):
        return "off"
    if phase == "booting":
        return "booting"
    if module.knobs.hang:
        return "hung"
    state = module.connection.state
    return state if state in ("connecting", "connected") else "idle"


class Hub:
    """Collects what the page shows from ``badge`` (VirtualBadge or CircuitPythonBadge).

    ``pace``: the CPython engine's time control (:class:`sim.core.pace.Pace`), or None
    (no time control: the CircuitPython engine, or a clock that is not virtual).
    ``bus``: also emit every I2C transaction and UART write (``i2c`` and ``uart``
    messages, which the server records and does not send to pages). Build it before
    ``badge.run()``.
    """

    def __init__(self, badge, pace=None, bus=False):
        self.badge = badge
        self.engine = badge.engine
        self.pace = pace
        self.loop = None  # the simulation's loop, once the badge runs
        self.faults = Faults(badge)
        self.cloud_watch = CloudWatch(badge, self.emit)
        self.ended = None  # the "ended" message once the run is over
        self.end_reason = "duration"  # what ``ended`` says if the run ends by itself
        self._outbox = []
        self._lock = threading.Lock()
        self._wake = None
        self._last_frame = None
        self._frame_due = False
        self._state = {}  # message type -> the last state message sent (climate, module, ...)
        self._samples = collections.deque()  # (real s, simulated s) of recent ticks
        self._speed = 0.0
        self._lines = {"command": LineAssembler(), "response": LineAssembler()}
        self._bus = bus
        if self.engine == "circuitpython":
            badge.console.on_line.append(lambda line, t: self._console(line, t))
        else:
            badge.world.console = TappedLines(badge.world.console)
            badge.world.console.listeners.append(lambda line: self._console(line, None))
        badge.display.frame_listeners.append(self._frame_changed)
        badge.uart_link.host.taps.append(self._uart)
        badge.uart_link.device.taps.append(self._uart)
        if bus:
            badge.i2c.taps.append(self._i2c)
        badge.on_loop(self._started)
        runtime = getattr(badge, "runtime", None)  # the CPython engine's end of run
        (runtime.on_end if runtime is not None else badge._on_end).insert(0, self._ending)

    # -- what the server sees --------------------------------------------------------------
    def hello(self):
        """The ``hello`` fields that never change during a run (without ``pages``)."""
        badge = self.badge
        if self.engine == "circuitpython":
            cp = badge.version
        else:
            cp = badge.cp_version.text
        return {"type": "hello", "engine": self.engine, "cp": cp, "thing": badge.thing,
                "mode": "live", "time_control": self.pace is not None,
                "faults": self.faults.table()}

    def attach(self, wake):
        """``wake()`` is called (on the simulation's thread) when the outbox fills."""
        self._wake = wake

    def take(self):
        """Everything emitted since the last call, in order (any thread)."""
        with self._lock:
            out, self._outbox = self._outbox, []
        return out

    def call(self, function, *args):
        """Run ``function(*args)`` on the simulation's loop soon (from any thread).
        False when the badge is not running (not started yet, or over)."""
        loop = self.loop
        if loop is None or loop.is_closed() or self.ended is not None:
            return False
        try:
            loop.call_soon_threadsafe(function, *args)
        except RuntimeError:  # closed between the check and the call
            return False
        return True

    def emit(self, message):
        """Queue a message (dict, or a Frame) for the page; simulation's thread."""
        with self._lock:
            self._outbox.append(message)
            first = len(self._outbox) == 1
        if first and self._wake is not None:
            self._wake()

    def end(self, reason):
        """The run is over (called on the simulation's thread as it ends)."""
        if self.ended is None:
            self.ended = {"type": "ended", "t": self.now(), "reason": reason}
            self.emit(self.ended)

    # -- on the simulation's loop --------------------------------------------------------
    def now(self):
        return self.badge.clock.now()

    def _started(self, loop):
        self.loop = loop
        self._snapshot_frame()
        self.sweep()
        ready = self.badge.cloud_ready
        if ready is not None:
            ready.add_done_callback(self._cloud_ready)

    async def _ending(self):
        if self.pace is not None and self.pace.rate == "paused":
            self.pace.set_rate("max")  # the parts' shutdown may wait on timers
        await self.cloud_watch.stop()
        self.end(self.end_reason)

    def _cloud_ready(self, future):
        if future.cancelled() or future.exception() is not None:
            return
        module = self.badge.module
        if module is not None:
            module.event_pin_listeners.append(self._event_pin)
            taps = getattr(module.cloud, "taps", None)
            if taps is not None:
                taps.append(self._mqtt)
        self.cloud_watch.start(future.result())
        self.sweep()

    def tick(self, real_s):
        """The clock message and a look at the slow parts; ``real_s``: the server's
        monotonic time now (the simulation's thread reads its own clock only)."""
        now = self.now()
        samples = self._samples
        samples.append((real_s, now))
        while len(samples) > 2 and real_s - samples[1][0] >= SPEED_WINDOW_S:
            samples.popleft()
        first_real, first_sim = samples[0]
        if real_s > first_real:
            self._speed = round((now - first_sim) / (real_s - first_real), 3)
        self.tick_now()

    def tick_now(self):
        """The clock message now (a change of rate), with the last measured speed."""
        self.emit({"type": "clock", "t": self.now(), "rate": self.rate(),
                   "speed": self._speed, "heap_free": self.heap_free()})
        self.sweep()

    def rate(self):
        if self.pace is not None:
            return self.pace.rate
        return 1 if getattr(self.badge, "real_time", False) else "max"

    def heap_free(self):
        """Free heap (bytes) of the CircuitPython engine, from its console or telemetry."""
        if self.engine != "circuitpython":
            return None
        mem = self.badge.console.mem_free
        if mem:
            return mem[-1][1]
        return self.cloud_watch.mem_free

    def sweep(self):
        """Send what changed among the climate, the module's state and the faults."""
        sensor = self.badge.sensor
        self._state_message("climate", {"temperature_c": round(sensor.temperature_c, 3),
                                        "humidity_rh": round(sensor.humidity_rh, 3)})
        self._state_message("module", {"state": module_state(self.badge)})
        self._state_message("faults", {"on": self.faults.state()})

    def _state_message(self, kind, fields):
        if self._state.get(kind) == fields:
            return
        self._state[kind] = fields
        message = {"type": kind, "t": self.now()}
        message.update(fields)
        self.emit(message)

    # -- listeners (simulation's thread) ---------------------------------------------------
    def _frame_changed(self):
        loop = self.loop
        if self._frame_due or loop is None:
            return
        self._frame_due = True
        loop.call_soon(self._snapshot_frame)  # after the refresh that is under way

    def _snapshot_frame(self):
        self._frame_due = False
        frame = Frame.of(self.badge.display, self.now())
        if not frame.same_picture(self._last_frame):
            self._last_frame = frame
            self.emit(frame)

    def _i2c(self, record):
        self.emit({"type": "i2c", "t": record.time_s, "address": record.address,
                   "dir": record.direction, "data": record.data.hex(), "acked": record.acked})

    def _uart(self, now_s, end, data):
        direction = "command" if end == "host" else "response"
        if self._bus:
            self.emit({"type": "uart", "t": now_s, "dir": direction, "data": bytes(data).hex()})
        for line in self._lines[direction].feed(data):
            if line:
                self.emit({"type": "at", "t": now_s, "dir": direction, "line": line})
        if self.loop is not None:
            self._state_message("module", {"state": module_state(self.badge)})

    def _event_pin(self, level):
        self.emit({"type": "at", "t": self.now(), "dir": "event",
                   "line": "EVENT high" if level else "EVENT low"})
        self._state_message("module", {"state": module_state(self.badge)})

    def _mqtt(self, direction, topic, payload):
        data = bytes(payload)
        message = {"type": "mqtt", "t": self.now(), "dir": direction, "topic": topic,
                   "size": len(data)}
        try:
            message["payload"] = data.decode("utf-8")
        except UnicodeDecodeError:
            message["payload"] = base64.b64encode(data).decode("ascii")
            message["base64"] = True
        self.emit(message)

    def _console(self, line, t):
        self.emit({"type": "console", "t": self.now() if t is None else t, "text": line})
