"""The page on a recording (``python -m sim replay FILE``): the timeline shows exactly the
recorded frames and the logs up to the chosen time; and a page whose socket closes says
so and reconnects by itself."""

import shutil

import pytest

from browser.pagetools import SimProcess, canvas, diff_count, recorded, recorded_frames

# One worker for the whole folder under `pytest -n N --dist loadgroup` (one Chromium).
pytestmark = pytest.mark.xdist_group("browser")

SEEK = """t => {
    const timeline = document.getElementById("timeline");
    timeline.value = String(t);
    timeline.dispatchEvent(new Event("input", {bubbles: true}));
    return window.badgePage.lastFrame ? window.badgePage.lastFrame.t : null;
}"""


MIN_FRAMES = 6


@pytest.fixture
def recording(live, open_page, tmp_path):
    """A copy of the live run's recording so far (the live run keeps appending), with at
    least MIN_FRAMES lit frames: button B is pressed on a page until there are."""
    if sum(1 for f in recorded_frames(live.recording) if f[1] & 1) < MIN_FRAMES:
        page = open_page(live.url)
        page.wait_for_function("() => window.badgePage.clock")
        for _ in range(MIN_FRAMES):
            painted = page.evaluate("() => window.badgePage.framesPainted")
            page.click('.hw[data-button="B"]')
            page.wait_for_function("n => window.badgePage.framesPainted > n", arg=painted)
            # released (held 0.1 simulated s) before the next press
            page.wait_for_function("t => window.badgePage.clock.t > t + 0.2",
                                   arg=page.evaluate("() => window.badgePage.clock.t"))
        page.close()
    copy = tmp_path / "run.jsonl"
    shutil.copyfile(live.recording, copy)
    text = copy.read_text(encoding="utf-8")
    copy.write_text(text[:text.rindex("\n") + 1], encoding="utf-8")  # whole lines only
    return copy


def test_replay_shows_the_recorded_frames(recording, open_page):
    frames = recorded_frames(recording)
    lit = [frame for frame in frames if frame[1] & 1]
    assert len(lit) >= MIN_FRAMES, "the live run recorded %d frames" % len(frames)
    replay = SimProcess(["replay", str(recording), "--no-browser", "--port", "0"])
    try:
        page = open_page(replay.url, wait_for_frame=False)
        page.wait_for_function("() => window.badgePage.replayLoaded")
        assert not page.locator("#replay-card").is_hidden()
        assert page.locator(".hw").first.is_disabled()
        shown = int(page.inner_text("#replay-frames"))
        assert shown == len(frames)
        at_lines = recorded(recording, "at")
        picks = [lit[0], lit[len(lit) // 3], lit[2 * len(lit) // 3], lit[-1]]
        for t, _flags, _contrast, bits in picks:
            assert page.evaluate(SEEK, t) == t
            got, painted_t, _flags, _n = canvas(page)
            assert painted_t == t
            assert got == bits, "frame at %.3f s: %d pixels differ" % (t, diff_count(got, bits))
            rows = page.locator("#at-log .row").count()
            assert rows == min(3000, sum(1 for m in at_lines if m["t"] <= t))
        # between two frames the earlier one stays on the panel
        index = frames.index(picks[1])
        t0, t1 = frames[index][0], frames[index + 1][0]
        assert page.evaluate(SEEK, (t0 + t1) / 2) == t0
        assert canvas(page)[0] == frames[index][3]
    finally:
        replay.stop()


def test_a_closed_socket_is_reported_and_the_page_reconnects(recording, open_page):
    first = SimProcess(["replay", str(recording), "--no-browser", "--port", "0"])
    port = first.url.rsplit(":", 1)[1].strip("/")
    try:
        page = open_page(first.url, wait_for_frame=False)
        page.wait_for_function("() => window.badgePage.connected")
        assert page.locator("#banner").is_hidden()
    finally:
        first.stop()
    page.wait_for_function("() => !window.badgePage.connected")
    banner = page.locator("#banner")
    banner.wait_for(state="visible")
    assert "reconnecting" in banner.inner_text()
    second = SimProcess(["replay", str(recording), "--no-browser", "--port", port])
    try:
        page.wait_for_function("() => window.badgePage.connected")
        banner.wait_for(state="hidden")
        assert page.inner_text("#conn") == "connected"
    finally:
        second.stop()
