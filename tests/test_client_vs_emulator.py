"""The badge's ExpressLink client against the emulated module, on virtual time.

Both sides were written separately (the client from the specification digest, the
module emulator from the same digest with its own parser), so each checks the other.
The client runs over the host end of a 115200-baud SerialLink wrapped to look like
``busio.UART``; the module sits on the device end with an in-memory broker
(``MemoryBroker``, fast) or, where it matters, the real embedded MQTT broker with its
device shadow service.
"""

import asyncio
import json

import pytest

import expresslink.channel as channel_module
import expresslink.client as client_module
from expresslink import CommandTimeout, Message, ModuleError, ProtocolError
from expresslink import events as ev
from expresslink.client import ExpressLinkClient

from sim.core.clock import VirtualClock
from sim.cloud.memory_broker import MemoryBroker
from sim.expresslink.module import ExpressLinkModule
from sim.core.loop import SimEventLoop
from sim.core.serial_link import SerialLink

THING = "badge-7"
TICKS_PERIOD = 1 << 29
# ticks_ms starts 65 s before its wrap, as on the badge, so every test crosses it soon.
TICKS_START_MS = TICKS_PERIOD - 65_000


class BusioUart:
    """The host end of a SerialLink as ``busio.UART(timeout=0)`` presents it.

    ``read(n)`` returns None when nothing has arrived (busio's way), never blocks.
    ``written`` keeps every command line the host sent (however many ``write`` calls
    it took), for traffic assertions.
    """

    def __init__(self, end):
        self._end = end
        self.written = []
        self._partial = b""

    @property
    def in_waiting(self):
        return self._end.in_waiting

    def read(self, nbytes=None):
        data = self._end.read(nbytes)
        return data or None

    def write(self, buf):
        data = bytes(buf)
        self._partial += data
        while b"\n" in self._partial:
            line, self._partial = self._partial.split(b"\n", 1)
            self.written.append(line + b"\n")
        return self._end.write(data)

    def reset_input_buffer(self):
        self._end.reset_input_buffer()

    def count(self, prefix):
        """How many written lines start with ``prefix`` (bytes)."""
        return sum(1 for line in self.written if line.startswith(prefix))


class EventPin:
    """The badge's EVENT input, wired to the module's EVENT output."""

    def __init__(self, module):
        self._module = module

    @property
    def value(self):
        return bool(self._module.event_pin)


class ModulePin:
    """A badge output wired to a module input (RST or WAKE): setting it drives the input."""

    def __init__(self, drive, level=True):
        self._drive = drive
        self._level = level
        self.history = []

    @property
    def value(self):
        return self._level

    @value.setter
    def value(self, level):
        self._level = bool(level)
        self.history.append(self._level)
        self._drive(self._level)


def counters_of(channel):
    """The channel's diagnostics counters as one dict."""
    resync = channel.resync
    return {"commands": channel.commands, "timeouts": channel.timeouts,
            "module_errors": channel.module_errors, "protocol_errors": channel.protocol_errors,
            "resyncs": channel.resyncs, "stray_bytes": channel.stray_bytes,
            "hard_resets": resync.hard_resets, "stray_lines": resync.stray_lines}


class Rig:
    """A module, its cloud and the badge's client on one SerialLink."""

    def __init__(self, clock, cloud_link, broker=None, *, event_pin=True, reset_pin=True,
                 module_options=None, knobs=None, client_options=None):
        self.clock = clock
        self.broker = broker
        self.link = SerialLink(clock)
        options = {"seed": 3}
        options.update(module_options or {})
        self.module = ExpressLinkModule(clock, self.link.device, cloud_link, THING, **options)
        for name, value in (knobs or {}).items():
            setattr(self.module, name, value)
        self.uart = BusioUart(self.link.host)
        self.event_pin = EventPin(self.module) if event_pin else None
        self.reset_pin = ModulePin(self.module.set_reset) if reset_pin else None
        self.wake_pin = ModulePin(self.module.set_wake)
        self.client = ExpressLinkClient(self.uart, event_pin=self.event_pin,
                                        reset_pin=self.reset_pin, wake_pin=self.wake_pin,
                                        **(client_options or {}))

    async def ready(self):
        """Wait for the module after power-up and take its STARTUP event."""
        await self.client.wait_ready()
        event = await self.client.next_event(timeout_ms=2000)
        assert event is not None and event.id == ev.STARTUP, event

    async def online(self, topics=()):
        """Set ``topics`` ({index: topic}) and connect."""
        for index, topic in dict(topics).items():
            await self.client.conf_set("Topic%d" % index, topic)
        await self.client.connect()

    async def event(self, wanted_id, timeout_ms=5000):
        """The next event, which must be ``wanted_id``."""
        event = await self.client.next_event(timeout_ms=timeout_ms)
        assert event is not None, "no event %d within %d ms" % (wanted_id, timeout_ms)
        assert event.id == wanted_id, event
        return event


@pytest.fixture
def virtual_ticks(monkeypatch):
    """Run the client's ticks_ms on the current test's virtual clock."""
    holder = {}

    def ticks_ms():
        return (int(holder["clock"].now() * 1000) + TICKS_START_MS) % TICKS_PERIOD

    monkeypatch.setattr(channel_module, "ticks_ms", ticks_ms)
    monkeypatch.setattr(client_module, "ticks_ms", ticks_ms)
    return holder


def _run_loop(clock, main):
    loop = SimEventLoop(clock)
    asyncio.set_event_loop(loop)
    try:
        result = loop.run_until_complete(main())
        pending = [task for task in asyncio.all_tasks(loop) if not task.done()]
        for task in pending:
            task.cancel()
        if pending:
            loop.run_until_complete(asyncio.gather(*pending, return_exceptions=True))
        loop.run_until_complete(loop.shutdown_asyncgens())
    finally:
        asyncio.set_event_loop(None)
        loop.close()
    assert loop.errors == [], loop.errors
    return result


@pytest.fixture
def fake(virtual_ticks):
    """``fake(scenario, **rig_options)``: run ``scenario(rig)`` with a MemoryBroker cloud."""

    def run(scenario, boot=True, **options):
        clock = virtual_ticks["clock"] = VirtualClock()
        box = {}

        async def main():
            broker = MemoryBroker()
            rig = box["rig"] = Rig(clock, broker.link(), broker, **options)
            rig.module.start()
            try:
                if boot:
                    await rig.ready()
                return await scenario(rig)
            finally:
                await rig.module.close()

        result = _run_loop(clock, main)
        assert box["rig"].module.internal_errors == []
        return result

    return run


@pytest.fixture
def embedded(virtual_ticks):
    """``embedded(scenario)``: the module's cloud is the embedded MQTT broker + shadow service."""

    def run(scenario, **options):
        from sim.cloud.mqtt_link import MqttCloudLink
        from sim.cloud.run import EmbeddedCloud

        clock = virtual_ticks["clock"] = VirtualClock()
        box = {}

        async def main():
            async with EmbeddedCloud(clock=clock) as cloud:
                observer = MqttCloudLink(cloud.url)
                seen = []
                observer.on_message = lambda topic, payload: seen.append((topic, bytes(payload)))
                await observer.connect("observer")
                rig = box["rig"] = Rig(clock, MqttCloudLink(cloud.url), **options)
                rig.cloud = cloud
                rig.observer = observer
                rig.seen = seen
                rig.module.start()
                try:
                    await rig.ready()
                    return await scenario(rig)
                finally:
                    await rig.module.close()
                    await observer.disconnect()

        result = _run_loop(clock, main)
        assert box["rig"].module.internal_errors == []
        return result

    return run


# -- start-up --------------------------------------------------------------------------


def test_wait_ready_through_boot_garbage_then_startup(fake):
    async def scenario(rig):
        clock = rig.clock
        started = clock.now()
        await rig.client.wait_ready()
        # The module is deaf for boot_time_s: the first answer cannot come earlier.
        assert clock.now() - started >= rig.module.boot_time_s
        assert rig.client.channel.in_step
        await rig.event(ev.STARTUP, timeout_ms=1000)
        assert await rig.client.poll_events() == []
        return counters_of(rig.client.channel)

    counters = fake(scenario, boot=False,
                    knobs={"boot_garbage": b"\x00\xff\x00boot rom v2\r\n\xff"})
    assert counters["stray_bytes"] + counters["stray_lines"] > 0  # the garbage was seen, dropped


def test_conf_get_set_and_escaping_both_ways(fake):
    async def scenario(rig):
        client = rig.client
        assert await client.conf_get("ThingName") == THING
        assert await client.conf_get("Topic1") == ""
        await client.conf_set("Topic1", "badge/%s/telemetry" % THING)
        assert await client.conf_get("Topic1") == "badge/badge-7/telemetry"
        # Spaces, '=', a line break and a backslash survive the escaping in both directions.
        name = "Ada = Lovelace\nline two \\ end"
        await client.conf_set("CustomName", name)
        assert await client.conf_get("CustomName") == name
        await client.conf_set("Topic1", "")
        assert await client.conf_get("Topic1") == ""
        with pytest.raises(ModuleError) as readonly:
            await client.conf_set("ThingName", "other")
        with pytest.raises(ModuleError) as writeonly:
            await client.conf_get("Passphrase")
        with pytest.raises(ModuleError) as unknown:
            await client.conf_get("THINGNAME")  # keys are case-sensitive
        assert client.channel.in_step  # an ERR reply leaves the link in step
        return readonly.value.code, writeonly.value.code, unknown.value.code

    assert fake(scenario) == (12, 13, 11)


# -- connection and messages -----------------------------------------------------------


def test_connect_send_and_status(fake):
    async def scenario(rig):
        client = rig.client
        status = await client.connection_status()
        assert (status.connected, status.state) == (False, "DISCONNECTED")
        with pytest.raises(ModuleError) as no_topic:
            await client.send(1, "no topic yet")
        await client.conf_set("Topic1", "badge/badge-7/telemetry")
        with pytest.raises(ModuleError) as offline:
            await client.send(1, "too early")
        started = rig.clock.now()
        await client.connect()
        assert rig.clock.now() - started >= rig.module.connect_time_s
        assert await client.is_connected()
        assert THING in rig.broker.sessions  # ThingName is the MQTT client id
        await client.send(1, '{"seq":1,"t":23.50}')
        await client.send(1, b"second")
        await asyncio.sleep(0.01)
        return no_topic.value.code, offline.value.code, rig.broker.published("badge/#")

    codes = fake(scenario)
    assert codes[:2] == (8, 6)  # empty Topic1: PARAMETER UNDEFINED; offline: NO CONNECTION
    published = codes[2]
    assert published == [("badge/badge-7/telemetry", b'{"seq":1,"t":23.50}'),
                         ("badge/badge-7/telemetry", b"second")]


@pytest.mark.parametrize("with_pin", [True, False], ids=["event-pin", "event-query"])
def test_subscribed_message_arrives_as_msg_event_and_get(fake, with_pin):
    async def scenario(rig):
        client = rig.client
        await rig.online({2: "badge/badge-7/qr"})
        await client.subscribe(2)
        assert (await rig.event(ev.SUBACK)).param == 2
        rig.broker.publish("badge/badge-7/qr", b"https://example.org/\r\nsecond line")
        event = await rig.event(ev.MSG)
        assert event.param == 2
        message = await client.get(2)
        assert await client.get(2) is None  # taken: the queue is empty again
        return message

    message = fake(scenario, event_pin=with_pin)
    assert message == Message(None, b"https://example.org/\r\nsecond line", 2)


@pytest.mark.parametrize("with_pin", [True, False], ids=["event-pin", "event-query"])
def test_event_pin_saves_queries_and_both_paths_see_the_same_events(fake, with_pin):
    async def scenario(rig):
        client = rig.client
        uart = rig.uart
        before = uart.count(b"AT+EVENT?")
        assert await client.poll_events() == []
        queries_when_empty = uart.count(b"AT+EVENT?") - before
        await rig.online({2: "badge/badge-7/qr", 3: "badge/badge-7/photo"})
        await client.subscribe(2)
        await client.subscribe(3)
        rig.module.inject_event(1001, 4, "vendor detail", "VENDOR")
        await asyncio.sleep(0.5)
        events = await client.poll_events()
        assert await client.poll_events() == []
        return queries_when_empty, [(e.id, e.param, e.name, e.detail) for e in events]

    queries, events = fake(scenario, event_pin=with_pin)
    assert queries == (0 if with_pin else 1)
    assert events == [(ev.SUBACK, 2, "SUBACK", ""), (ev.SUBACK, 3, "SUBACK", ""),
                      (1001, 4, "VENDOR", "vendor detail")]


def test_next_event_waits_without_flooding_the_line(fake):
    async def scenario(rig):
        uart = rig.uart
        before = uart.count(b"AT+EVENT?")
        assert await rig.client.next_event(timeout_ms=10_000) is None
        return uart.count(b"AT+EVENT?") - before

    assert fake(scenario, event_pin=True) == 0
    # Without a pin: one EVENT? per event_poll_ms (1 s) over 10 s.
    assert 9 <= fake(scenario, event_pin=False) <= 11


def test_connection_loss_then_reconnect_and_resubscribe(fake):
    async def scenario(rig):
        client = rig.client
        await rig.online({1: "badge/badge-7/telemetry", 2: "badge/badge-7/qr"})
        await client.subscribe(2)
        await rig.event(ev.SUBACK)
        rig.module.drop_connection()
        await rig.event(ev.CONLOST)
        assert not await client.is_connected()
        with pytest.raises(ModuleError) as lost:
            await client.send(1, "while offline")
        await client.connect()  # a lost connection imposes no backoff
        await client.subscribe(2)  # the module keeps no subscriptions across connections
        await rig.event(ev.SUBACK)
        await client.send(1, "after reconnect")
        rig.broker.publish("badge/badge-7/qr", b"hello again")
        await rig.event(ev.MSG)
        message = await client.get(2)
        await asyncio.sleep(0.01)
        return lost.value.code, message.payload, rig.broker.published("badge/+/telemetry")

    code, payload, published = fake(scenario)
    assert code == 6
    assert payload == b"hello again"
    assert published == [("badge/badge-7/telemetry", b"after reconnect")]


def test_refused_connection_is_typed_with_hint_then_backoff(fake):
    async def scenario(rig):
        client = rig.client
        rig.module.refuse_connections = True
        with pytest.raises(ModuleError) as refused:
            await client.connect()
        with pytest.raises(ModuleError) as backoff:
            await client.connect()  # at once: inside the module's backoff window
        assert client.channel.in_step  # typed errors from the module: no resync needed
        rig.module.refuse_connections = False
        await asyncio.sleep(rig.module.connection.backoff_max_s)
        await client.connect()
        return refused.value, backoff.value

    refused, backoff = fake(scenario)
    assert (refused.code, refused.hint, refused.hint_code) == (14, "5", 5)
    assert (backoff.code, backoff.hint_code) == (14, 1)


def test_unreachable_endpoint_hint(fake):
    async def scenario(rig):
        rig.module.unreachable = True
        with pytest.raises(ModuleError) as error:
            await rig.client.connect()
        return error.value.hint_code

    assert fake(scenario) == 3


# -- broken exchanges and recovery -----------------------------------------------------


def test_module_reset_mid_command_is_typed_then_resync_works(fake):
    async def scenario(rig):
        client = rig.client
        rig.module.reset_mid_command = True
        started = rig.clock.now()
        with pytest.raises((CommandTimeout, ProtocolError)):
            await client.conf_get("ThingName")
        assert rig.clock.now() - started <= 6.0  # bounded by the command's timeout
        assert not client.channel.in_step
        assert rig.module.boots == 2
        assert await client.conf_get("ThingName") == THING  # resynchronised
        # The reboot's STARTUP stays queued for the application.
        await rig.event(ev.STARTUP, timeout_ms=100)
        return counters_of(client.channel)

    counters = fake(scenario)
    assert counters["resyncs"] >= 1 and counters["hard_resets"] == 0


def test_hung_module_is_recovered_with_the_reset_pin(fake):
    async def scenario(rig):
        client = rig.client
        rig.module.hang = True
        with pytest.raises(CommandTimeout):
            await client.conf_get("ThingName")
        value = await client.conf_get("ThingName")  # resync fails, RST pulse, resync
        return value, rig.reset_pin.history, rig.module.boots, counters_of(client.channel)

    value, pin_history, boots, counters = fake(scenario)
    assert value == THING
    assert pin_history[-2:] == [False, True]  # pulled low, then released
    assert boots == 2
    assert counters["hard_resets"] == 1


def test_wait_ready_pulses_reset_when_the_module_stays_silent(fake):
    async def scenario(rig):
        await rig.client.wait_ready()
        rig.module.hang = True  # e.g. a firmware fault in the module
        await rig.client.wait_ready(timeout_ms=3000)
        assert await rig.client.conf_get("ThingName") == THING
        return rig.reset_pin.history, rig.module.boots

    history, boots = fake(scenario, boot=False)
    assert history[-2:] == [False, True] and boots == 2


def test_wait_ready_without_reset_pin_gives_up_typed(fake):
    async def scenario(rig):
        rig.module.hang = True
        with pytest.raises(CommandTimeout, match="not ready"):
            await rig.client.wait_ready(timeout_ms=3000)

    fake(scenario, boot=False, reset_pin=False)


def test_hung_module_without_reset_pin_is_a_typed_timeout(fake):
    async def scenario(rig):
        rig.module.hang = True
        with pytest.raises(CommandTimeout):
            await rig.client.conf_get("ThingName")
        with pytest.raises(CommandTimeout, match="does not answer"):
            await rig.client.conf_get("ThingName")
        rig.module.hang = False  # the module comes back by itself
        return await rig.client.conf_get("ThingName")

    assert fake(scenario, reset_pin=False) == THING


def test_garbage_while_idle_is_drained(fake):
    async def scenario(rig):
        rig.module.inject_garbage(b"\xff\x00noise\r\nOK 1 stray\r\npartial")
        await asyncio.sleep(0.01)
        assert await rig.client.conf_get("ThingName") == THING
        return counters_of(rig.client.channel)

    counters = fake(scenario)
    assert counters["stray_bytes"] >= len(b"noiseOK 1 straypartial")
    assert counters["protocol_errors"] == 0


def test_garbage_inside_a_reply_is_a_protocol_error_then_the_late_reply_is_skipped(fake):
    async def scenario(rig):
        client = rig.client
        await client.conf_set("Topic1", "badge/badge-7/telemetry")
        # Noise on the line half-way through the 1.5 s CONNECT.
        asyncio.get_running_loop().call_later(
            0.5, rig.module.inject_garbage, b"#@!junk\r\n")
        with pytest.raises(ProtocolError):
            await client.connect()
        # The late "OK 1 CONNECTED" must not be taken as the answer to a later command.
        status = await client.connection_status()
        await client.send(1, "after the noise")
        return status.connected, counters_of(client.channel)

    connected, counters = fake(scenario)
    assert connected is True
    assert counters["protocol_errors"] == 1 and counters["resyncs"] >= 1


def test_partial_line_then_silence_times_out_and_recovers(fake):
    async def scenario(rig):
        client = rig.client
        # A reply cut short: the module sends half a line and then nothing.
        rig.module.reset_mid_command = b"OK 1 CONNE"
        with pytest.raises((CommandTimeout, ProtocolError)):
            await client.connection_status()
        return await client.connection_status()

    status = fake(scenario)
    assert status.connected is False


# -- the real broker behind the module -------------------------------------------------


def test_messaging_through_the_embedded_broker(embedded):
    async def scenario(rig):
        client = rig.client
        await rig.observer.subscribe("badge/badge-7/#", 1)
        await rig.online({1: "badge/badge-7/telemetry", 2: "badge/badge-7/qr"})
        await client.subscribe(2)
        await rig.event(ev.SUBACK)
        await client.send(1, '{"seq":1,"t":23.50,"rh":41.00,"up":3}')
        await rig.observer.publish("badge/badge-7/qr", b"from the cloud", 1)
        event = await rig.event(ev.MSG)
        message = await client.get(event.param)
        rig.module.drop_connection()
        await rig.event(ev.CONLOST)
        await client.connect()
        await client.send(1, "again")
        await asyncio.sleep(0.05)
        return message, [m for m in rig.seen if m[0].endswith("telemetry")]

    message, telemetry = embedded(scenario)
    assert message == Message(None, b"from the cloud", 2)
    assert telemetry == [("badge/badge-7/telemetry", b'{"seq":1,"t":23.50,"rh":41.00,"up":3}'),
                         ("badge/badge-7/telemetry", b"again")]


def escaped_length(data):
    return len(data) + data.count(b"\n") + data.count(b"\r") + data.count(b"\\")


def test_nine_kilobyte_message_round_trip_through_the_embedded_broker(embedded):
    # 9 KB with line breaks and backslashes, sized so that the escaped SEND line is
    # exactly the 9216 bytes a command may have (LF and backslash cost 2 bytes each).
    room = 9216 - len(b"AT+SEND1 \n")
    payload = b""
    number = 0
    while True:
        line = b"%04d: " % number + b"telemetry history " * 16 + b"\\\n"
        if escaped_length(payload + line) > room:
            break
        payload += line
        number += 1
    payload += b"x" * (room - escaped_length(payload))
    assert len(payload) > 9000 and escaped_length(payload) == room

    async def scenario(rig):
        client = rig.client
        await rig.online({1: "badge/badge-7/echo"})
        await client.subscribe(1)
        await rig.event(ev.SUBACK)
        await client.send(1, payload)  # the broker echoes it to the subscription
        assert len(rig.uart.written[-1]) == 9216
        event = await rig.event(ev.MSG)
        return (await client.get(event.param)).payload

    assert embedded(scenario) == payload


def test_shadow_init_update_doc_through_the_shadow_service(embedded):
    async def scenario(rig):
        client = rig.client
        with pytest.raises(ModuleError) as disabled:
            await client.shadow_init()  # EnableShadow is 0 after boot
        await client.conf_set("EnableShadow", "1")
        await client.connect()
        await client.shadow_init()
        await rig.event(ev.SHADOW_INIT)
        await client.shadow_update('{"state":{"reported":{"screen":"climate","t":23.5}}}')
        await rig.event(ev.SHADOW_UPDATE)
        update = await client.shadow_get_update()
        await client.shadow_request_doc()
        await rig.event(ev.SHADOW_DOC)
        doc = await client.shadow_get_doc()
        return disabled.value.code, update, doc

    code, update, doc = embedded(scenario)
    assert code == 24
    assert update.accepted is True
    assert json.loads(update.document)["state"]["reported"] == {"screen": "climate", "t": 23.5}
    assert doc.accepted is True
    document = json.loads(doc.document)
    assert document["state"]["reported"] == {"screen": "climate", "t": 23.5}
    assert document["version"] == 1
