"""``make bench``, the badge page: framebuffer change to painted canvas in Chromium, the
simulator's CPU while idle, and the frames per second the server delivers to a page.

One simulator serves the page, as ``python -m sim`` does, from a child process
(``python -m sim.bench.web --serve STAMPS``) that also writes, for every frame the hub
sends, its simulated ``t``, the wall time (``time.time()``) of the SSD1306 write that
completed the picture, and the wall time the frame left the simulation's thread. The page
notes when it painted each frame (``window.badgePage.paints``: ``performance.timeOrigin +
performance.now()``, in the animation frame after the frame arrived). The page's clock and
this process's are tied together by the shortest of several round trips, and that round
trip's half bounds the error of every latency.

Real time throughout; the figures depend on the machine (2 shared cores here).
"""

import argparse
import os
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

CHROMIUM = "/usr/bin/chromium"
ROOT = Path(__file__).resolve().parents[2]
PRESSES = 30
IDLE_S = 4.0
FPS_S = 4.0


# -- the child: the badge behind the page, with stamps -------------------------------------
def serve(stamps_path):
    """The badge page at 1x (a virtual clock paced to real time), stamping each frame."""
    from sim.tools.cli import build_parser
    from sim.tools.page_badges import build_badge
    from sim.web.frames import Frame
    from sim.web.server import WebServer

    args = build_parser().parse_args(["page", "--no-browser", "--listen", "127.0.0.1:0"])
    badge, hub, scratch = build_badge(args)
    stamps = open(stamps_path, "w", encoding="utf-8")
    last_write = [0.0]
    badge.display.frame_listeners.append(lambda: last_write.__setitem__(0, time.time()))
    emit = hub.emit

    def emit_stamped(message):
        if isinstance(message, Frame):
            stamps.write("%r %r %r\n" % (message.t, last_write[0], time.time()))
            stamps.flush()
        emit(message)

    hub.emit = emit_stamped
    server = WebServer(hub, port=0)
    print("badge page: %s" % server.start(), flush=True)
    badge.on_loop(lambda loop: loop.add_signal_handler(signal.SIGINT, badge.stop))
    try:
        badge.run()
    finally:
        hub.end("quit")
        server.stop()
        stamps.close()
        if scratch is not None:
            shutil.rmtree(scratch, ignore_errors=True)


# -- the parent: Chromium on the page ------------------------------------------------------
class Child:
    def __init__(self, stamps):
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "sim.bench.web", "--serve", str(stamps)], cwd=ROOT,
            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
            env=dict(os.environ, PYTHONUNBUFFERED="1"))
        self.url = None
        got = threading.Event()

        def read():
            for line in self.proc.stdout:
                if self.url is None and "http://" in line:
                    self.url = line.split()[-1]
                    got.set()
            got.set()

        threading.Thread(target=read, daemon=True).start()
        if not got.wait(60) or self.url is None:
            self.stop()
            raise RuntimeError("the bench's simulator did not start")

    def cpu_s(self):
        """User + system CPU seconds of the simulator process so far."""
        fields = Path("/proc/%d/stat" % self.proc.pid).read_text().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")

    def stop(self):
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGINT)
            try:
                self.proc.wait(15)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()


def clock_offset(page, tries=25):
    """(page epoch s - this process's epoch s, uncertainty s) from the shortest round trip."""
    best = None
    for _ in range(tries):
        before = time.time()
        page_s = page.evaluate("() => (performance.timeOrigin + performance.now()) / 1000")
        after = time.time()
        if best is None or after - before < best[1]:
            best = (page_s - (before + after) / 2, after - before)
    return best[0], best[1] / 2


def read_stamps(path):
    stamps = {}
    for line in Path(path).read_text().splitlines():
        t, written, sent = (float(x) for x in line.split())
        stamps[t] = (written, sent)
    return stamps


def percentile(values, fraction):
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(fraction * (len(ordered) - 1))))]


def cpu_share(child, seconds):
    start_cpu, start = child.cpu_s(), time.monotonic()
    time.sleep(seconds)
    return (child.cpu_s() - start_cpu) / (time.monotonic() - start)


def measure():
    from playwright.sync_api import sync_playwright

    with tempfile.TemporaryDirectory() as tmp:
        stamps_path = Path(tmp) / "stamps.txt"
        child = Child(stamps_path)
        try:
            with sync_playwright() as playwright:
                browser = playwright.chromium.launch(executable_path=CHROMIUM, headless=True)
                try:
                    return _measure(browser, child, stamps_path)
                finally:
                    browser.close()
        finally:
            child.stop()


def _measure(browser, child, stamps_path):
    page = browser.new_page(viewport={"width": 1400, "height": 1000})
    page.set_default_timeout(30_000)
    page.goto(child.url)
    page.wait_for_function("() => window.badgePage.framesPainted > 0 && "
                           "window.badgePage.module === 'connected'")
    out = {}
    # 1. latency: screen changes (button B) at 1x
    offset, uncertainty = clock_offset(page)
    start = time.time()
    for _ in range(PRESSES):
        painted = page.evaluate("() => window.badgePage.framesPainted")
        page.evaluate("() => window.badgePage.press('B')")
        page.wait_for_function("n => window.badgePage.framesPainted > n", arg=painted)
        # the next press once this one is released (held 0.1 simulated s)
        page.wait_for_function("t => window.badgePage.clock.t > t + 0.15",
                               arg=page.evaluate("() => window.badgePage.lastFrame.t"))
    paints = page.evaluate("() => window.badgePage.paints")
    stamps = read_stamps(stamps_path)
    latencies, to_page = [], []
    for paint in paints:
        stamp = stamps.get(paint["t"])
        if stamp is None or stamp[0] < start:  # not one of ours (the frame on connect)
            continue
        painted_s = paint["at_ms"] / 1000 - offset
        latencies.append(painted_s - stamp[0])
        to_page.append(painted_s - stamp[1])
    out["latency"] = {"n": len(latencies), "median_s": statistics.median(latencies),
                      "p95_s": percentile(latencies, 0.95), "max_s": max(latencies),
                      "sent_to_painted_median_s": statistics.median(to_page),
                      "clock_uncertainty_s": uncertainty}
    # 2. CPU while idle (1x, nothing happening but the badge's own life), with the page
    # open, then with no page
    out["idle_cpu_page"] = cpu_share(child, IDLE_S)
    page.close()
    out["idle_cpu_no_page"] = cpu_share(child, IDLE_S)
    # 3. frames per second: the status screen (a new picture every simulated second) with
    # the clock as fast as it goes
    page = browser.new_page(viewport={"width": 1400, "height": 1000})
    page.set_default_timeout(30_000)
    page.goto(child.url)
    page.wait_for_function("() => window.badgePage.framesPainted > 0")
    page.evaluate("() => window.badgePage.send({op: 'send', kind: 'screen', text: 'status'})")
    page.wait_for_function("() => window.badgePage.shadow?.reported?.screen === 'status'")
    page.evaluate("() => window.badgePage.send({op: 'time', rate: 'max'})")
    page.wait_for_function("() => window.badgePage.clock?.rate === 'max'")
    sent_before = len(read_stamps(stamps_path))
    start_cpu = child.cpu_s()
    before = page.evaluate("() => [window.badgePage.framesReceived, window.badgePage.framesPainted, performance.now()]")
    time.sleep(FPS_S)
    after = page.evaluate("() => [window.badgePage.framesReceived, window.badgePage.framesPainted, performance.now()]")
    wall = (after[2] - before[2]) / 1000
    out["fps"] = {"sent": (len(read_stamps(stamps_path)) - sent_before) / wall,
                  "received": (after[0] - before[0]) / wall,
                  "painted": (after[1] - before[1]) / wall,
                  "cpu": (child.cpu_s() - start_cpu) / wall,
                  "speed": page.evaluate("() => window.badgePage.clock.speed")}
    page.evaluate("() => window.badgePage.send({op: 'time', rate: 1})")
    return out


def report(out=print):
    if not os.access(CHROMIUM, os.X_OK):
        out("badge page: no Chromium at %s (make bench installs it): not measured" % CHROMIUM)
        return
    m = measure()
    lat = m["latency"]
    out("badge page, framebuffer change to painted canvas in Chromium (%d frames, 1x, "
        "button B): %.1f ms median, %.1f ms p95, %.1f ms max (of which the simulation's "
        "thread to the canvas %.1f ms median; clocks tied to +-%.2f ms); a page paints at "
        "its next animation frame, every 16.7 ms at 60 Hz"
        % (lat["n"], lat["median_s"] * 1e3, lat["p95_s"] * 1e3, lat["max_s"] * 1e3,
           lat["sent_to_painted_median_s"] * 1e3, lat["clock_uncertainty_s"] * 1e3))
    out("badge page, simulator CPU while idle at 1x: %.1f%% of a core with one page open, "
        "%.1f%% with none (process CPU s per wall s over %.0f s)"
        % (m["idle_cpu_page"] * 100, m["idle_cpu_no_page"] * 100, IDLE_S))
    f = m["fps"]
    out("badge page, frames per second at rate max (status screen, %.0fx real time): the "
        "badge drew %.0f, the server delivered %.0f to the page, which painted %.0f (one "
        "per animation frame); simulator CPU %.0f%% of a core"
        % (f["speed"], f["sent"], f["received"], f["painted"], f["cpu"] * 100))


def main(argv=None):
    parser = argparse.ArgumentParser(prog="python -m sim.bench.web")
    parser.add_argument("--serve", metavar="STAMPS",
                        help="(internal) run the badge page, writing frame stamps to STAMPS")
    args = parser.parse_args(argv)
    if args.serve:
        serve(args.serve)
        return 0
    report()
    return 0


if __name__ == "__main__":
    sys.exit(main())
