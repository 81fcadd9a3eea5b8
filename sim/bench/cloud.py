"""The ExpressLink and cloud figures of ``python -m sim bench``, each against its physical limit.

- One AT command's round trip above its wire time at 115200 baud: the badge's client
  against the emulated module, on virtual time and in real time on CPython.
- Reading-to-broker latency of a steady-state virtual badge, on the simulator's clock.
- Messages per second one emulated module sustains through the embedded broker and
  through mosquitto, against what the UART can carry.
"""

import asyncio
import json
import selectors
import statistics
import sys
import tempfile
import time
from pathlib import Path

from sim.core.clock import RealClock, VirtualClock, i2c_wire_time_s, uart_wire_time_s
from sim.core.loop import SimEventLoop
from sim.core.serial_link import SerialLink

REPO_ROOT = Path(__file__).resolve().parents[2]
THING = "bench-1"
TICKS_PERIOD = 1 << 29
# A telemetry payload as the badge sends it, with wide fields: the worst common case.
TELEMETRY = b'{"seq":123456,"t":23.50,"rh":41.00,"up":1234567}'
OK_REPLY = b"OK\r\n"


def _client_modules():
    """The badge's ExpressLink client modules, imported afresh from lib/.

    A virtual badge run leaves its own copies behind, bound to the simulator's
    ``supervisor`` shim for ``ticks_ms``; the benchmark wants the host's clock.
    """
    lib = str(REPO_ROOT / "lib")
    if lib not in sys.path:
        sys.path.insert(0, lib)
    for name in list(sys.modules):
        if name.split(".")[0] in ("expresslink", "adafruit_ticks", "supervisor"):
            del sys.modules[name]
    import expresslink.channel as channel
    import expresslink.client as client

    return channel, client


def fine_timer_loop():
    """A real-time asyncio loop whose timers fire to the microsecond.

    asyncio's default loop on Linux waits with epoll, which rounds every timeout up to
    whole milliseconds; the emulated module's wire-time timers (0.26 ms for ``AT``) and
    the client's 1 ms polls would then measure the selector, not the code.
    """
    return asyncio.SelectorEventLoop(selectors.SelectSelector())


def _run(loop, coroutine):
    """Run ``coroutine`` to the end on ``loop``, then cancel what is left and close it."""
    try:
        return loop.run_until_complete(coroutine)
    finally:
        left = [task for task in asyncio.all_tasks(loop) if not task.done()]
        for task in left:
            task.cancel()
        if left:
            loop.run_until_complete(asyncio.gather(*left, return_exceptions=True))
        loop.close()


# -- one AT round trip ------------------------------------------------------------------


async def _ping_times(clock, rounds):
    """(round trips of ``AT`` -> ``OK`` by the badge's client, the module's processing
    time), both in seconds."""
    from sim.cloud.memory_broker import MemoryBroker
    from sim.expresslink.module import ExpressLinkModule

    _, client_module = _client_modules()
    link = SerialLink(clock)
    module = ExpressLinkModule(clock, link.device, MemoryBroker().link(), THING)
    module.start()
    client = client_module.ExpressLinkClient(link.host)
    await client.wait_ready()
    times = []
    for _ in range(rounds):
        started = clock.now()
        await client.ping()
        times.append(clock.now() - started)
    await module.close()
    return times, module.processing_time_s


def at_round_trip(rounds=200, mode="virtual"):
    """{"median_s", "p90_s", "wire_s", "processing_s", "overhead_s"} for ``AT`` -> ``OK``.

    ``mode``: "virtual" (SimEventLoop on a VirtualClock), "real" (a fine-timer loop in
    real time) or "epoll" (the simulator's real-time loop, as ``python -m sim`` runs).
    """
    from sim.expresslink.tcp_uart import LoopClock

    channel, client_module = _client_modules()
    saved = channel.ticks_ms, client_module.ticks_ms
    if mode == "virtual":
        clock = VirtualClock()
        loop = SimEventLoop(clock)

        def ticks_ms():
            return int(clock.now() * 1000) % TICKS_PERIOD

        channel.ticks_ms = client_module.ticks_ms = ticks_ms
    elif mode == "real":
        loop = fine_timer_loop()
        clock = LoopClock(loop)
    else:
        clock = RealClock()
        loop = SimEventLoop(clock)
    try:
        times, processing_s = _run(loop, _ping_times(clock, rounds))
    finally:
        channel.ticks_ms, client_module.ticks_ms = saved
    times.sort()
    median_s = statistics.median(times)
    wire_s = uart_wire_time_s(len(b"AT\n") + len(OK_REPLY))
    return {"median_s": median_s, "p90_s": times[int(len(times) * 0.9)], "wire_s": wire_s,
            "processing_s": processing_s, "overhead_s": median_s - wire_s - processing_s}


# -- reading to broker -----------------------------------------------------------------


def _reading_times(i2c_log, address=0x44):
    """End times (s) of the climate readings: 6-byte reads that follow a measure command."""
    times = []
    measuring = False
    for record in i2c_log:
        if record.address != address or not record.acked:
            continue
        if record.direction == "w":
            measuring = record.data == b"\x24\x00"
        elif measuring and len(record.data) == 6:
            times.append(record.time_s + i2c_wire_time_s(6))
            measuring = False
    return times


def reading_to_broker(readings=20, period_s=10):
    """Latency (s) from a reading's I2C read to its PUBLISH at a subscriber, virtual time."""
    from sim.engines.cpython.badge import VirtualBadge
    from sim.cloud.mqtt_link import MqttCloudLink
    from sim.tools.deploy import write_settings_template

    arrivals = {}  # seq -> (time s, payload)
    with tempfile.TemporaryDirectory() as drive:
        write_settings_template(drive)
        badge = VirtualBadge(drive_dir=drive, temperature_c=23.5, humidity_rh=41.0,
                             thing=THING)

        def hook(loop):
            async def subscribe():
                link = MqttCloudLink(await badge.cloud_ready)
                link.on_message = lambda _topic, payload: arrivals.setdefault(
                    json.loads(payload)["seq"], (badge.clock.now(), bytes(payload)))
                await link.connect("bench-latency")
                await link.subscribe("badge/%s/telemetry" % THING, 1)
                badge.runtime.on_end.insert(0, link.disconnect)

            loop.create_task(subscribe())

        badge.on_loop(hook)
        badge.run(period_s * (readings + 1) + 5)
    taken = _reading_times(badge.i2c.log)
    latencies = []
    sizes = []
    for seq in range(2, readings + 2):  # the first reading waits for the connection
        if seq in arrivals and seq <= len(taken):
            arrived_s, payload = arrivals[seq]
            latencies.append(arrived_s - taken[seq - 1])
            sizes.append(len(b"AT+SEND1 ") + len(payload) + 1)
    if not latencies:
        raise RuntimeError("no reading reached the subscriber")
    line_bytes = max(sizes)
    return {"count": len(latencies), "median_s": statistics.median(latencies),
            "max_s": max(latencies), "send_floor_s": uart_wire_time_s(line_bytes),
            "reply_s": uart_wire_time_s(len(OK_REPLY)), "line_bytes": line_bytes}


# -- messages per second ---------------------------------------------------------------


class _FastHost:
    """A host that sends the next ``SEND1`` as soon as the module's reply line is in."""

    def __init__(self, end):
        self.end = end
        self.buffer = bytearray()

    async def command(self, line):
        self.end.write(line)
        while b"\r\n" not in self.buffer:
            await self.end.wait_readable()
            self.buffer += self.end.read()
        reply, _, rest = bytes(self.buffer).partition(b"\r\n")
        self.buffer = bytearray(rest)
        return reply


async def _module_rate(broker_url, seconds, qos):
    from sim.cloud.mqtt_link import MqttCloudLink
    from sim.expresslink.module import ExpressLinkModule
    from sim.expresslink.tcp_uart import loop_clock

    loop = asyncio.get_running_loop()
    clock = loop_clock(loop)
    topic = "bench/%s/rate" % THING
    received = []
    subscriber = MqttCloudLink(broker_url)
    subscriber.on_message = lambda _topic, _payload: received.append(time.perf_counter())
    await subscriber.connect("bench-rate-sub")
    await subscriber.subscribe(topic, 1)
    link = SerialLink(clock)
    module = ExpressLinkModule(clock, link.device, MqttCloudLink(broker_url), THING,
                               boot_time_s=0.1, connect_time_s=0.05)
    module.start()
    host = _FastHost(link.host)
    try:
        await asyncio.sleep(module.boot_time_s + 0.1)  # deaf while booting
        link.host.read()  # the boot's glitch bytes
        for line in (b"AT+CONF Topic1=" + topic.encode() + b"\n",
                     b"AT+CONF QoS=%d\n" % qos, b"AT+CONNECT\n"):
            reply = await host.command(line)
            if not reply.startswith(b"OK"):
                raise RuntimeError("module answered %r to %r" % (reply, line))
        send = b"AT+SEND1 " + TELEMETRY + b"\n"
        await host.command(send)  # warm-up, not counted
        await asyncio.sleep(0.2)
        received.clear()
        sent = 0
        started = time.perf_counter()
        while time.perf_counter() - started < seconds:
            reply = await host.command(send)
            if reply != b"OK":
                raise RuntimeError("SEND answered %r" % reply)
            sent += 1
        elapsed = time.perf_counter() - started
        deadline = time.perf_counter() + 5.0
        while len(received) < sent and time.perf_counter() < deadline:
            await asyncio.sleep(0.01)
        counted = [t for t in received if t <= started + elapsed]
    finally:
        await module.close()
        await subscriber.disconnect()
    return {"sent": sent, "received": len(received), "rate": len(counted) / elapsed}


def module_rate(broker, seconds=2.0, qos=1):
    """Messages per second at a subscriber while one module SENDs as fast as it answers.

    ``broker``: "embedded" or "mosquitto" (None when mosquitto is not installed).
    Real time, on a fine-timer loop.
    """
    from sim.cloud.broker import EmbeddedBroker
    from sim.cloud.mosquitto import Mosquitto, find_mosquitto

    async def with_embedded():
        async with EmbeddedBroker() as embedded:
            return await _module_rate(embedded.url, seconds, qos)

    if broker == "embedded":
        return _run(fine_timer_loop(), with_embedded())
    if find_mosquitto() is None:
        return None
    with Mosquitto() as mosquitto:
        return _run(fine_timer_loop(), _module_rate(mosquitto.url, seconds, qos))


def uart_limit_per_s():
    """SEND round trips per second the 115200-baud UART can carry (one command in flight)."""
    round_trip_bytes = len(b"AT+SEND1 ") + len(TELEMETRY) + 1 + len(OK_REPLY)
    return 1 / uart_wire_time_s(round_trip_bytes), round_trip_bytes


# -- the report ------------------------------------------------------------------------


def report(out=print):
    """Measure and print one line per figure."""
    ms = 1e3
    virtual = at_round_trip(200, mode="virtual")
    out("AT round trip, badge client vs emulated module, virtual time: median %.2f ms = "
        "wire %.2f ms (7 bytes at 115200 baud) + module processing %.2f ms + client "
        "overhead %.2f ms (goal < 2 ms; the common blocking host library sleeps 100 ms "
        "before every read)" % (virtual["median_s"] * ms, virtual["wire_s"] * ms,
                                 virtual["processing_s"] * ms, virtual["overhead_s"] * ms))
    real = at_round_trip(200, mode="real")
    epoll = at_round_trip(200, mode="epoll")
    out("AT round trip, real time on CPython: median %.2f ms (90%% within %.2f ms); above "
        "the wire time and the module's processing: %.2f ms (goal < 2 ms). On asyncio's "
        "default epoll loop, which rounds every timer up to whole ms: median %.2f ms"
        % (real["median_s"] * ms, real["p90_s"] * ms, real["overhead_s"] * ms,
           epoll["median_s"] * ms))
    latency = reading_to_broker()
    out("reading to broker, steady state, simulator's clock (%d readings, I2C read done to "
        "PUBLISH at a subscriber of the embedded broker): median %.2f ms, max %.2f ms; "
        "floor %.2f ms (the %d-byte SEND line at 115200 baud; with the OK reply %.2f ms): "
        "%.2f ms above it (CPU time is not on the virtual clock: this is waiting only)"
        % (latency["count"], latency["median_s"] * ms, latency["max_s"] * ms,
           latency["send_floor_s"] * ms, latency["line_bytes"],
           (latency["send_floor_s"] + latency["reply_s"]) * ms,
           (latency["median_s"] - latency["send_floor_s"]) * ms))
    limit, round_trip_bytes = uart_limit_per_s()
    for broker in ("embedded", "mosquitto"):
        rate = module_rate(broker)
        if rate is None:
            out("messages/s through mosquitto: not measured (mosquitto is not installed)")
            continue
        out("messages/s, one emulated module, SEND1 QoS 1 back to back, through %s: %.0f "
            "(%d sent, %d at the subscriber); UART limit %.0f/s (%d bytes per round trip "
            "at 115200 baud)" % ("the embedded broker" if broker == "embedded" else broker,
                                 rate["rate"], rate["sent"], rate["received"], limit,
                                 round_trip_bytes))
    return 0


if __name__ == "__main__":
    report()
