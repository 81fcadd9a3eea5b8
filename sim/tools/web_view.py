"""``python -m sim`` (and ``python -m sim page``): the badge in a browser page; and
``python -m sim replay FILE``: a recording on the same page.

The badge runs on this (the main) thread; the web server on its own (sim/web/server.py).
The CPython engine runs on a virtual clock paced against real time (``--rate``, 1x by
default; the page can pause, step and change it); the CircuitPython engine keeps its
emulated RP2040's time, never ahead of the wall clock. Ctrl-C ends the run cleanly. If
the run ends by itself (``--duration``, a crash) the page stays up, showing the end,
until Ctrl-C.
"""

import shutil
import signal
import sys
import threading
import webbrowser

RATE_CHOICES = ("paused", "1", "10", "100", "max")


def add_page_options(parser):
    """The page's own options (the run options are added by the caller)."""
    parser.add_argument("--view", choices=("page", "terminal"), default="page",
                        help="page: serve the badge page (default); terminal: the display "
                             "drawn in this terminal, as python -m sim run")
    parser.add_argument("--port", type=int, default=0, metavar="N",
                        help="the page's port on 127.0.0.1 (default: a free port, printed)")
    parser.add_argument("--no-browser", action="store_true",
                        help="print the page's URL without opening a browser")
    parser.add_argument("--record", metavar="FILE",
                        help="write every message the page gets to FILE (JSON lines) for "
                             "python -m sim replay FILE")
    parser.add_argument("--rate", choices=RATE_CHOICES, default="1",
                        help="CPython engine: simulated seconds per real second at the "
                             "start (default 1; paused, 10, 100, max: as fast as it goes)")


def add_replay_command(sub):
    replay = sub.add_parser("replay", help="show a recording (--record FILE) on the page")
    replay.add_argument("file", metavar="FILE")
    replay.add_argument("--port", type=int, default=0, metavar="N",
                        help="the page's port on 127.0.0.1 (default: a free port)")
    replay.add_argument("--no-browser", action="store_true",
                        help="print the page's URL without opening a browser")


def open_browser(url, out=sys.stdout):
    """Open ``url`` in the default browser when there is a graphical one; never fails,
    never waits, never starts a text browser in this terminal."""
    if sys.platform.startswith("linux") and not (
            _env("DISPLAY") or _env("WAYLAND_DISPLAY")):
        print("no display: open %s in a browser" % url, file=out)
        return
    try:
        browser = webbrowser.get()
    except webbrowser.Error:
        print("no browser found: open %s in one" % url, file=out)
        return
    if type(browser) is webbrowser.GenericBrowser:  # a text browser would take the terminal
        print("open %s in a browser" % url, file=out)
        return
    threading.Thread(target=_quietly_open, args=(browser, url), daemon=True).start()


def _env(name):
    import os

    return os.environ.get(name)


def _quietly_open(browser, url):
    try:
        browser.open(url)
    except Exception:  # a browser that fails to start must not end the run
        pass


def _serve(server, args, out=sys.stdout):
    """Start ``server``; print and open its URL. None when it could not listen."""
    try:
        url = server.start()
    except OSError as error:
        print("cannot serve the page on 127.0.0.1:%d (%s); try --port 0"
              % (args.port, error.strerror or error), file=sys.stderr)
        return None
    print("badge page: %s  (Ctrl-C ends)" % url, file=out)
    out.flush()
    if not args.no_browser:
        open_browser(url, out)
    return url


def _wait_for_ctrl_c(message=None):
    try:
        if message:
            print(message, flush=True)
        threading.Event().wait()
    except KeyboardInterrupt:
        pass


def run_page(args):
    """``python -m sim``: the badge page. Returns the exit code."""
    if args.view == "terminal":
        from sim.tools.cli import _run

        return _run(args)
    for flag, given in (("--headless", args.headless), ("--virtual-time", args.virtual_time),
                        ("--report", args.report)):
        if given:
            print("%s is for python -m sim run; the page runs the badge live" % flag,
                  file=sys.stderr)
            return 2
    from sim.tools.run_options import startup_items

    items = startup_items(args)
    from sim.tools.page_badges import build_badge

    badge, hub, scratch = build_badge(args)
    try:
        return _run_live(args, badge, hub, items)
    finally:
        if scratch is not None:
            shutil.rmtree(scratch, ignore_errors=True)


def _run_live(args, badge, hub, items):
    from sim.web.record import Recorder
    from sim.web.server import WebServer

    startup = None
    if items or args.screen:
        from sim.content.startup import StartupContent

        startup = StartupContent(badge, items, args.screen)
    try:
        recorder = Recorder(args.record) if args.record else None
    except OSError as error:
        print("--record: cannot write %s (%s)" % (args.record, error.strerror or error),
              file=sys.stderr)
        return 2
    server = WebServer(hub, port=args.port, recorder=recorder)
    if _serve(server, args) is None:
        return 2
    reason = ["duration"]

    def quit_(loop):
        def stop():
            reason[0] = hub.end_reason = "quit"
            badge.stop()
        loop.add_signal_handler(signal.SIGINT, stop)

    badge.on_loop(quit_)
    if args.reload_at is not None:
        badge.at(args.reload_at, badge.soft_reload)
    try:
        try:
            if hub.engine == "circuitpython":
                badge.run(args.duration, real_time=True)
            else:
                badge.run(args.duration)
        except KeyboardInterrupt:  # before the loop took Ctrl-C over
            reason[0] = "quit"
        except Exception as error:  # the page shows why; Ctrl-C ends
            import traceback

            traceback.print_exc()
            reason[0] = "crash: %s: %s" % (type(error).__name__, error)
        if badge.startup_error:
            reason[0] = badge.startup_error
        hub.end(reason[0])
        if reason[0] != "quit":
            _wait_for_ctrl_c("the run is over (%s); the page stays up until Ctrl-C"
                             % reason[0])
    except KeyboardInterrupt:  # Ctrl-C between the end of the run and the wait
        pass
    finally:
        server.stop()
    if args.record:
        print("recording: %s (%d messages)" % (args.record, recorder.count), flush=True)
    from sim.tools.cli import finish_run

    return finish_run(args, badge, startup, items)


def run_replay(args):
    """``python -m sim replay FILE``. Returns the exit code."""
    from sim.web.record import RecordingError, load_recording
    from sim.web.server import WebServer

    try:
        text, hello = load_recording(args.file)
    except RecordingError as error:
        print("replay: %s" % error, file=sys.stderr)
        return 2
    server = WebServer(replay=(text, hello), port=args.port)
    if _serve(server, args) is None:
        return 2
    try:
        _wait_for_ctrl_c()
    finally:
        server.stop()
    return 0
