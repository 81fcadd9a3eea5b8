"""The module's UART side: read lines, execute one command at a time, write the replies.

Commands run strictly one after another; a reply leaves ``processing_time_s`` after the
command's EOL arrived, then takes its wire time on the UART. After each reply the loop
carries out what the command asked of the power state (PEM input, sleep, reboot).
"""

import asyncio
from collections import deque

from sim.expresslink.codes import ERR_OVERFLOW, ERR_PARAMETER, ModuleError
from sim.expresslink.context import SLEEPING
from sim.expresslink.parser import OVERFLOW, RAW, LineAssembler, error_line, parse_command
from sim.expresslink.pem_input import PemInput


class CommandLoop:
    """Serves the command ``table`` (WORD -> (suffix rule, handler)) on ``uart``.

    ``wake()`` is called when a command arrives in light sleep; ``enter_sleep(mode,
    duration_s)`` when a command asked for sleep. ``internal_errors`` collects the
    exceptions a handler raised (an emulator bug; the host gets ``ERR4 ... internal error``).
    """

    def __init__(self, ctx, uart, table, max_line_bytes, processing_time_s, internal_errors,
                 wake, enter_sleep):
        self.ctx = ctx
        self.uart = uart
        self.processing_time_s = processing_time_s
        self.assembler = LineAssembler(max_line_bytes)
        self.history = deque(maxlen=200)  # (time s, command body bytes, reply bytes)
        self.internal_errors = internal_errors
        self._handlers = {word: entry[1] for word, entry in table.items()}
        self._suffix_rules = {word: entry[0] for word, entry in table.items()}
        self._wake = wake
        self._enter_sleep = enter_sleep
        self._pem = None

    def reset(self):
        """A reboot: partial input, raw PEM input and the line buffer are lost."""
        self._pem = None
        self.assembler.raw = False
        self.assembler.reset()

    def _input_ignored(self):
        power = self.ctx.power
        return self.ctx.knobs.hang or (power.phase == SLEEPING and power.sleep_mode >= 1)

    async def serve(self):
        """Run until a command asks for a reboot; returns its kind (``reset``, ...)."""
        assembler = self.assembler
        power = self.ctx.power
        uart = self.uart
        while True:
            item = None if self._input_ignored() else assembler.next_item()
            if item is None:
                await uart.wait_readable(whole_burst=True)
                data = uart.read()
                if not self._input_ignored():
                    assembler.feed(data)
                continue
            kind, body = item
            if kind == RAW:
                reply = self._pem_line(body)
            else:
                if power.phase == SLEEPING:
                    self._wake()
                reply = await self._execute(kind, body)
            if reply is not None:
                await asyncio.sleep(self.processing_time_s)
                self.write(reply)
                self.history.append((self.ctx.clock.now(), body, reply))
            if power.pem_key is not None:
                self._begin_pem_input(power.pem_key)
            if power.sleep_request is not None:
                self._enter_sleep(*power.sleep_request)
            if power.reboot_kind is not None:
                return power.reboot_kind

    async def _execute(self, kind, body):
        knobs = self.ctx.knobs
        if knobs.reset_mid_command:
            partial = knobs.reset_mid_command
            knobs.reset_mid_command = False
            self.write(partial if isinstance(partial, (bytes, bytearray)) else b"OK")
            self.ctx.power.request_reboot("watchdog")
            return None
        if kind == OVERFLOW:
            return error_line(ModuleError(ERR_OVERFLOW))
        try:
            cmd = parse_command(body, self._suffix_rules)
            return await self._handlers[cmd.word](cmd)
        except ModuleError as exc:
            return error_line(exc)
        except Exception as exc:  # an emulator bug: answer, record, keep running
            self.internal_errors.append(exc)
            return error_line(ModuleError(ERR_PARAMETER, "internal error"))

    def write(self, data):
        """Bytes on the module's TX line, unless it is unpowered or hung."""
        if self.ctx.power.powered and not self.ctx.knobs.hang:
            self.uart.write(data)

    # -- PEM input after CONF key=pem ------------------------------------------------------
    def _begin_pem_input(self, key):
        """Switch the UART to raw lines until the certificate block ends."""
        self.ctx.power.pem_key = None
        self._pem = PemInput(self.ctx.config, key)
        self.assembler.raw = True

    def _pem_line(self, line):
        reply = self._pem.add_line(line)
        if self._pem.done:
            self._pem = None
            self.assembler.raw = False
        return reply
