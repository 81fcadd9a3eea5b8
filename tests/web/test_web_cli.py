"""``python -m sim`` serves the page: its URL printed, Ctrl-C ends it cleanly, a run that
ends by itself leaves the page up; ``--record`` then ``replay``; clear refusals."""

import json
import signal
import subprocess
import sys
from pathlib import Path

from sim.web.record import load_recording
from web_harness import PageClient, run

REPO = Path(__file__).resolve().parents[2]


def sim(*args, **options):
    return subprocess.Popen([sys.executable, "-m", "sim", *args], cwd=REPO, text=True,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, **options)


def url_of(process):
    line = process.stdout.readline()
    assert line.startswith("badge page: http://127.0.0.1:"), line + process.stderr.read()
    return line.split()[2]


def test_ctrl_c_ends_the_page_and_the_badge_cleanly_even_paused():
    process = sim("--no-browser", "--listen", "127.0.0.1:0")
    try:
        url = url_of(process)

        async def scenario():
            async with PageClient(url) as page:
                hello = await page.wait_type("hello")
                assert hello["time_control"] and hello["mode"] == "live"
                await page.wait_type("frame", until_t=10.0)
                await page.send(op="time", rate="paused")  # the end must not need time
                await page.wait_type("clock", where=lambda m: m["rate"] == "paused")
                process.send_signal(signal.SIGINT)
                return await page.wait_type("ended")

        ended = run(scenario())
        assert ended["reason"] == "quit"
        assert process.wait(60) == 0, process.stderr.read()
    finally:
        process.kill()
        process.wait()


def test_a_run_that_ends_keeps_the_page_until_ctrl_c_and_records(tmp_path):
    record = tmp_path / "run.jsonl"
    process = sim("--no-browser", "--listen", "127.0.0.1:0", "--rate", "max",
                  "--duration", "30", "--record", str(record), "--name", "Ada")
    try:
        url_of(process)
        over = process.stdout.readline()
        assert over.startswith("the run is over (duration)"), over + process.stderr.read()
        process.send_signal(signal.SIGINT)
        out, err = process.communicate(timeout=60)
        assert process.returncode == 0, err
        assert "recording: %s" % record in out and "delivered name: 3 bytes" in out
    finally:
        process.kill()
        process.wait()
    text, hello = load_recording(record)
    last = json.loads(text.splitlines()[-1])
    assert hello["type"] == "hello" and last == {"type": "ended", "t": last["t"],
                                                 "reason": "duration"}
    assert abs(last["t"] - 30.0) < 1e-6


def test_replay_refuses_a_missing_or_malformed_file(tmp_path):
    missing = sim("replay", str(tmp_path / "nothing.jsonl"))
    _out, err = missing.communicate(timeout=60)
    assert missing.returncode == 2 and "no such file" in err
    bad = tmp_path / "bad.jsonl"
    bad.write_text('{"type": "hello", "engine": "cpython"}\n{"type": "frame", "t": 1}\n')
    malformed = sim("replay", str(bad))
    _out, err = malformed.communicate(timeout=60)
    assert malformed.returncode == 2 and "line 2: bad frame record" in err
    bad.write_text("garbage\n")
    garbage = sim("replay", str(bad))
    _out, err = garbage.communicate(timeout=60)
    assert garbage.returncode == 2 and "line 1: not JSON" in err


def test_run_only_options_are_refused_with_the_reason():
    process = sim("--headless")
    _out, err = process.communicate(timeout=60)
    assert process.returncode == 2 and "--headless is for python -m sim run" in err
    helped = sim("page", "--help")
    out, _err = helped.communicate(timeout=60)
    assert "--no-browser" in out and "default: a free port" in out and "--view" in out


def test_view_terminal_is_the_run_of_before(tmp_path):
    shot = tmp_path / "shot.png"
    process = sim("--view", "terminal", "--headless", "--virtual-time", "--duration", "5",
                  "--screenshot", str(shot))
    out, err = process.communicate(timeout=60)
    assert process.returncode == 0, err
    assert "screenshot: %s (128x64)" % shot in out and shot.exists()


def test_a_taken_port_is_refused_with_the_reason():
    import socket

    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        process = sim("--no-browser", "--listen", "127.0.0.1:0", "--port", str(port))
        _out, err = process.communicate(timeout=60)
    assert process.returncode == 2
    assert "cannot serve the page on 127.0.0.1:%d" % port in err and "--port 0" in err
