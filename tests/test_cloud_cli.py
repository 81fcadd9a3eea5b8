"""The cloud commands as a user runs them: real processes, real sockets, real time.

``python -m sim broker`` and ``python -m sim expresslink`` run as subprocesses on free
loopback ports; a plain pyserial script drives the module and a paho-mqtt client (an
MQTT implementation independent of ours) listens at the broker. Every process started
here is killed in a ``finally``.
"""

import json
import queue
import subprocess
import sys
import threading
import time
from pathlib import Path

import paho.mqtt.client as paho
import pytest
import serial

from sim.cloud.mosquitto import free_port

REPO = Path(__file__).resolve().parents[1]


class Command:
    """``python -m sim ARGS`` in the background; its stdout lines arrive in a queue."""

    def __init__(self, *args):
        self.args = args
        self.process = subprocess.Popen(
            [sys.executable, "-m", "sim", *args], cwd=REPO, stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        self.lines = queue.Queue()
        self.error_lines = queue.Queue()
        self.seen = []
        self._stderr = []
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()
        self._error_reader = threading.Thread(target=self._read_errors, daemon=True)
        self._error_reader.start()

    def _read(self):
        for line in self.process.stdout:
            self.lines.put(line.rstrip("\n"))
        self.lines.put(None)

    def _read_errors(self):
        for line in self.process.stderr:
            self._stderr.append(line)
            self.error_lines.put(line.rstrip("\n"))
        self.error_lines.put(None)

    def wait_line(self, contains, timeout_s=10.0, stream="stdout"):
        """The first line of ``stream`` containing ``contains``; fails on exit or timeout."""
        lines, seen = (self.lines, self.seen) if stream == "stdout" else (self.error_lines, [])
        deadline = time.monotonic() + timeout_s
        while True:
            left = deadline - time.monotonic()
            try:
                line = lines.get(timeout=max(left, 0.01))
            except queue.Empty:
                line = ""
            if line is None:
                pytest.fail("%s ended (rc %s) before printing %r; stderr:\n%s" % (
                    " ".join(self.args), self.process.wait(), contains, self.stderr()))
            seen.append(line)
            if contains in line:
                return line
            if time.monotonic() >= deadline:
                pytest.fail("%s printed no %r within %.0f s; saw %r" % (
                    " ".join(self.args), contains, timeout_s, seen))

    def finish(self, timeout_s):
        """Wait for the exit; returns (rc, stdout lines, stderr)."""
        rc = self.process.wait(timeout_s)
        self._reader.join(2)
        lines = list(self.seen)
        while True:
            try:
                line = self.lines.get_nowait()
            except queue.Empty:
                break
            if line is not None:
                lines.append(line)
        return rc, lines, self.stderr()

    def stderr(self):
        if self.process.poll() is None:
            return ""
        self._error_reader.join(2)
        return "".join(self._stderr)

    def kill(self):
        if self.process.poll() is None:
            self.process.kill()
            self.process.wait(5)
        self.process.stdout.close()
        self.process.stderr.close()


def sim(*args, timeout_s=20):
    """Run ``python -m sim ARGS`` to the end: CompletedProcess."""
    return subprocess.run([sys.executable, "-m", "sim", *args], cwd=REPO, text=True,
                          capture_output=True, timeout=timeout_s, stdin=subprocess.DEVNULL)


@pytest.fixture(scope="module")
def broker():
    """``python -m sim broker`` on a free port: its URL."""
    port = free_port()
    command = Command("broker", "--listen", "127.0.0.1:%d" % port)
    try:
        command.wait_line("broker listening on mqtt://127.0.0.1:%d" % port)
        yield "mqtt://127.0.0.1:%d" % port
    finally:
        command.kill()


class Subscriber:
    """A paho-mqtt client on ``url`` subscribed to ``topic_filter``; ``messages`` queue."""

    def __init__(self, url, topic_filter):
        host, port = url[len("mqtt://"):].rsplit(":", 1)
        self.messages = queue.Queue()
        subscribed = threading.Event()
        client = paho.Client(paho.CallbackAPIVersion.VERSION2, client_id="cli-test-sub")
        client.on_message = lambda _c, _u, msg: self.messages.put((msg.topic, msg.payload))
        client.on_subscribe = lambda *_args: subscribed.set()
        client.on_connect = lambda c, *_args: c.subscribe(topic_filter, qos=1)
        client.connect(host, int(port))
        client.loop_start()
        self.client = client
        assert subscribed.wait(5), "no SUBACK from the broker"

    def stop(self):
        self.client.loop_stop()
        self.client.disconnect()


def at(port_handle, command, expect_prefix, timeout_s=5.0):
    """Send one AT line with pyserial; return the reply line (CR LF removed)."""
    port_handle.write(command + b"\n")
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        line = port_handle.readline()
        if line.strip():
            reply = line.rstrip(b"\r\n")
            assert reply.startswith(expect_prefix), (command, reply)
            return reply
    pytest.fail("no reply to %r" % command)


def test_pyserial_script_publishes_through_the_module_to_the_broker(broker):
    uart_port = free_port()
    module = Command("expresslink", "--listen", "127.0.0.1:%d" % uart_port, "--broker", broker)
    subscriber = None
    handle = None
    try:
        line = module.wait_line("socket://127.0.0.1:%d" % uart_port)
        assert "badge-1" in line and broker in line
        subscriber = Subscriber(broker, "demo/#")
        handle = serial.serial_for_url("socket://127.0.0.1:%d" % uart_port, timeout=0.5)
        # The module may still be booting (deaf for 0.5 s): try AT until it answers.
        for _ in range(20):
            handle.write(b"AT\n")
            if handle.readline().rstrip(b"\r\n") == b"OK":
                break
        else:
            pytest.fail("the module never answered AT")
        assert at(handle, b"AT+CONF? ThingName", b"OK") == b"OK badge-1"
        assert at(handle, b"AT+CONF Topic1=demo/pyserial", b"OK") == b"OK"
        assert at(handle, b"AT+CONNECT", b"OK", timeout_s=10) == b"OK 1 CONNECTED"
        assert at(handle, b"AT+SEND1 hello from pyserial", b"OK") == b"OK"
        topic, payload = subscriber.messages.get(timeout=5)
        assert (topic, payload) == ("demo/pyserial", b"hello from pyserial")
        assert at(handle, b"AT+DISCONNECT", b"OK") == b"OK 0 DISCONNECTED"
    finally:
        if handle is not None:
            handle.close()
        if subscriber is not None:
            subscriber.stop()
        module.kill()


def test_watch_prints_the_readings_of_a_headless_run(broker, tmp_path):
    drive = tmp_path / "drive"
    drive.mkdir()
    # A reading every 2 s; on virtual time the run's 30 s take well under a second, and
    # how many readings it makes does not depend on how busy this machine is.
    (drive / "settings.toml").write_text("BADGE_SAMPLE_PERIOD_S = 2\n")
    watcher = Command("watch", "--broker", broker, "--count", "3")
    run = None
    try:
        # The badge starts once the watcher is subscribed, so no reading goes past it.
        watcher.wait_line("watch: subscribed to badge/+/telemetry", timeout_s=20, stream="stderr")
        run = Command("run", "--headless", "--virtual-time", "--duration", "30",
                      "--temperature", "23.5",
                      "--humidity", "41", "--broker", broker, "--drive", str(drive))
        rc, lines, stderr = watcher.finish(timeout_s=25)
        assert rc == 0, stderr
        readings = [json.loads(line) for line in lines if line.strip()]
        assert [r["seq"] for r in readings] == [1, 2, 3]
        assert {(r["thing"], r["t"], r["rh"]) for r in readings} == {("badge-1", 23.5, 41.0)}
        run_rc, _, run_stderr = run.finish(timeout_s=20)
        assert run_rc == 0, run_stderr
    finally:
        watcher.kill()
        if run is not None:
            run.kill()


def test_send_to_a_broker_that_is_not_running_fails_clearly():
    url = "mqtt://127.0.0.1:%d" % free_port()
    result = sim("send", "qr", "badge-1", "https://example.org", "--broker", url)
    assert result.returncode == 1
    assert "cannot reach the broker at " + url in result.stderr
    assert "Traceback" not in result.stderr
    assert result.stdout == ""


@pytest.mark.parametrize("listen, says", [
    ("nonsense", "HOST:PORT"),
    ("127.0.0.1:99999", "0-65535"),
    ("10.255.255.1:5000", "cannot listen on"),  # not an address of this machine
])
def test_expresslink_with_a_bad_listen_address_fails_cleanly(listen, says):
    result = sim("expresslink", "--listen", listen, "--broker", "mqtt://127.0.0.1:1")
    assert result.returncode == 1
    assert result.stderr.startswith("expresslink: ") and says in result.stderr, result.stderr
    assert "Traceback" not in result.stderr


def test_expresslink_on_a_port_in_use_fails_cleanly(broker):
    in_use = broker[len("mqtt://"):]
    result = sim("expresslink", "--listen", in_use, "--broker", broker)
    assert result.returncode == 1
    assert "cannot listen on " + in_use in result.stderr
    assert "Traceback" not in result.stderr


def test_send_delivers_each_kind_and_says_what_it_sent(broker, tmp_path):
    """send photo/qr/name publish exactly the payload the badge decodes; each prints
    what it sent and its size, and the photo preview is written."""
    from PIL import Image

    from firmware.photo_format import decode_photo

    picture = tmp_path / "pic.png"
    Image.radial_gradient("L").resize((200, 100)).save(picture)
    subscriber = Subscriber(broker, "badge/cli-7/#")
    try:
        done = sim("send", "photo", "cli-7", str(picture), "--fill", "--dither",
                   "ordered", "--preview", str(tmp_path / "preview.png"),
                   "--broker", broker)
        assert done.returncode == 0, done.stderr
        assert "sent photo %s (PNG 200x100, fill, ordered dither" % picture in done.stdout
        assert "1392 bytes on badge/cli-7/photo" in done.stdout
        topic, payload = subscriber.messages.get(timeout=5)
        frame = bytearray(1024)
        decode_photo(payload, frame)  # raises on any fault
        preview = Image.open(tmp_path / "preview.png").convert("1")
        assert preview.size == (128, 64)

        done = sim("send", "qr", "cli-7", "https://example.org/talks/42", "--broker",
                   broker)
        assert done.returncode == 0, done.stderr
        assert "QR text of 28 bytes (version 4, level H" in done.stdout
        assert subscriber.messages.get(timeout=5) == (
            "badge/cli-7/qr", b"https://example.org/talks/42")

        done = sim("send", "name", "cli-7", "  Grace Hopper ", "--broker", broker)
        assert done.returncode == 0, done.stderr
        assert "sent name 'Grace Hopper' to cli-7: 12 bytes" in done.stdout
        assert subscriber.messages.get(timeout=5) == ("badge/cli-7/name", b"Grace Hopper")
    finally:
        subscriber.stop()


@pytest.mark.parametrize("kind, value, says", [
    ("photo", "README.md", "not an image"),
    ("photo", "no-such-file.jpg", "no such file"),
    ("qr", "x" * 231, "231 bytes of UTF-8; the badge shows at most 230 bytes"),
    ("name", "y" * 22, "at most 21 fit on one line"),
    ("name", "   ", "empty"),
])
def test_send_refuses_bad_content_before_publishing(broker, kind, value, says):
    subscriber = Subscriber(broker, "badge/cli-8/#")
    try:
        done = sim("send", kind, "cli-8", value, "--broker", broker)
        assert done.returncode == 1
        assert says in done.stderr
        assert "Traceback" not in done.stderr
        assert done.stdout == ""
        with pytest.raises(queue.Empty):
            subscriber.messages.get(timeout=0.5)
    finally:
        subscriber.stop()
