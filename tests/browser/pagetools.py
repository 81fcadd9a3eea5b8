"""Helpers of the browser tests: the simulator as a process, waits with deadlines, the
OLED canvas read back, and a recording's frames."""

import base64
import json
import os
import re
import signal
import subprocess
import sys
import socket
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
URL_LINE = re.compile(r"(http://127\.0\.0\.1:\d+/)")
START_DEADLINE_S = 60
LIT_THRESHOLD = 110  # R + G + B of a canvas pixel above this: lit (glass is about 28)
SCREENS = ("name", "photo", "qr", "climate", "status")  # firmware/state.py, B goes right


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class SimProcess:
    """``python -m sim ARGS`` in the background; ``url`` once it printed one."""

    def __init__(self, args, cwd=ROOT):
        env = dict(os.environ, PYTHONUNBUFFERED="1")
        self.args = args
        self.proc = subprocess.Popen([sys.executable, "-m", "sim", *args], cwd=cwd, env=env,
                                     stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                                     text=True)
        self.output = []
        self._url = None
        self._has_url = threading.Event()
        threading.Thread(target=self._read, daemon=True).start()
        if not self._has_url.wait(START_DEADLINE_S) or self._url is None:
            self.stop()
            raise AssertionError("python -m sim %s printed no URL within %d s; it said:\n%s"
                                 % (" ".join(args), START_DEADLINE_S, "".join(self.output)))
        self.url = self._url

    def _read(self):
        for line in self.proc.stdout:
            self.output.append(line)
            match = URL_LINE.search(line)
            if match and self._url is None:
                self._url = match.group(1)
                self._has_url.set()
        self._has_url.set()  # ended without a URL

    def stop(self):
        """Ctrl-C, as a person would end it; killed if it does not end."""
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGINT)
            try:
                self.proc.wait(15)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(5)
        return self.proc.returncode


def wait_until(predicate, deadline_s=20, what="the condition"):
    """Poll ``predicate`` (a cheap check) until true; fail after ``deadline_s``."""
    end = time.monotonic() + deadline_s
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > end:
            raise AssertionError("timed out waiting for %s" % what)
        time.sleep(0.02)


def canvas(page):
    """The OLED canvas read back at one instant: (lit bits as 8192 0/1, the painted
    frame's t, its flags, frames painted so far)."""
    state = page.evaluate("""() => {
        const c = document.getElementById("oled");
        const data = c.getContext("2d").getImageData(0, 0, c.width, c.height).data;
        const f = window.badgePage.lastFrame;
        return {w: c.width, h: c.height, rgba: Array.from(data), t: f ? f.t : null,
                flags: f ? f.flags : null, painted: window.badgePage.framesPainted};
    }""")
    assert (state["w"], state["h"]) == (128, 64), "the canvas is %dx%d" % (state["w"], state["h"])
    rgba = state["rgba"]
    bits = [1 if rgba[i] + rgba[i + 1] + rgba[i + 2] > LIT_THRESHOLD else 0
            for i in range(0, len(rgba), 4)]
    return bits, state["t"], state["flags"], state["painted"]


def unpack(packed):
    """1024 bytes, 16 per row, MSB leftmost -> 8192 0/1, row-major."""
    return [(byte >> (7 - bit)) & 1 for byte in packed for bit in range(8)]


def recorded_frames(path):
    """The frames in a recording, in order: [(t, flags, contrast, bits 0/1)]. Reads the
    file as it stands (a live run appends to it; a torn last line is left out)."""
    frames = []
    for line in Path(path).read_text(encoding="utf-8").splitlines():
        if '"frame"' not in line:
            continue
        try:
            record = json.loads(line)
        except ValueError:
            continue
        if record.get("type") == "frame":
            frames.append((record["t"], record["flags"], record["contrast"],
                           unpack(base64.b64decode(record["bits"]))))
    return frames


def recorded(path, kind):
    """Every message of ``kind`` in a recording, in order."""
    out = []
    for line in Path(path).read_text(encoding="utf-8").splitlines():
        if ('"%s"' % kind) not in line:
            continue
        try:
            record = json.loads(line)
        except ValueError:
            continue
        if record.get("type") == kind:
            out.append(record)
    return out


def region(bits, x0, y0, width, height):
    return [bits[(y0 + y) * 128 + x0 + x] for y in range(height) for x in range(width)]


def diff_count(a, b):
    return sum(1 for p, q in zip(a, b) if p != q)
