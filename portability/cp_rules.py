"""What CircuitPython 9/10 on the RP2040 lacks, as tables for the lint, with what to use instead.

Conservative on purpose: a name is listed only when the badge certainly lacks it (the
Raspberry Pi Pico build's module list, the CircuitPython asyncio port's namespace, or a
MicroPython VM where even the full build lacks it). Not flagged, because they work:
the walrus operator, ``print(..., file=...)``, ``collections.namedtuple`` /
``OrderedDict`` / ``deque``, lambda defaults, keyword-only parameters. ``__slots__`` is
accepted and ignored on the badge (instances keep a ``__dict__``), so it is not flagged
either; dict ordering cannot be checked by reading code.
"""

import asyncio as _host_asyncio
import sys

# Standard-library modules built into CircuitPython for the Raspberry Pi Pico (from the
# board's module list in circuitpython-stubs), plus the asyncio port kept in /lib.
BADGE_STDLIB = frozenset({
    "array", "asyncio", "atexit", "binascii", "builtins", "codeop", "collections",
    "errno", "gc", "getpass", "hashlib", "io", "json", "locale", "math", "os", "random",
    "re", "select", "struct", "sys", "time", "traceback", "warnings", "zlib",
})

# Handled by their own rule (allowed inside ``try: ... except ImportError``).
TYPING_MODULES = frozenset({"typing", "typing_extensions", "circuitpython_typing"})

_GENERIC_MODULE = "is not built into CircuitPython on the RP2040 badge"
MODULE_ADVICE = {
    "__future__": "does not exist on the badge; annotations are never evaluated there, so drop the import",
    "abc": "does not exist on the badge: use a plain base class whose methods raise NotImplementedError",
    "base64": "does not exist on the badge: use binascii.a2b_base64 / b2a_base64",
    "contextlib": "does not exist on the badge: write a class with __enter__ and __exit__",
    "copy": "does not exist on the badge: copy explicitly (list(x), dict(x), bytearray(x))",
    "dataclasses": "does not exist on the badge: write a plain class with an __init__",
    "datetime": "does not exist on the badge: use time.localtime / time.mktime",
    "enum": "does not exist on the badge: use module constants, _NAME = const(n)",
    "functools": "does not exist on the badge: write the closure or loop out (no partial, wraps, lru_cache)",
    "itertools": "does not exist on the badge: write the loop out",
    "logging": "does not exist on the badge: print() to the console (or the adafruit_logging library)",
    "pathlib": "does not exist on the badge: use str paths with os.listdir / os.stat",
    "queue": "does not exist on the badge: use a bounded collections.deque((), n) plus asyncio.Event",
    "socket": "does not exist on the badge: the ExpressLink module is the network",
    "ssl": "does not exist on the badge: the ExpressLink module does TLS",
    "subprocess": "does not exist on the badge: there are no processes",
    "threading": "does not exist on the badge: use asyncio tasks",
    "_thread": "does not exist on the badge: use asyncio tasks",
    "multiprocessing": "does not exist on the badge: use asyncio tasks",
    "concurrent": "does not exist on the badge: use asyncio tasks",
    "secrets": "does not exist on the badge: use os.urandom",
    "uuid": "does not exist on the badge: use os.urandom",
}

MISSING_MODULES = frozenset(
    name for name in sys.stdlib_module_names
    if name not in BADGE_STDLIB and name not in TYPING_MODULES
)


def module_advice(name):
    """Why ``name`` cannot be imported on the badge, and what to use instead."""
    return MODULE_ADVICE.get(name, _GENERIC_MODULE)


# The CircuitPython asyncio port's public names (core plus its lazily loaded parts).
ASYNCIO_PORT_NAMES = frozenset({
    "CancelledError", "Event", "InvalidStateError", "Lock", "Loop", "StreamReader",
    "StreamWriter", "Task", "TaskQueue", "ThreadSafeFlag", "TimeoutError",
    "create_task", "current_task", "gather", "get_event_loop", "get_running_loop",
    "new_event_loop", "open_connection", "run", "run_until_complete", "sleep",
    "sleep_ms", "start_server", "wait_for", "wait_for_ms",
})
_ASYNCIO_PORTABLE = (
    "not in the badge's asyncio port (portable: run, sleep, create_task, gather, "
    "wait_for, Event, Lock, TimeoutError, CancelledError)"
)
_ASYNCIO_ADVICE = {
    "Queue": "not in the badge's asyncio port: use a bounded deque of our own plus asyncio.Event",
    "Semaphore": "not in the badge's asyncio port: use asyncio.Lock, or a counter plus asyncio.Event",
    "BoundedSemaphore": "not in the badge's asyncio port: use asyncio.Lock, or a counter plus asyncio.Event",
    "wait": "not in the badge's asyncio port: use asyncio.gather, or tasks that set an asyncio.Event",
    "as_completed": "not in the badge's asyncio port: use asyncio.gather, or tasks that set an asyncio.Event",
    "timeout": "not in the badge's asyncio port: use asyncio.wait_for",
    "timeout_at": "not in the badge's asyncio port: use asyncio.wait_for",
    "TaskGroup": "not in the badge's asyncio port: create_task and keep the handles, then gather",
    "to_thread": "not in the badge's asyncio port (no threads): split the work, await asyncio.sleep(0) between parts",
    "shield": "not in the badge's asyncio port: catch CancelledError in the task instead",
    "all_tasks": "not in the badge's asyncio port: keep the task handles yourself",
    "ThreadSafeFlag": "not usable on the badge: use asyncio.Event",
}
ASYNCIO_MISSING = {
    name: _ASYNCIO_ADVICE.get(name, _ASYNCIO_PORTABLE)
    for name in (set(_host_asyncio.__all__) | set(_ASYNCIO_ADVICE)) - ASYNCIO_PORT_NAMES
}
ASYNCIO_MISSING["ThreadSafeFlag"] = _ASYNCIO_ADVICE["ThreadSafeFlag"]  # in the port, unusable

_TICKS = "MicroPython only, not on CircuitPython: use adafruit_ticks (ticks_ms, ticks_diff, ticks_add)"
_TIMER = "not on the badge: use time.monotonic_ns() or adafruit_ticks.ticks_ms()"
_CALENDAR = "not on the badge: use time.localtime / time.mktime"
_RE_FLAGS = "not on the badge: its re takes no flags; spell the case out, e.g. [Aa]"
_RE_FUNCS = "not on the badge: its re has compile, match, search and sub only"
_OS_PATH = "not on the badge: join with '/' and test with os.stat in try/except OSError"

# Names missing from modules that the badge does have: {module: {name: advice}}.
MISSING_NAMES = {
    "asyncio": ASYNCIO_MISSING,
    "time": {
        "perf_counter": _TIMER, "perf_counter_ns": _TIMER, "process_time": _TIMER,
        "process_time_ns": _TIMER, "thread_time": _TIMER, "thread_time_ns": _TIMER,
        "time_ns": _TIMER, "get_clock_info": _TIMER,
        "strftime": _CALENDAR, "strptime": _CALENDAR, "asctime": _CALENDAR,
        "ctime": _CALENDAR, "gmtime": _CALENDAR, "tzset": _CALENDAR, "timezone": _CALENDAR,
        "ticks_ms": _TICKS, "ticks_us": _TICKS, "ticks_cpu": _TICKS, "ticks_diff": _TICKS,
        "ticks_add": _TICKS, "sleep_ms": "MicroPython only: use time.sleep(seconds) or await asyncio.sleep",
        "sleep_us": "MicroPython only: use time.sleep(seconds) or await asyncio.sleep",
    },
    "sys": {
        "print_exception": "gone in CircuitPython 10: use traceback.print_exception(e)",
        "getsizeof": "not on the badge: use gc.mem_free() before and after",
        "setrecursionlimit": "not on the badge",
        "_getframe": "not on the badge",
    },
    "collections": {
        name: "not on the badge (it has namedtuple, OrderedDict and deque): use a dict and write it out"
        for name in ("defaultdict", "Counter", "ChainMap", "UserDict", "UserList", "UserString", "abc")
    },
    "os": {
        "path": _OS_PATH, "makedirs": "not on the badge: os.mkdir each level",
        "walk": "not on the badge: recurse with os.listdir", "scandir": "not on the badge: use os.listdir",
        "environ": "not on the badge: use os.getenv (settings.toml)",
        "replace": "not on the badge: os.remove the target, then os.rename",
    },
    "re": dict(
        {name: _RE_FUNCS for name in ("findall", "finditer", "fullmatch", "escape", "subn", "purge")},
        **{name: _RE_FLAGS for name in ("I", "IGNORECASE", "M", "MULTILINE", "S", "DOTALL",
                                        "X", "VERBOSE", "A", "ASCII", "U", "UNICODE")},
    ),
    "json": {
        "JSONDecodeError": "not on the badge: json.loads raises ValueError",
        "JSONEncoder": "not on the badge", "JSONDecoder": "not on the badge",
    },
    "random": {
        name: "not on the badge (it has random, randint, randrange, choice, uniform, getrandbits): write it out"
        for name in ("shuffle", "sample", "choices", "gauss", "Random", "SystemRandom")
    },
}

_CHARS = "not on the badge: test characters with isalpha() / isdigit() / isspace() or compare ranges"
# Methods of built-in types that the badge's str, bytes, int and exceptions lack.
MISSING_METHODS = {
    "removeprefix": "not on the badge: use startswith() and slicing",
    "removesuffix": "not on the badge: use endswith() and slicing",
    "format_map": "not on the badge: use .format(**mapping)",
    "zfill": "not on the badge: use '{:0Nd}'.format(n) or '%0Nd' % n",
    "ljust": "not on the badge: use '{:<N}'.format(s)",
    "rjust": "not on the badge: use '{:>N}'.format(s)",
    "casefold": "not on the badge: use lower()",
    "capitalize": "not on the badge: use upper() and lower() on slices",
    "title": "not on the badge: use upper() and lower() on slices",
    "swapcase": "not on the badge: use upper() and lower() on slices",
    "expandtabs": "not on the badge: use replace('\\t', ...)",
    "translate": "not on the badge: use replace() or a loop",
    "maketrans": "not on the badge: use replace() or a loop",
    "isalnum": _CHARS, "isascii": _CHARS, "isdecimal": _CHARS, "isnumeric": _CHARS,
    "isidentifier": _CHARS, "isprintable": _CHARS, "istitle": _CHARS,
    "bit_length": "not on the badge's int: shift in a loop, or compare with constants",
    "bit_count": "not on the badge's int: count bits in a loop",
    "add_note": "not on the badge: put the context into the exception's message",
}

# Keyword arguments that built-in functions accept on CPython and reject on the badge
# ("function doesn't take keyword arguments"). Methods: {method: keywords}.
METHOD_POSITIONAL_ONLY = {
    "split": ("sep", "maxsplit"), "rsplit": ("sep", "maxsplit"),
    "encode": ("encoding", "errors"), "decode": ("encoding", "errors"),
    "to_bytes": ("length", "byteorder", "signed"),
    "from_bytes": ("bytes", "byteorder", "signed"),
    "splitlines": ("keepends",),
}
# Built-in functions: {function: keywords}.
BUILTIN_POSITIONAL_ONLY = {
    "int": ("base",), "round": ("ndigits",), "sum": ("start",), "zip": ("strict",),
    "print": ("flush",),
}

# asyncio functions that must be given a coroutine; on the badge asyncio.sleep()
# returns a shared generator instead, which these reject.
ASYNCIO_TAKES_COROUTINE = frozenset({"gather", "wait_for", "wait_for_ms", "create_task", "run", "ensure_future"})
ASYNCIO_SLEEPS = frozenset({"sleep", "sleep_ms"})

# Modules that only code.py and boot.py may import (design rule: inject hardware).
ENTRY_ONLY_MODULES = frozenset({"board", "busio"})

# re functions whose first argument is a pattern.
RE_PATTERN_FUNCS = frozenset({"compile", "match", "search", "sub", "split"})
