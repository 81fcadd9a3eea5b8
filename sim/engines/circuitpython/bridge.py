"""Lockstep co-simulation: the RP2040's emulated clock leads, the Python side follows.

One task in the simulator's event loop serves the Node host. Each message from Node is a
sync at emulated time ``t`` (ns) with what the RP2040 did (UART bytes with their arrival
times at the module, output pin changes, console bytes) and maybe an I2C question. The
task sleeps on the virtual clock until ``t`` (every timer due before then runs at its
own time: the module, the broker, the chips), applies the events, answers, lets work
that is ready at ``t`` finish, and replies with the UART bytes the RP2040 will receive
(with their arrival times), input pin levels, console keys and its next deadline: the
RP2040 runs no further than that before it syncs again. While Node computes, the
Python side is blocked in the read: it can never run ahead of the emulated clock.
"""

import asyncio
import time

from sim.core.loop import sleep as sim_sleep

_SETTLE_TURNS = 64  # loop turns allowed at one instant for work that became ready
_MAX_STEP_NS = 50_000_000  # sync at least every 50 ms of emulated time
_PACED_STEP_NS = 20_000_000  # in real time, sync every 20 ms: keys and views stay live


class CoSimBridge:
    """Serves ``process`` (a :class:`~sim.engines.circuitpython.process.NodeProcess`).

    ``router``: the I2C chips; ``uart``: the RP2040's end of the UART wire
    (:class:`~sim.core.serial_link.SerialEnd`); ``inputs``: {gpio: callable() -> level} read
    at every sync; ``outputs``: {gpio: callable(level)} told of RP2040 pin changes;
    ``console``: a :class:`~sim.engines.circuitpython.console.ConsoleCapture`.
    """

    def __init__(self, clock, process, router, uart, inputs, outputs, console):
        self._work_left = False  # whether _settle left work at the last sync
        self.clock = clock
        self.process = process
        self.router = router
        self.uart = uart
        self.inputs = inputs
        self.outputs = outputs
        self.console = console
        self._sent_levels = {}
        self._keys = bytearray()
        self.stop_requested = False
        self.stop_at_ns = None
        self.usb_connected_s = None
        self.on_usb = []  # callables() when the host opens the console
        self.node_stats = {}
        self.syncs = 0
        self.link_wall_s = 0.0  # wall s the RP2040 has spent waiting on Python so far
        self.finished = False
        self.trace = None  # a list to record (t_ns, event kinds, request) of every sync
        self.real_time = False  # keep emulated time from running ahead of the wall clock
        self._wall_origin = None

    # -- called from the simulation ---------------------------------------------------
    def send_keys(self, data):
        """Type ``data`` (bytes) on the console: b"\\x03" is Ctrl-C, b"\\x04" Ctrl-D."""
        self._keys += data

    def stop(self):
        self.stop_requested = True

    # -- serving ----------------------------------------------------------------------
    async def serve(self):
        """Serve Node until it says goodbye (after a stop was requested)."""
        process = self.process
        while True:
            message = process.receive()
            self.syncs += 1
            t_ns = message["t"]
            self.link_wall_s = message.get("w", 0) / 1e9
            if self.trace is not None:
                self.trace.append((t_ns, [e[0] for e in message["ev"]], message.get("req")))
            await self._advance_to(t_ns)
            for event in message["ev"]:
                self._apply(event)
            request = message.get("req")
            answer = self._answer(request) if request else None
            if request and request.get("op") == "bye":
                process.send({"dl": t_ns, "ans": None})
                self.finished = True
                return
            await self._settle()
            if self.real_time:
                self._pace(t_ns)
            process.send(self._reply(t_ns, answer))

    def _pace(self, t_ns):
        """Real-time runs (the live view): wait until the wall clock reaches ``t_ns``.
        An idle RP2040 runs far faster than real time; a busy one slower (then this
        waits nothing)."""
        if self._wall_origin is None:
            self._wall_origin = time.monotonic() - t_ns / 1e9
        ahead_s = t_ns / 1e9 - (time.monotonic() - self._wall_origin)
        if ahead_s > 0:
            time.sleep(ahead_s)

    async def _advance_to(self, t_ns):
        clock = self.clock
        delay_ns = t_ns - clock.now_ns()
        if delay_ns > 0:
            await sim_sleep(delay_ns / 1e9)
        clock.advance_to(t_ns / 1e9)

    async def _settle(self):
        """Let the work that became ready at this instant run (up to _SETTLE_TURNS turns
        of the loop). A turn in which no step but this one ran, with no socket ready,
        means nothing is left: every step of the loop is counted in clock.stalls."""
        loop = asyncio.get_running_loop()
        stalls = self.clock.stalls
        self._work_left = True
        for _ in range(_SETTLE_TURNS):
            before = stalls.steps
            await asyncio.sleep(0)
            if stalls.steps - before <= 1 and not loop.sockets_ready():
                self._work_left = False
                return

    def _apply(self, event):
        kind = event[0]
        if kind == "tx":
            _, first_ns, step_ns, text = event
            data = bytes.fromhex(text)
            self._deliver_uart(first_ns, step_ns, data)
        elif kind == "con":  # console bytes, with the time the RP2040 sent them
            self.console.feed(bytes.fromhex(event[1]), event[2] / 1e9)
        elif kind == "pin":
            handler = self.outputs.get(event[1])
            if handler is not None:
                handler(bool(event[2]))
        elif kind == "usb":
            self.usb_connected_s = self.clock.now()
            for callback in self.on_usb:
                callback()
        elif kind == "stats":
            self.node_stats = event[1]

    def _deliver_uart(self, first_ns, step_ns, data):
        end = self.uart
        end.bytes_sent += len(data)
        for tap in end.taps:
            tap(self.clock.now(), end.name, data)
        if not end._link.connected:
            return
        peer = end.peer
        if step_ns == end._link.byte_ns:
            peer._deliver(first_ns, data)
        else:
            for index, byte in enumerate(data):
                peer._deliver(first_ns + index * step_ns, bytes((byte,)))

    def _answer(self, request):
        op = request["op"]
        if op == "ack":
            return self.router.address(request["addr"], request["dir"], request.get("n", 0))
        if op == "write":
            return self.router.write(request["addr"], bytes.fromhex(request["data"]))
        return None

    def _reply(self, t_ns, answer):
        reply = {"dl": self._deadline(t_ns), "ans": answer}
        rx = self._drain_uart()
        if rx:
            reply["rx"] = rx
        pins = []
        for gpio, read in self.inputs.items():
            level = 1 if read() else 0
            if self._sent_levels.get(gpio) != level:
                self._sent_levels[gpio] = level
                pins.append([gpio, level])
        if pins:
            reply["pins"] = pins
        if self._keys:
            reply["keys"] = self._keys.hex()
            self._keys = bytearray()
        if self.stop_requested or (self.stop_at_ns is not None and t_ns >= self.stop_at_ns):
            reply["stop"] = True
        return reply

    def _deadline(self, t_ns):
        loop = asyncio.get_running_loop()
        limit = t_ns + (_PACED_STEP_NS if self.real_time else _MAX_STEP_NS)
        if self.stop_at_ns is not None:
            limit = min(limit, max(self.stop_at_ns, t_ns + 1))
        if self._work_left or loop.io_expected:
            # Work left at this instant, or a part waits on a real socket: come back at
            # once, so emulated time does not run on while Python waits in real time.
            return t_ns + 1
        next_s = loop.next_timer_s()
        if next_s is not None:
            limit = min(limit, max(int(next_s * 1e9 + 0.5), t_ns + 1))
        return limit

    def _drain_uart(self):
        """Bytes on the wire towards the RP2040, as [first arrival ns, step ns, hex]."""
        end = self.uart
        byte_ns = end._link.byte_ns
        runs = []
        while end._rx:
            first_ns, data, consumed = end._rx.popleft()
            rest = data[consumed:]
            end.bytes_received += len(rest)
            runs.append([first_ns + consumed * byte_ns, byte_ns, rest.hex()])
        return runs
