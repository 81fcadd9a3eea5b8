"""Resync, the sans-I/O resynchronisation: bytes and milliseconds in, actions out.

From the ExpressLink specification digest: ``AT`` -> bare ``OK`` (§2);
responses end in CR LF, hosts should take LF or CR too (§1, §9.5); boot garbage
0x00/0xFF and silence while a module starts (§9.1); a blocking command's late reply
lands after the host gave up (§9.16); RST is active low and a module that starts queues
STARTUP and raises EVENT (§5, §9.21, §9.29). No clock, no UART, no asyncio here.
"""

import pytest

from expresslink import LineAssembler, Resync
from expresslink import channel as channel_module
from expresslink import resync as resync_module
from expresslink.resync import (
    BOOT,
    FAILED,
    IN_STEP,
    LISTEN,
    PAUSE,
    PULSE,
    READY,
    RESET_HIGH,
    RESET_LOW,
    RESYNC,
    SEND_PING,
)

TICKS_PERIOD = 1 << 29
TIMINGS = {"ping_timeout_ms": 1000, "settle_ms": 20, "startup_timeout_ms": 10000,
           "reset_pulse_ms": 20}


def make(capacity=256, **options):
    return Resync(LineAssembler(capacity), **dict(TIMINGS, **options))


def play(resync, script):
    """``script``: (now_ms, bytes received just before or None, expected action[, EVENT
    line high]). Fails at the first step whose action differs."""
    for number, step in enumerate(script):
        now_ms, data, expected = step[:3]
        event_high = step[3] if len(step) > 3 else False
        if data:
            resync.receive(data)
        action = resync.next_action(now_ms, event_high)
        assert action == expected, "step %d %r: got action %d" % (number, step, action)


def answered(sent_ms, reply=b"OK\r\n"):
    """The steps after an AT sent at ``sent_ms``: ``reply`` 1 ms later, then 20 ms quiet."""
    return [(sent_ms + 1, reply, LISTEN), (sent_ms + 20, None, LISTEN),
            (sent_ms + 21, None, IN_STEP)]


# -- one good try -----------------------------------------------------------------------


@pytest.mark.parametrize("reply", [b"OK\r\n", b"OK\n", b"OK\r", b"\r\nOK\r\n"],
                         ids=["crlf", "lf", "cr", "stray-eol-first"])
def test_bare_ok_then_settle_ms_of_silence_is_in_step(reply):
    resync = make()
    resync.start(0, RESYNC)
    play(resync, [(0, None, SEND_PING)] + answered(0, reply) + [(500, None, IN_STEP)])
    assert resync.stray_lines == 0


def test_wake_ms_says_when_to_look_again():
    resync = make()
    resync.start(100, RESYNC)
    assert resync.next_action(100) == SEND_PING
    assert resync.next_action(100) == LISTEN and resync.wake_ms == 1100  # ping timeout
    resync.receive(b"OK\r\n")
    assert resync.next_action(105) == LISTEN and resync.wake_ms == 125  # settle window


def test_ok_split_across_reads_and_its_lf_in_the_window():
    resync = make()
    resync.start(0, RESYNC)
    play(resync, [(0, None, SEND_PING), (1, b"O", LISTEN), (2, b"K\r", LISTEN),
                  (3, b"\n", LISTEN), (4, b"\r\n", LISTEN), (22, None, IN_STEP)])


# -- late replies and garbage -----------------------------------------------------------


def test_a_second_ok_in_the_window_means_the_first_was_late_so_try_again():
    resync = make()
    resync.start(0, RESYNC)
    play(resync, [(0, None, SEND_PING), (1, b"OK\r\n", LISTEN), (10, b"OK\r\n", SEND_PING)]
         + answered(10))
    assert resync.stray_lines == 1


def test_two_oks_in_one_read_are_a_late_reply_and_ours():
    resync = make()
    resync.start(0, RESYNC)
    play(resync, [(0, None, SEND_PING), (1, b"OK\r\nOK\r\n", SEND_PING)] + answered(1))


@pytest.mark.parametrize("after", [b"OK 1 CONNECTED\r\n", b"ERR14 2 UNABLE TO CONNECT\r\n",
                                   b"OK", b"\x00", b"\xff\xfe"],
                         ids=["late-connect", "late-err", "partial-line", "nul", "boot-bytes"])
def test_anything_but_eols_in_the_window_spoils_the_try(after):
    resync = make()
    resync.start(0, RESYNC)
    play(resync, [(0, None, SEND_PING), (1, b"OK\r\n", LISTEN), (5, after, SEND_PING)])


@pytest.mark.parametrize("garbage", [b"OK 1 CONNECTED\r\n", b"ERR14 2 UNABLE TO CONNECT\r\n",
                                     b"#@!junk\r\n", b"OK1 badge/t\r\n{\"x\":1}\r\n",
                                     b"OK \r\n", b"ERR3 COMMAND NOT FOUND\r\n"])
def test_lines_before_the_bare_ok_are_skipped_and_counted(garbage):
    resync = make()
    resync.start(0, RESYNC)
    play(resync, [(0, None, SEND_PING), (1, garbage, LISTEN), (2, b"OK\r\n", LISTEN),
                  (22, None, IN_STEP)])
    assert resync.stray_lines == garbage.count(b"\n")


def test_boot_bytes_before_the_ok_are_dropped():
    resync = make()
    resync.start(0, RESYNC)
    play(resync, [(0, None, SEND_PING), (1, b"\x00\xff\xfe\xfaOK\r\n", LISTEN),
                  (21, None, IN_STEP)])
    assert resync.stray_lines == 0


def test_a_line_longer_than_the_buffer_is_one_stray_line():
    resync = make(capacity=32)
    resync.start(0, RESYNC)
    play(resync, [(0, None, SEND_PING), (1, b"x" * 100 + b"\r\nOK\r\n", LISTEN),
                  (21, None, IN_STEP)])
    assert resync.stray_lines == 1


def test_each_try_starts_with_an_empty_buffer():
    resync = make()
    resync.start(0, RESYNC)
    # "O" of a reply that came too late for try 1 must not join try 2's "K".
    play(resync, [(0, None, SEND_PING), (999, b"O", LISTEN), (1000, None, SEND_PING),
                  (1001, b"K\r\n", LISTEN), (1500, None, LISTEN)])
    assert resync.stray_lines == 1


# -- silence, attempts, RST -------------------------------------------------------------


def test_silence_three_tries_then_failed_without_a_reset_line():
    resync = make()
    resync.start(0, RESYNC)
    play(resync, [(0, None, SEND_PING), (999, None, LISTEN), (1000, None, SEND_PING),
                  (2000, None, SEND_PING), (2999, None, LISTEN), (3000, None, FAILED),
                  (9000, None, FAILED)])
    assert resync.hard_resets == 0


def test_three_failed_tries_then_rst_pulse_then_startup_then_at():
    resync = make(reset_line=True, event_line=True)
    resync.start(0, RESYNC)
    play(resync, [(0, None, SEND_PING), (1000, None, SEND_PING), (2000, None, SEND_PING),
                  (3000, None, RESET_LOW), (3019, None, PAUSE), (3020, None, RESET_HIGH),
                  (3021, None, PAUSE, False), (3500, None, PAUSE, False),
                  (3510, None, SEND_PING, True)] + answered(3510))
    assert resync.hard_resets == 1


def test_event_line_is_looked_at_every_10_ms_while_the_module_boots():
    resync = make(reset_line=True, event_line=True)
    resync.start(0, PULSE)
    play(resync, [(0, None, RESET_LOW), (20, None, RESET_HIGH), (20, None, PAUSE)])
    assert resync.wake_ms == 30


def test_without_an_event_line_at_follows_the_pulse_at_once():
    resync = make(reset_line=True)
    resync.start(0, PULSE)
    play(resync, [(0, None, RESET_LOW), (20, None, RESET_HIGH), (20, None, SEND_PING)])


def test_a_module_that_stays_silent_after_the_pulse_fails_with_one_pulse_only():
    resync = make(reset_line=True, event_line=True)
    resync.start(0, PULSE)
    play(resync, [(0, None, RESET_LOW), (20, None, RESET_HIGH), (10019, None, PAUSE),
                  (10020, None, SEND_PING),  # no STARTUP: try AT once anyway
                  (11020, None, FAILED)])
    assert resync.hard_resets == 1


def test_after_the_pulse_at_is_retried_every_100_ms_until_the_startup_deadline():
    resync = make(reset_line=True)
    resync.start(0, PULSE)
    play(resync, [(0, None, RESET_LOW), (20, None, RESET_HIGH), (20, None, SEND_PING),
                  (1020, None, PAUSE), (1119, None, PAUSE), (1120, None, SEND_PING),
                  (2120, b"\x00\xff", PAUSE), (2220, None, SEND_PING)] + answered(2220))


def test_module_reboots_mid_resync_then_answers():
    resync = make()
    resync.start(0, RESYNC)
    # Try 1: boot bytes, then silence; try 2: a reboot inside the settle window; try 3 ok.
    play(resync, [(0, None, SEND_PING), (3, b"\x00\xff\xfe\xfd", LISTEN),
                  (1000, None, SEND_PING), (1001, b"OK\r\n", LISTEN),
                  (1010, b"\x00\x00", SEND_PING)] + answered(1010))


def test_ready_retries_until_its_timeout_then_pulses():
    resync = make(reset_line=True)
    resync.start(0, READY, 2500)
    play(resync, [(0, None, SEND_PING), (1000, None, PAUSE), (1100, None, SEND_PING),
                  (2100, None, PAUSE), (2200, None, SEND_PING), (3200, None, RESET_LOW)])


def test_ready_without_a_reset_line_fails_at_its_timeout():
    resync = make()
    resync.start(0, READY, 1500)
    play(resync, [(0, None, SEND_PING), (1000, None, PAUSE), (1100, None, SEND_PING),
                  (2100, None, FAILED)])


def test_boot_waits_for_the_module_it_never_pulses():
    resync = make(reset_line=True, event_line=True)
    resync.start(0, BOOT)  # after RESET: the module restarts by itself
    play(resync, [(0, None, PAUSE), (10000, None, SEND_PING), (11000, None, FAILED)])
    assert resync.hard_resets == 0


def test_boot_goes_on_when_the_event_line_rises():
    resync = make(reset_line=True, event_line=True)
    resync.start(0, BOOT)
    play(resync, [(0, None, PAUSE), (35, None, SEND_PING, True)] + answered(35))


def test_pulse_needs_a_reset_line():
    with pytest.raises(ValueError):
        make().start(0, PULSE)


def test_a_new_plan_starts_over_after_a_failure():
    resync = make()
    resync.start(0, RESYNC)
    play(resync, [(0, None, SEND_PING), (1000, None, SEND_PING), (2000, None, SEND_PING),
                  (3000, None, FAILED)])
    resync.start(5000, RESYNC)
    play(resync, [(5000, None, SEND_PING)] + answered(5000))


def test_times_wrap_at_2_to_the_29():
    start = TICKS_PERIOD - 500
    resync = make()
    resync.start(start, RESYNC)
    play(resync, [(start, None, SEND_PING)])
    assert resync.wake_ms == 500  # a tick count, as the caller's clock gives them
    play(resync, [(TICKS_PERIOD - 1, None, LISTEN),
                  (499, None, LISTEN), (500, None, SEND_PING)])
    assert resync.wake_ms == 1500


def test_the_channel_uses_resyncs_numbers():
    """The channel keeps private copies of the plan and action numbers (no RAM cost)."""
    for name in ("RESYNC", "READY", "BOOT", "SEND_PING", "LISTEN", "PAUSE", "RESET_LOW",
                 "RESET_HIGH", "IN_STEP"):
        assert getattr(channel_module, "_" + name) == getattr(resync_module, name), name
    actions = [SEND_PING, LISTEN, PAUSE, RESET_LOW, RESET_HIGH, IN_STEP, FAILED]
    assert len(set(actions)) == len(actions)
