"""ExpressLink async client against a scripted module: exact bytes out, replayed bytes in.

Runs on the simulator's virtual clock: the script's waits, the client's timeouts and
every duration a test measures are simulated time, the same on any machine.
"""

import ast
import asyncio
import importlib
import shutil
from pathlib import Path

import pytest

from expresslink import CommandTimeout, Event, Message, ModuleError, ProtocolError
from expresslink import channel as channel_module
from expresslink import client as client_module
from expresslink.channel import poll_interval_ms
from expresslink.client import ExpressLinkClient
from expresslink.resync import PULSE
from portability import cp_lint, typecheck
from sim.core.clock import VirtualClock
from sim.core.loop import SimEventLoop

TICKS_PERIOD = 1 << 29
TICKS_START_MS = TICKS_PERIOD - 65_536   # supervisor.ticks_ms at a badge's power-up

# Short link timings so silence costs milliseconds in these tests.
FAST = {"ping_timeout_ms": 30, "settle_ms": 5, "startup_timeout_ms": 500, "reset_pulse_ms": 2}


# -- the scripted module ----------------------------------------------------------------


def W(data):
    """Host must write exactly these bytes next."""
    return ("write", data)


def P(name, value):
    """Host must set output pin ``name`` to ``value`` next."""
    return ("pin", name, value)


def R(data):
    """Module sends these bytes (one read() returns at most this chunk)."""
    return ("reply", data)


def D(ms):
    """Module pauses before its next step."""
    return ("wait", ms)


def L(name, value):
    """Module drives its output (the host's input pin ``name``) to ``value``."""
    return ("level", name, value)


class ScriptedPin:
    def __init__(self, module, name, is_input):
        self._module = module
        self.name = name
        self.is_input = is_input
        self.level = False
        self.reads = 0

    @property
    def value(self):
        self._module.advance()
        self.reads += 1
        return self.level

    @value.setter
    def value(self, level):
        if self.is_input:
            self._module.fail("host drove input pin %s" % self.name)
        self._module.host_action(("pin", self.name, bool(level)))
        self.level = bool(level)


class ScriptedModule:
    """A UART-like fake that plays a script of host actions and module actions.

    Host actions (W, P) must happen in script order and only after every module action
    before them has been played; module actions (R, D, L) run in order, each once the
    host actions before it have happened. ``check_done`` fails when anything is left.
    """

    def __init__(self, script, with_reset_input_buffer=True):
        self.steps = list(script)
        self.host_done = set()
        self.cursor = 0  # next module step to play
        self.wait_until = None
        self.chunks = []
        self.pending_write = b""
        self.written = []
        self.discarded = 0
        self.failures = []
        self.pins = {}
        self.clock = None  # the run's virtual clock, set by run()
        if with_reset_input_buffer:
            self.reset_input_buffer = self._reset_input_buffer

    def pin(self, name, is_input=False):
        self.pins[name] = ScriptedPin(self, name, is_input)
        return self.pins[name]

    def fail(self, message):
        self.failures.append(message)
        raise AssertionError(message)

    def advance(self):
        while self.cursor < len(self.steps):
            step = self.steps[self.cursor]
            kind = step[0]
            if kind in ("write", "pin"):
                if self.cursor not in self.host_done:
                    return
            elif kind == "reply":
                self.chunks.append(bytearray(step[1]))
            elif kind == "wait":
                now = self.clock.now()
                if self.wait_until is None:
                    self.wait_until = now + step[1] / 1000
                if now < self.wait_until:
                    return
                self.wait_until = None
            elif kind == "level":
                self.pins[step[1]].level = step[2]
            self.cursor += 1

    def _next_host_step(self):
        for index in range(len(self.steps)):
            if self.steps[index][0] in ("write", "pin") and index not in self.host_done:
                return index
        return None

    def host_action(self, action):
        self.advance()
        index = self._next_host_step()
        if action[0] == "write":
            self.pending_write += action[1]
            shown = self.pending_write
        else:
            shown = action
        if index is None:
            self.fail("unexpected host action %r after the script ended" % (shown,))
        if index > self.cursor:
            self.fail("host action %r before module step %r" % (shown, self.steps[self.cursor]))
        step = self.steps[index]
        if action[0] == "write":
            if step[0] != "write":
                self.fail("host wrote %r, script expects %r" % (shown, step))
            if len(self.pending_write) < len(step[1]) and step[1].startswith(self.pending_write):
                return
            if self.pending_write != step[1]:
                self.fail("host wrote %r, script expects %r" % (shown, step[1]))
            self.written.append(self.pending_write)
            self.pending_write = b""
        elif step != action:
            self.fail("host did %r, script expects %r" % (action, step))
        self.host_done.add(index)
        self.advance()

    # UART interface
    def write(self, data):
        self.host_action(("write", bytes(data)))
        return len(data)

    @property
    def in_waiting(self):
        self.advance()
        return len(self.chunks[0]) if self.chunks else 0

    def read(self, count):
        self.advance()
        if not self.chunks:
            return None
        chunk = self.chunks[0]
        data = bytes(chunk[:count])
        del chunk[:count]
        if not chunk:
            self.chunks.pop(0)
        return data

    def _reset_input_buffer(self):
        self.advance()
        self.discarded += sum(len(chunk) for chunk in self.chunks)
        self.chunks = []

    def check_done(self):
        self.advance()
        assert not self.failures, self.failures
        left = [self.steps[i] for i in range(len(self.steps)) if i >= self.cursor]
        assert not left, "script not consumed: %r" % (left,)
        assert not self.chunks, "module output never read: %r" % (self.chunks,)
        assert not self.pending_write, "partial write %r" % (self.pending_write,)


def now_s():
    """The running loop's time: simulated seconds."""
    return asyncio.get_running_loop().time()


def run(module, scenario, **options):
    """Run ``scenario(client)`` on a client over ``module`` on a virtual clock (the
    client's ticks_ms included); the script must be used up."""
    clock = VirtualClock()
    module.clock = clock

    def ticks_ms():
        return (int(clock.now() * 1000) + TICKS_START_MS) % TICKS_PERIOD

    async def main():
        client = ExpressLinkClient(module, **dict(FAST, **options))
        result = await scenario(client)
        return client, result

    saved = channel_module.ticks_ms, client_module.ticks_ms
    channel_module.ticks_ms = client_module.ticks_ms = ticks_ms
    loop = SimEventLoop(clock)
    try:
        client, result = loop.run_until_complete(main())
    finally:
        channel_module.ticks_ms, client_module.ticks_ms = saved
        loop.close()
    assert loop.errors == [], loop.errors
    module.check_done()
    return client, result


SYNC = [W(b"AT\n"), R(b"OK\r\n")]  # the first command resynchronises the fresh client


# -- commands and replies ---------------------------------------------------------------


def test_first_command_syncs_then_conf_get():
    module = ScriptedModule(SYNC + [W(b"AT+CONF? ThingName\n"), R(b"OK badge-01\r\n")])
    client, value = run(module, lambda c: c.conf_get("ThingName"))
    assert value == "badge-01"
    assert client.channel.resyncs == 1
    assert client.channel.commands == 1


def test_reply_split_across_reads_and_polls():
    module = ScriptedModule(
        SYNC
        + [
            W(b"AT+CONF? ThingName\n"),
            R(b"O"),
            D(3),
            R(b"K badge"),
            D(3),
            R(b"-01\r"),
            D(2),
            R(b"\n"),  # arrives after the reply is complete: drained before the next command
            W(b"AT+CONF? Version\n"),
            R(b"OK 1.0\r\n"),
        ]
    )

    async def scenario(client):
        value = await client.conf_get("ThingName")
        await asyncio.sleep(0.01)
        return value, await client.conf_get("Version")

    client, values = run(module, scenario)
    assert values == ("badge-01", "1.0")
    assert client.channel.stray_bytes == 0


def test_glitch_bytes_before_a_reply_are_ignored():
    module = ScriptedModule(
        SYNC + [W(b"AT+CONNECT?\n"), R(b"\x00\xff\xfe"), R(b"OK 1 1 CONNECTED CUSTOMER\r\n")]
    )
    _, connected = run(module, lambda c: c.is_connected())
    assert connected is True


def test_commands_are_serialised():
    module = ScriptedModule(
        SYNC
        + [
            W(b"AT+CONF? ThingName\n"),
            D(5),
            R(b"OK badge-01\r\n"),
            W(b"AT+CONF? Version\n"),
            R(b"OK 1.2.3\r\n"),
        ]
    )

    async def scenario(client):
        return await asyncio.gather(client.conf_get("ThingName"), client.conf_get("Version"))

    _, values = run(module, scenario)
    assert values == ["badge-01", "1.2.3"]


def test_module_error_keeps_the_link_in_step():
    module = ScriptedModule(
        SYNC
        + [
            W(b"AT+CONF VERSION=2\n"),
            R(b"ERR11 UNKNOWN KEY\r\n"),
            W(b"AT+CONF Topic1=badge/b1/telemetry\n"),
            R(b"OK\r\n"),
        ]
    )

    async def scenario(client):
        with pytest.raises(ModuleError) as caught:
            await client.conf_set("VERSION", "2")
        assert caught.value.code == 11
        await client.conf_set("Topic1", "badge/b1/telemetry")

    client, _ = run(module, scenario)
    assert client.channel.module_errors == 1
    assert client.channel.resyncs == 1


def test_connect_success_and_failure_with_hint():
    module = ScriptedModule(
        SYNC
        + [
            W(b"AT+CONNECT\n"),
            R(b"ERR14 5 UNABLE TO CONNECT MQTT device authentication failure\r\n"),
            W(b"AT+CONNECT\n"),
            R(b"ERR14 5.1 UNABLE TO CONNECT\r\n"),
            W(b"AT+CONNECT\n"),
            D(5),
            R(b"OK 1 CONNECTED\r\n"),
        ]
    )

    async def scenario(client):
        hints = []
        for _ in range(2):
            with pytest.raises(ModuleError) as caught:
                await client.connect()
            hints.append((caught.value.code, caught.value.hint, caught.value.hint_code))
        await client.connect()
        return hints

    _, hints = run(module, scenario)
    assert hints == [(14, "5", 5), (14, "5.1", 5)]


def test_send_subscribe_disconnect_bytes():
    module = ScriptedModule(
        SYNC
        + [
            W(b'AT+SEND1 {"seq": 1,\\A"t": 21.5}\n'),
            R(b"OK\r\n"),
            W(b"AT+SUBSCRIBE2\n"),
            R(b"OK\r\n"),
            W(b"AT+UNSUBSCRIBE2\n"),
            R(b"OK\r\n"),
            W(b"AT+DISCONNECT\n"),
            R(b"OK 0 DISCONNECTED\r\n"),
        ]
    )

    async def scenario(client):
        await client.send(1, '{"seq": 1,\n"t": 21.5}')
        await client.subscribe(2)
        await client.unsubscribe(2)
        await client.disconnect()

    run(module, scenario)


def test_get_variants():
    module = ScriptedModule(
        SYNC
        + [
            W(b"AT+GET\n"),
            R(b"OK1 badge/b1/qr\r\nhello\\Aworld\r\n"),
            W(b"AT+GET\n"),
            R(b"OK\r\n"),
            W(b"AT+GET2\n"),
            R(b"OK \r\n"),
            W(b"AT+GET2\n"),
            R(b"OK\r\n"),
            W(b"AT+GET0\n"),
            R(b"OK1 badge/b1/expresslink_config\r\n"),
            R(b'{"Endpoint":"x"}\r\n'),
        ]
    )

    async def scenario(client):
        return [
            await client.get(),
            await client.get(),
            await client.get(2),
            await client.get(2),
            await client.get(0),
        ]

    _, got = run(module, scenario)
    assert got == [
        Message("badge/b1/qr", b"hello\nworld"),
        None,
        Message(None, b"", 2),
        None,
        Message("badge/b1/expresslink_config", b'{"Endpoint":"x"}', 0),
    ]


def test_time_and_pem():
    pem = [b"-----BEGIN CERTIFICATE-----", b"QUJD", b"-----END CERTIFICATE-----"]
    module = ScriptedModule(
        SYNC
        + [
            W(b"AT+TIME?\n"),
            R(b"OK date 2022/10/30 time 09:38:34.04 SNTP\r\n"),
            W(b"AT+CONF? Certificate pem\n"),
            R(b"OK3 pem\r\n" + b"\r\n".join(pem) + b"\r\n"),
        ]
    )

    async def scenario(client):
        return await client.time(), await client.conf_get_pem("Certificate")

    _, (module_time, text) = run(module, scenario)
    assert module_time.as_tuple() == (2022, 10, 30, 9, 38, 34, 40)
    assert text.splitlines() == [line.decode() for line in pem]


def test_shadow_commands():
    module = ScriptedModule(
        SYNC
        + [
            W(b"AT+SHADOW INIT\n"),
            R(b"OK\r\n"),
            W(b"AT+SHADOW2 DOC\n"),
            R(b"OK\r\n"),
            W(b"AT+SHADOW2 GET DOC\n"),
            R(b"OK\r\n"),
            W(b"AT+SHADOW2 GET DOC\n"),
            R(b'OK 1 {"state":{}}\r\n'),
            W(b'AT+SHADOW UPDATE {"state":{"reported":{"name":"Ada"}}}\n'),
            R(b"OK\r\n"),
            W(b"AT+SHADOW GET UPDATE\n"),
            R(b"OK 0 version conflict\r\n"),
            W(b"AT+SHADOW SUBSCRIBE\n"),
            R(b"OK\r\n"),
            W(b"AT+SHADOW GET DELTA\n"),
            R(b'OK {"state":{"name":"Bob"}}\r\n'),
            W(b"AT+SHADOW GET DELTA\n"),
            R(b"OK\r\n"),
        ]
    )

    async def scenario(client):
        await client.shadow_init()
        await client.shadow_request_doc(2)
        pending = await client.shadow_get_doc(2)
        doc = await client.shadow_get_doc(2)
        await client.shadow_update('{"state":{"reported":{"name":"Ada"}}}')
        update = await client.shadow_get_update()
        await client.shadow_subscribe()
        delta = await client.shadow_get_delta()
        no_delta = await client.shadow_get_delta()
        return pending, doc, update, delta, no_delta

    _, (pending, doc, update, delta, no_delta) = run(module, scenario)
    assert pending is None
    assert (doc.accepted, doc.document) == (True, b'{"state":{}}')
    assert (update.accepted, update.document) == (False, b"version conflict")
    assert delta == b'{"state":{"name":"Bob"}}'
    assert no_delta is None


@pytest.mark.parametrize(
    "call",
    [
        lambda c: c.send(0, "x"),
        lambda c: c.send(True, "x"),
        lambda c: c.subscribe(-1),
        lambda c: c.get(-1),
        lambda c: c.conf_get("Topic_1"),
        lambda c: c.conf_get("A" * 17),
        lambda c: c.conf_set("", "x"),
        lambda c: c.shadow_init(0),
        lambda c: c.send(1, "x" * 9300),
        lambda c: c.command("SEND1x"),
    ],
)
def test_caller_mistakes_raise_value_error_without_traffic(call):
    module = ScriptedModule([])

    async def scenario(client):
        with pytest.raises(ValueError):
            await call(client)

    run(module, scenario)


# -- bad input: garbage, silence, late replies, resets ----------------------------------


def test_garbage_line_then_resync():
    module = ScriptedModule(
        SYNC
        + [
            W(b"AT+CONF? ThingName\n"),
            R(b"#$%garbage\r\nOK badge-01\r\n"),
            W(b"AT\n"),
            R(b"OK\r\n"),
            W(b"AT+CONF? ThingName\n"),
            R(b"OK badge-01\r\n"),
        ]
    )

    async def scenario(client):
        with pytest.raises(ProtocolError):
            await client.conf_get("ThingName")
        assert not client.channel.in_step
        return await client.conf_get("ThingName")

    client, value = run(module, scenario)
    assert value == "badge-01"
    assert (client.channel.protocol_errors, client.channel.resyncs) == (1, 2)


def test_silence_times_out_then_resyncs_with_at():
    module = ScriptedModule(
        SYNC
        + [
            W(b"AT+SEND1 reading\n"),
            W(b"AT\n"),
            R(b"OK\r\n"),
            W(b"AT+SEND1 reading\n"),
            R(b"OK\r\n"),
        ]
    )

    async def scenario(client):
        started = now_s()
        with pytest.raises(CommandTimeout):
            await client.command("SEND1 reading", timeout_ms=40)
        elapsed = now_s() - started
        await client.command("SEND1 reading")
        return elapsed

    client, elapsed = run(module, scenario)
    # The 40 ms timeout, noticed at the client's next look at the UART (simulated time).
    assert 0.040 <= elapsed <= 0.050
    assert (client.channel.timeouts, client.channel.resyncs) == (1, 2)


def test_late_reply_is_drained_not_taken_for_the_next_command():
    module = ScriptedModule(
        SYNC
        + [
            W(b"AT+CONNECT\n"),
            D(60),
            R(b"OK 1 CONNECTED\r\n"),  # the CONNECT finishes after the host gave up
            W(b"AT\n"),
            R(b"OK\r\n"),
            W(b"AT+CONF? ThingName\n"),
            R(b"OK badge-01\r\n"),
        ]
    )

    async def scenario(client):
        with pytest.raises(CommandTimeout):
            await client.command("CONNECT", timeout_ms=30)
        await asyncio.sleep(0.1)
        return await client.conf_get("ThingName")

    client, value = run(module, scenario)
    assert value == "badge-01"
    assert client.channel.stray_bytes == len(b"OK 1 CONNECTED")  # EOLs are not counted


def test_late_reply_during_the_resync_is_detected_by_the_settle_window():
    """A late bare ``OK`` answers our AT first; the AT's own OK then breaks the silence."""
    module = ScriptedModule(
        SYNC
        + [
            W(b"AT+SEND1 reading\n"),
            W(b"AT\n"),
            R(b"OK\r\n"),  # the late reply to SEND1
            D(2),
            R(b"OK\r\n"),  # the reply to AT
            W(b"AT\n"),
            R(b"OK\r\n"),
            W(b"AT+GET1\n"),
            R(b"OK {}\r\n"),
        ]
    )

    async def scenario(client):
        with pytest.raises(CommandTimeout):
            await client.command("SEND1 reading", timeout_ms=20)
        return await client.get(1)

    client, message = run(module, scenario, settle_ms=15)
    assert message == Message(None, b"{}", 1)


@pytest.mark.parametrize(
    "late", [b"ERR14 3 UNABLE TO CONNECT\r\n", b"OK 1 CONNECTED\r\n", b"OK1 t\r\n"]
)
def test_late_replies_other_than_bare_ok_are_skipped_by_the_resync(late):
    module = ScriptedModule(
        SYNC
        + [
            W(b"AT+CONNECT\n"),
            W(b"AT\n"),
            R(late),  # the late CONNECT reply arrives after the drain
            R(b"OK\r\n"),
            W(b"AT+CONNECT?\n"),
            R(b"OK 0 0 DISCONNECTED STAGING\r\n"),
        ]
    )

    async def scenario(client):
        with pytest.raises(CommandTimeout):
            await client.command("CONNECT", timeout_ms=20)
        return await client.connection_status()

    client, status = run(module, scenario)
    assert (status.connected, status.onboarded, status.endpoint) == (False, False, "STAGING")
    assert client.channel.resync.stray_lines == 1


def test_noise_while_idle_is_drained_before_the_next_command():
    module = ScriptedModule(
        SYNC
        + [
            W(b"AT+CONF? ThingName\n"),
            R(b"OK b1\r\n"),
            R(b"noise\r\n"),
            W(b"AT+CONF? Version\n"),
            R(b"OK 1.0\r\n"),
        ]
    )

    async def scenario(client):
        first = await client.conf_get("ThingName")
        await asyncio.sleep(0.01)
        return first, await client.conf_get("Version")

    client, values = run(module, scenario)
    assert values == ("b1", "1.0")
    assert (client.channel.stray_bytes, client.channel.resyncs) == (5, 1)


def test_drain_without_reset_input_buffer():
    module = ScriptedModule(
        SYNC
        + [
            W(b"AT+CONNECT\n"),
            D(40),
            R(b"OK 1 CONNECTED\r\n" * 100),
            W(b"AT\n"),
            R(b"OK\r\n"),
            W(b"AT+CONF? ThingName\n"),
            R(b"OK b1\r\n"),
        ],
        with_reset_input_buffer=False,
    )

    async def scenario(client):
        with pytest.raises(CommandTimeout):
            await client.command("CONNECT", timeout_ms=20)
        await asyncio.sleep(0.08)
        return await client.conf_get("ThingName")

    _, value = run(module, scenario)
    assert value == "b1"


def test_module_reset_mid_command_then_startup_event():
    module = ScriptedModule(
        SYNC
        + [
            W(b"AT+SEND1 reading\n"),
            R(b"OK"),  # partial reply, then the module reboots
            R(b"\x00\xff"),
            D(10),
            L("event", True),  # booted: STARTUP queued
            W(b"AT\n"),
            R(b"OK\r\n"),
            W(b"AT+EVENT?\n"),
            L("event", False),
            R(b"OK 2 0 STARTUP\r\n"),
            W(b"AT+SEND1 reading\n"),
            R(b"OK\r\n"),
        ]
    )
    event_pin = module.pin("event", is_input=True)

    async def scenario(client):
        with pytest.raises(CommandTimeout):
            await client.command("SEND1 reading", timeout_ms=30)
        event = await client.next_event(timeout_ms=1000)
        await client.send(1, "reading")
        return event

    client, event = run(module, scenario, event_pin=event_pin, pin_poll_ms=5)
    assert event == Event(2, 0, "STARTUP", "")
    assert (client.channel.timeouts, client.channel.resyncs) == (1, 2)


def test_failed_resync_pulses_reset_and_waits_for_startup():
    module = ScriptedModule(
        [
            P("reset", True),  # constructor: RST released
            W(b"AT\n"),
            W(b"AT\n"),
            W(b"AT\n"),  # three silent tries
            P("reset", False),
            P("reset", True),
            D(20),
            L("event", True),  # STARTUP queued
            W(b"AT\n"),
            R(b"\x00\xffOK\r\n"),
            W(b"AT+CONF? ThingName\n"),
            R(b"OK badge-01\r\n"),
        ]
    )
    reset_pin = module.pin("reset")
    event_pin = module.pin("event", is_input=True)
    client, value = run(
        module, lambda c: c.conf_get("ThingName"), reset_pin=reset_pin, event_pin=event_pin
    )
    assert value == "badge-01"
    assert client.channel.resync.hard_resets == 1


def test_failed_resync_without_reset_pin_raises_and_retries_next_time():
    module = ScriptedModule([W(b"AT\n")] * 3 + SYNC + [W(b"AT+CONF? ThingName\n"), R(b"OK b\r\n")])

    async def scenario(client):
        with pytest.raises(CommandTimeout):
            await client.conf_get("ThingName")
        assert not client.channel.in_step
        return await client.conf_get("ThingName")

    _, value = run(module, scenario)
    assert value == "b"


def test_wait_ready_retries_at_while_the_module_boots():
    module = ScriptedModule(
        [
            W(b"AT\n"),
            R(b"\x00\x00\xff"),  # power-up glitch, no answer
            W(b"AT\n"),
            R(b"OK\r\n"),
        ]
    )
    client, _ = run(module, lambda c: c.wait_ready(timeout_ms=1000))
    assert client.channel.in_step


def test_wait_ready_gives_up():
    module = ScriptedModule([W(b"AT\n")] * 2)

    async def scenario(client):
        with pytest.raises(CommandTimeout):
            await client.wait_ready(timeout_ms=100)

    run(module, scenario, ping_timeout_ms=60)


def test_soft_reset_waits_until_the_module_answers():
    module = ScriptedModule(
        SYNC
        + [
            W(b"AT+RESET\n"),
            R(b"OK\r\n"),
            W(b"AT\n"),  # deaf while rebooting
            W(b"AT\n"),
            R(b"OK\r\n"),
            W(b"AT+EVENT?\n"),
            R(b"OK 2 0 STARTUP\r\n"),
        ]
    )

    async def scenario(client):
        await client.reset()
        return await client.poll_event()

    _, event = run(module, scenario)
    assert event.id == 2


def test_cancelled_command_leaves_the_link_to_resync():
    module = ScriptedModule(
        SYNC
        + [W(b"AT+CONF? ThingName\n"), W(b"AT\n"), R(b"OK\r\n"), W(b"AT+TIME?\n")]
        + [R(b"OK 2024/01/01 00:00:00 SNTP\r\n")]
    )

    async def scenario(client):
        with pytest.raises(asyncio.TimeoutError):
            await asyncio.wait_for(client.conf_get("ThingName"), 0.03)
        return await client.time()

    client, module_time = run(module, scenario)
    assert module_time.year == 2024
    assert client.channel.resyncs == 2


def test_overlong_reply_line_is_a_protocol_error():
    module = ScriptedModule(
        SYNC
        + [W(b"AT+GET1\n"), R(b"OK " + b"x" * 300 + b"\r\n"), W(b"AT\n"), R(b"OK\r\n")]
        + [W(b"AT+GET1\n"), R(b"OK\r\n")]
    )

    async def scenario(client):
        with pytest.raises(ProtocolError):
            await client.get(1)
        return await client.get(1)

    _, message = run(module, scenario, line_capacity=128)
    assert message is None


def test_failing_uart_write_does_not_wedge_the_client():
    class FlakyModule(ScriptedModule):
        failures_left = 1

        def write(self, data):
            if data.startswith(b"AT+CONF?") and self.failures_left:
                self.failures_left -= 1
                raise OSError(5, "UART write failed")
            return super().write(data)

    module = FlakyModule(SYNC + SYNC + [W(b"AT+CONF? ThingName\n"), R(b"OK b1\r\n")])

    async def scenario(client):
        with pytest.raises(OSError):
            await client.conf_get("ThingName")
        return await client.conf_get("ThingName")

    _, value = run(module, scenario)
    assert value == "b1"


def test_nine_kilobyte_message_in_many_reads():
    payload = (b'{"photo": "' + b"QUJD" * 2200 + b'"}\n') * 1  # ~8.8 KB with an LF
    escaped = payload.replace(b"\n", b"\\A")
    reply = b"OK1 badge/b1/photo\r\n" + escaped + b"\r\n"
    chunks = [R(reply[i : i + 700]) for i in range(0, len(reply), 700)]
    module = ScriptedModule(SYNC + [W(b"AT+GET\n")] + chunks)
    _, message = run(module, lambda c: c.get())
    assert message == Message("badge/b1/photo", payload)


def test_hard_reset_needs_a_reset_pin():
    async def scenario(client):
        with pytest.raises(ValueError):
            await client.channel.recover(PULSE)

    run(ScriptedModule([]), scenario)


# -- events -----------------------------------------------------------------------------


def test_event_pin_low_means_no_traffic():
    module = ScriptedModule([])
    event_pin = module.pin("event", is_input=True)

    async def scenario(client):
        return await client.poll_event(), await client.poll_events()

    _, (one, many) = run(module, scenario, event_pin=event_pin)
    assert (one, many) == (None, [])


def test_event_pin_high_loops_event_query_until_bare_ok():
    module = ScriptedModule(
        [L("event", True)]
        + SYNC
        + [
            W(b"AT+EVENT?\n"),
            R(b"OK 1 1 MSG\r\n"),
            W(b"AT+EVENT?\n"),
            L("event", False),
            R(b"OK 8 1 SUBACK\r\n"),
            W(b"AT+EVENT?\n"),
            R(b"OK\r\n"),
        ]
    )
    event_pin = module.pin("event", is_input=True)
    _, events = run(module, lambda c: c.poll_events(), event_pin=event_pin)
    assert [(e.id, e.param, e.name) for e in events] == [(1, 1, "MSG"), (8, 1, "SUBACK")]


def test_events_taken_before_a_failed_query_are_not_lost():
    module = ScriptedModule(
        SYNC
        + [
            W(b"AT+EVENT?\n"),
            R(b"OK 1 2 MSG\r\n"),
            W(b"AT+EVENT?\n"),
            R(b"OK garbled\r\n"),  # framing intact: no resync needed
            W(b"AT+EVENT?\n"),
            R(b"OK\r\n"),
        ]
    )

    async def scenario(client):
        with pytest.raises(ProtocolError):
            await client.poll_events()
        return await client.poll_events()

    _, events = run(module, scenario)
    assert events == [Event(1, 2, "MSG", "")]


def test_next_event_waits_for_the_pin_before_asking():
    module = ScriptedModule(
        [D(40), L("event", True)] + SYNC + [W(b"AT+EVENT?\n"), R(b"OK 3 0 CONLOST\r\n")]
    )
    event_pin = module.pin("event", is_input=True)
    _, event = run(
        module, lambda c: c.next_event(timeout_ms=2000), event_pin=event_pin, pin_poll_ms=10
    )
    assert event == Event(3, 0, "CONLOST", "")


def test_next_event_polls_event_query_without_a_pin():
    module = ScriptedModule(
        SYNC
        + [W(b"AT+EVENT?\n"), R(b"OK\r\n"), W(b"AT+EVENT?\n"), R(b"OK 6 2 CONNECT\r\n")]
    )

    async def scenario(client):
        started = now_s()
        event = await client.next_event(timeout_ms=2000)
        return event, now_s() - started

    _, (event, elapsed) = run(module, scenario, event_poll_ms=50)
    assert (event.id, event.param) == (6, 2)
    assert elapsed >= 0.045  # waited one poll interval between the two questions


def test_idle_with_pin_wakes_only_a_few_times_per_second():
    module = ScriptedModule([])
    event_pin = module.pin("event", is_input=True)
    _, event = run(module, lambda c: c.next_event(timeout_ms=600), event_pin=event_pin)
    assert event is None
    assert event_pin.reads <= 4  # default pin_poll_ms = 250


def test_idle_without_pin_asks_once_per_poll_interval():
    module = ScriptedModule(SYNC + [W(b"AT+EVENT?\n"), R(b"OK\r\n")] * 3)
    _, event = run(module, lambda c: c.next_event(timeout_ms=250), event_poll_ms=100)
    assert event is None


# -- pins, pacing, round trip -----------------------------------------------------------


def test_constructor_releases_reset_and_holds_wake_low():
    module = ScriptedModule([P("reset", True), P("wake", False)])
    reset_pin, wake_pin = module.pin("reset"), module.pin("wake")

    async def scenario(client):
        return None

    run(module, scenario, reset_pin=reset_pin, wake_pin=wake_pin)
    assert (reset_pin.level, wake_pin.level) == (True, False)


def test_hard_reset_on_request():
    module = ScriptedModule(
        [P("reset", True), P("reset", False), P("reset", True), W(b"AT\n"), R(b"OK\r\n")]
    )
    reset_pin = module.pin("reset")
    client, _ = run(module, lambda c: c.channel.recover(PULSE), reset_pin=reset_pin)
    assert client.channel.in_step and client.channel.resync.hard_resets == 1


def test_poll_interval_pacing():
    assert [poll_interval_ms(q) for q in (0, 5, 15)] == [1, 1, 1]
    assert poll_interval_ms(16) == 2
    assert poll_interval_ms(200) == 25
    assert poll_interval_ms(100_000) == 50


def test_round_trip_overhead_is_small():
    """Reply bytes appear 0.35 ms (wire time of ``OK\\r\\n``) after the command; the
    client, looking at the UART every 1 ms while a reply is due, has it within 1 ms of
    that (simulated time; the real-time figure is in ``make bench``)."""
    wire_s = 4 * 10 / 115200
    count = 31
    module = ScriptedModule(SYNC + [W(b"AT\n"), D(wire_s * 1000), R(b"OK\r\n")] * count)

    async def scenario(client):
        await client.channel.recover()
        round_trips = []
        for _ in range(count):
            started = now_s()
            await client.ping()
            round_trips.append(now_s() - started)
        return sorted(round_trips)[count // 2]

    _, median_s = run(module, scenario)
    assert wire_s <= median_s <= wire_s + 0.001


# -- examples/expresslink_simpletest.py runs on CircuitPython: it parses, uses nothing ----
# CPython-only, imports only what a Pico with the library has, and type checks against
# circuitpython-stubs (busio.UART's keywords, the Pico's pins).

EXAMPLE_ROOT = Path(__file__).resolve().parent.parent
EXAMPLE = EXAMPLE_ROOT / "examples" / "expresslink_simpletest.py"
CIRCUITPYTHON_MODULES = {"asyncio", "board", "busio", "digitalio"}


def test_simpletest_parses_and_lints_clean():
    source = EXAMPLE.read_text()
    compile(source, str(EXAMPLE), "exec")
    assert cp_lint.lint_source(source, "examples/expresslink_simpletest.py", entry=True) == []


def test_simpletest_imports_only_what_exists():
    tree = ast.parse(EXAMPLE.read_text())
    seen = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            seen.extend((alias.name, None) for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            seen.extend((node.module, alias.name) for alias in node.names)
    assert seen
    for module, name in seen:
        if module.split(".")[0] == "expresslink":
            loaded = importlib.import_module(module)  # lib/expresslink on this checkout
            assert name is None or hasattr(loaded, name), (module, name)
        else:
            assert module in CIRCUITPYTHON_MODULES and name is None, module


@pytest.mark.parametrize("change", [None, ("receiver_buffer_size", "rx_buffer_size")],
                         ids=["as-is", "no-such-keyword"])
def test_simpletest_type_checks_against_circuitpython_stubs(tmp_path, change):
    source = EXAMPLE.read_text()
    if change is not None:
        assert change[0] in source
        source = source.replace(change[0], change[1])
    (tmp_path / "examples").mkdir()
    (tmp_path / "examples" / EXAMPLE.name).write_text(source)
    shutil.copytree(EXAMPLE_ROOT / "lib" / "expresslink", tmp_path / "lib" / "expresslink",
                    ignore=shutil.ignore_patterns("__pycache__"))
    report = typecheck.run_mypy(root=tmp_path, targets=["examples"])
    assert report.ok is (change is None), report.output
