"""``run --report FILE``: what a run did, as JSON, for either engine.

Fields: ``engine``; ``circuitpython`` (version, or null on CPython); ``emulated_s`` and
``wall_s`` (seconds); ``boot_to_first_frame_s`` (emulated s until the panel first
showed lit pixels, or null); ``tracebacks`` ``{count, texts}`` (as the console showed
them; a KeyboardInterrupt from the host's own Ctrl-C is not one); ``soft_reloads``
(those asked for by the run, not the engine's console attach); ``readings_published``
(telemetry messages seen at the broker, from a subscriber inside the process);
``mem_free_min`` / ``mem_free_last`` (bytes, from the telemetry's ``mem`` field or
``mem_free=N`` console lines; null on CPython, whose heap says nothing about a badge).
"""

import asyncio
import json

from sim.engines.circuitpython.console import ConsoleCapture
from sim.engines.circuitpython.first_frame import FirstFrameWatch

_CLIENT_ID = "run-report-telemetry"


class TelemetrySeen:
    """Counts ``badge/<thing>/telemetry`` messages at the broker; keeps ``mem`` figures."""

    def __init__(self, badge):
        self.badge = badge
        self.count = 0
        self.mem_free = []  # (time_s, bytes)
        self.sequence = []  # the "seq" of each message, in arrival order
        self.arrivals = []  # emulated time (s) of each message
        self.error = None
        self._task = None
        badge.on_loop(self._start)
        runtime = getattr(badge, "runtime", None)  # the CPython engine's end of run
        if runtime is not None:
            runtime.on_end.append(self._stop)

    def _start(self, loop):
        if self.badge.cloud_ready is not None:
            self._task = loop.create_task(self._watch(), name="report_telemetry")

    async def _stop(self):
        if self._task is not None:
            self._task.cancel()

    async def _watch(self):
        from sim.cloud.mqtt_link import MqttCloudLink

        try:
            url = await self.badge.cloud_ready
            link = MqttCloudLink(url)
            link.on_message = self._message
            await link.connect(_CLIENT_ID, keepalive_s=600)
            await link.subscribe("badge/%s/telemetry" % self.badge.thing, 1)
            await asyncio.get_running_loop().create_future()  # until the run ends
        except asyncio.CancelledError:
            raise
        except Exception as error:  # reported in the JSON, the run goes on
            self.error = "%s: %s" % (type(error).__name__, error)

    def _message(self, _topic, payload):
        self.count += 1
        self.arrivals.append(self.badge.clock.now())
        try:
            fields = json.loads(bytes(payload).decode("utf-8"))
        except (UnicodeDecodeError, ValueError):
            return
        if isinstance(fields, dict):
            self.sequence.append(fields.get("seq"))
            if isinstance(fields.get("mem"), int):
                self.mem_free.append((self.badge.clock.now(), fields["mem"]))


class RunReport:
    """Attach to a badge of either engine before its run; :meth:`write` after it."""

    def __init__(self, badge):
        self.badge = badge
        self.first_frame = getattr(badge, "first_frame", None) or FirstFrameWatch(
            badge.display, badge.clock)
        self.telemetry = TelemetrySeen(badge) if _has_module(badge) else None

    def as_dict(self, wall_s):
        badge = self.badge
        circuitpython = getattr(badge, "engine", "cpython") == "circuitpython"
        console = badge.console if circuitpython else _console_of_lines(badge.console)
        mem = list(console.mem_free) if circuitpython else []
        if self.telemetry is not None and circuitpython:
            mem = sorted(mem + self.telemetry.mem_free)
        report = {
            "engine": "circuitpython" if circuitpython else "cpython",
            "circuitpython": badge.version if circuitpython else None,
            "emulated_s": round(badge.clock.now(), 6),
            "wall_s": round(wall_s, 3),
            "boot_to_first_frame_s": _rounded(self.first_frame.time_s),
            "tracebacks": {"count": len(console.tracebacks), "texts": console.tracebacks},
            "soft_reloads": console.soft_reloads - console.attach_reloads
            if circuitpython else getattr(getattr(badge, "runtime", None), "reloads", 0),
            "readings_published": self.telemetry.count if self.telemetry else 0,
            "mem_free_min": min(m for _t, m in mem) if mem else None,
            "mem_free_last": mem[-1][1] if mem else None,
        }
        if self.telemetry is not None and self.telemetry.error:
            report["telemetry_error"] = self.telemetry.error
        return report

    def write(self, path, wall_s):
        with open(path, "w") as stream:
            json.dump(self.as_dict(wall_s), stream, indent=2)
            stream.write("\n")


def _has_module(badge):
    return getattr(badge, "module_wanted", True)


def _rounded(value):
    return None if value is None else round(value, 6)


def _console_of_lines(lines):
    """The CPython engine keeps its console as lines: read them the same way."""
    console = ConsoleCapture()
    for line in list(lines):
        console.feed((line + "\n").encode("utf-8"), 0.0)
    return console
