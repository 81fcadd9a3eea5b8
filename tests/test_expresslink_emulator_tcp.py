"""ExpressLink emulator over TCP, in real time, driven by pyserial's socket:// URL."""

import asyncio
import threading
import time

import serial

from sim.cloud.memory_broker import MemoryBroker
from sim.expresslink.module import ExpressLinkModule
from sim.expresslink.tcp_uart import parse_listen, run_expresslink_server, serve_module

FAST = {"boot_time_s": 0.05, "connect_time_s": 0.05, "seed": 3}


class LoopThread:
    """A plain asyncio loop (real time) in a background thread."""

    def __init__(self):
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self.loop.run_forever, daemon=True)
        self.thread.start()

    def call(self, coro, timeout=5):
        return asyncio.run_coroutine_threadsafe(coro, self.loop).result(timeout)

    def close(self):
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(5)
        self.loop.close()


def command(port, text):
    """Send ``AT+text`` and return the reply line without CR LF."""
    port.write(b"AT+" + text.encode() + b"\n" if text else b"AT\n")
    line = port.readline()
    assert line.endswith(b"\r\n"), line
    return line[:-2]


def next_event(port, timeout_s=5.0):
    """The module's next event line (``EVENT?`` asked until one is queued)."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        line = command(port, "EVENT?")
        if line != b"OK":
            return line
        time.sleep(0.01)
    raise AssertionError("no event within %g s" % timeout_s)


def wait_for_module(port):
    """Skip the boot garbage: retry AT until a clean OK."""
    timeout = port.timeout
    port.timeout = 0.05
    try:
        deadline = time.monotonic() + 5
        while time.monotonic() < deadline:
            port.reset_input_buffer()
            port.write(b"AT\n")
            if port.readline() == b"OK\r\n":
                return
        raise AssertionError("module never answered")
    finally:
        port.timeout = timeout


def test_serve_module_end_to_end_with_pyserial():
    runner = LoopThread()
    broker = MemoryBroker()
    heard = []

    async def start():
        broker.listen("badge/#", lambda topic, payload: heard.append((topic, payload)))
        return await serve_module(
            "127.0.0.1", 0,
            lambda clock, end: ExpressLinkModule(clock, end, broker.link(), "tcp-thing", **FAST))

    server = runner.call(start())
    port_number = server.sockets[0].getsockname()[1]
    try:
        port = serial.serial_for_url("socket://127.0.0.1:%d" % port_number, timeout=3)
        wait_for_module(port)
        assert command(port, "EVENT?") == b"OK 2 0 STARTUP"
        assert command(port, "CONF? ThingName") == b"OK tcp-thing"
        assert command(port, "CONF Topic1=badge/tcp") == b"OK"
        assert command(port, "CONNECT") == b"OK 1 CONNECTED"
        assert command(port, "SUBSCRIBE1") == b"OK"
        assert command(port, "SEND1 hello\\Aover tcp") == b"OK"
        events = []
        deadline = time.monotonic() + 3
        while "1 1 MSG" not in events and time.monotonic() < deadline:
            line = command(port, "EVENT?")
            if line != b"OK":
                events.append(line[3:].decode())
        assert events == ["8 1 SUBACK", "1 1 MSG"]
        port.write(b"AT+GET\n")
        assert port.readline() == b"OK1 badge/tcp\r\n"
        assert port.readline() == b"hello\\Aover tcp\r\n"
        assert heard == [("badge/tcp", b"hello\nover tcp")]
        port.close()
        # a second client finds the same, still powered module
        port = serial.serial_for_url("socket://127.0.0.1:%d" % port_number, timeout=3)
        assert command(port, "CONNECT?") == b"OK 1 1 CONNECTED CUSTOMER"
        port.close()
    finally:
        async def stop():
            server.close()
            server.bridge.close()
            await server.module.close()

        runner.call(stop())
        runner.close()


def test_run_expresslink_server_entry_point():
    runner = LoopThread()
    ready = threading.Event()
    servers = []

    def on_ready(server):
        servers.append(server)
        ready.set()

    task = asyncio.run_coroutine_threadsafe(
        run_expresslink_server("127.0.0.1:0", None, "entry-thing", on_ready=on_ready,
                               module_options=FAST), runner.loop)
    try:
        assert ready.wait(5)
        port_number = servers[0].sockets[0].getsockname()[1]
        port = serial.serial_for_url("socket://127.0.0.1:%d" % port_number, timeout=3)
        wait_for_module(port)
        assert command(port, "CONF? ThingName") == b"OK entry-thing"
        assert command(port, "CONF EnableShadow=1") == b"OK"
        assert command(port, "CONNECT") == b"OK 1 CONNECTED"
        years = {time.gmtime().tm_year}
        answer = command(port, "TIME?")
        years.add(time.gmtime().tm_year)   # the year may turn between the two looks
        assert any(answer.startswith(b"OK %d/" % year) for year in years), answer  # real clock
        assert command(port, "SHADOW INIT") == b"OK"
        assert next_event(port) == b"OK 2 0 STARTUP"
        assert next_event(port) == b"OK 20 0 SHADOW INIT"
        assert command(port, 'SHADOW UPDATE {"state":{"reported":{"t":1}}}') == b"OK"
        assert next_event(port) == b"OK 23 0 SHADOW UPDATE"
        assert command(port, "SHADOW GET UPDATE").startswith(b'OK 1 {"state":{"reported":{"t":1}}')
        port.close()
    finally:
        task.cancel()
        time.sleep(0.1)
        runner.close()


def test_parse_listen():
    assert parse_listen("127.0.0.1:8883") == ("127.0.0.1", 8883)
    assert parse_listen(":7000") == ("127.0.0.1", 7000)
    try:
        parse_listen("localhost")
    except ValueError:
        pass
    else:
        raise AssertionError("HOST without PORT accepted")
