"""The emulated AWS IoT ExpressLink module: power states, pins, knobs; its parts joined.

One asyncio task (the module's "life") boots, then serves commands (``CommandLoop``)
until one asks for a reboot; background tasks carry CONNECT!, subscription acks, shadow
and OTA work. Time comes from the event loop (a SimEventLoop in tests: virtual time), so boot,
connection and wire delays cost no real time there.
"""

import asyncio
import random

from sim.expresslink.codes import EVENT_CONFMODE, EVENT_STARTUP
from sim.expresslink.command_loop import CommandLoop
from sim.expresslink.commands import GeneralCommands, build_table
from sim.expresslink.config import DEFAULT_ENDPOINT, ConfigStore
from sim.expresslink.connection import Connection
from sim.expresslink.context import (
    ACTIVE,
    BOOTING,
    IN_RESET,
    OFF,
    SLEEPING,
    FaultKnobs,
    Forward,
    ModuleContext,
    WallClock,
)
from sim.expresslink.messaging import Messaging
from sim.expresslink.ota import OtaService
from sim.expresslink.parser import MAX_LINE_BYTES
from sim.expresslink.queues import EventQueue, MessageQueue
from sim.expresslink.shadow import ShadowService


class ExpressLinkModule:
    """An ExpressLink module on ``uart_end`` (the device end of a SerialLink).

    Pins: ``event_pin`` (output, high while events are queued; listeners in
    ``event_pin_listeners`` get ``callable(level)``), ``set_reset(level)`` (RST, active
    low), ``set_wake(level)`` (WAKE, a falling edge wakes a sleeping module).

    Fault knobs: the attributes of ``FaultKnobs`` (``module.hang = True`` and so on),
    ``drop_connection()``, ``inject_garbage(data)``, ``inject_event(id, param, detail,
    mnemonic)``, ``complete_confmode(ssid, passphrase)``. The services share the narrow
    ``ModuleContext`` in ``ctx``, never the module.
    """

    def __init__(self, clock, uart_end, cloud, thing_name="badge-sim-0001", *, max_topic=16,
                 max_shadow=8, message_queue_depth=16, event_queue_depth=32, boot_time_s=0.5,
                 connect_time_s=1.5, processing_time_s=0.0002, max_line_bytes=MAX_LINE_BYTES,
                 endpoint=DEFAULT_ENDPOINT, seed=None):
        self.clock = clock
        self.uart = uart_end
        self.cloud = cloud
        self.boot_time_s = boot_time_s
        self.config = ConfigStore(thing_name, max_topic, max_shadow, endpoint)
        self.messages = MessageQueue(message_queue_depth)
        self.events = EventQueue(event_queue_depth, on_change=self._event_pin_changed)
        self.knobs = FaultKnobs()
        self.wall_clock = WallClock(clock)
        self.ctx = ModuleContext(clock=clock, cloud=cloud, config=self.config,
                                 messages=self.messages, events=self.events, knobs=self.knobs,
                                 wall_clock=self.wall_clock, spawn=self.spawn)
        self.power = self.ctx.power
        self.shadows = ShadowService(self.ctx)
        self.connection = Connection(self.ctx, connect_time_s, on_lost=self.shadows.connection_lost)
        self.messaging = Messaging(self.ctx, drop=self.connection.drop,
                                   claim_reply=self.shadows.on_message)
        self.ota = OtaService(self.ctx)
        self.internal_errors = []  # exceptions a handler raised (a bug in the emulator)
        table = build_table(GeneralCommands(self.ctx), self.connection, self.messaging,
                            self.shadows, self.ota)
        self.commands = CommandLoop(self.ctx, uart_end, table, max_line_bytes, processing_time_s,
                                    self.internal_errors, self.wake, self._enter_sleep)
        self._rng = random.Random(seed)
        # pins and power
        self.event_pin_listeners = []
        self.reset_level = True
        self.wake_level = True
        self.boots = 0
        self._loop = None
        self._life_task = None
        self._tasks = set()
        self._disconnecting = None
        self._sleep_timer = None

    # fault knobs, the time service and the power state, kept by the parts that use them
    refuse_connections = Forward("knobs")
    unreachable = Forward("knobs")
    network_down = Forward("knobs")
    fail_next_connect = Forward("knobs")
    reset_mid_command = Forward("knobs")
    hang = Forward("knobs")
    confmode_available = Forward("knobs")
    boot_garbage = Forward("knobs")
    time_synced = Forward("wall_clock", "synced")
    time_words = Forward("wall_clock", "words")
    wall_clock_epoch_s = Forward("wall_clock", "epoch_s")
    phase = Forward("power")
    confmode = Forward("power")
    confmode_parameter = Forward("power")
    connect_time_s = Forward("connection")
    processing_time_s = Forward("commands")
    history = Forward("commands")  # the last 200 (time s, command bytes, reply bytes)

    # -- power --------------------------------------------------------------------------------
    def start(self):
        """Power up on the running event loop: garbage, ``boot_time_s`` of silence, STARTUP."""
        if self.power.phase != OFF:
            raise RuntimeError("the module is already started (phase %s)" % self.power.phase)
        self._loop = asyncio.get_running_loop()
        self.ctx.event_arrived = asyncio.Event()
        if self.reset_level:
            self._power_up()
        else:
            self.power.phase = IN_RESET

    def stop(self):
        """Power off: every task ends; an open cloud session is closed in the background."""
        self._power_down(OFF)

    async def close(self):
        """Power off and wait until the cloud session is closed."""
        self.stop()
        if self._disconnecting is not None:
            await self._disconnecting

    @property
    def powered(self):
        return self.power.powered

    def _power_up(self):
        self._life_task = self._loop.create_task(self._life(), name="expresslink-module")

    def _power_down(self, phase):
        task = self._life_task
        self._life_task = None
        if task is not None and task is not asyncio.current_task():
            task.cancel()
        self._shutdown()
        self.power.phase = phase
        self.knobs.hang = False

    def _shutdown(self):
        """Everything a reboot or RST loses: tasks, connection, queues, volatile keys."""
        for task in list(self._tasks):
            task.cancel()
        self._tasks.clear()
        if self.connection.forget():
            self._disconnecting = self._loop.create_task(self._close_cloud())
        self.messages.clear()
        self.events.clear()
        self.shadows.reset()
        power = self.power
        power.confmode = False
        power.sleep_request = None
        power.reboot_kind = None
        power.pem_key = None
        power.sleep_mode = None
        self.commands.reset()
        self.wall_clock.synced = False
        self.config.reset_volatile()

    async def _close_cloud(self):
        try:
            await self.cloud.disconnect()
        except Exception:  # a dead session is as good as a closed one
            pass

    async def _life(self):
        try:
            while True:
                await self._boot()
                kind = await self.commands.serve()
                self._shutdown()
                if kind == "factory":
                    self.config.factory_reset()
        except asyncio.CancelledError:
            raise
        except Exception as exc:  # an emulator bug: record it and fail loudly
            self.internal_errors.append(exc)
            raise

    async def _boot(self):
        self.power.phase = BOOTING
        self.boots += 1
        garbage = self.knobs.boot_garbage
        if garbage is None:
            garbage = bytes(self._rng.choice((0x00, 0xFF)) for _ in range(self._rng.randint(3, 12)))
        if garbage:
            self.uart.write(garbage)
        await asyncio.sleep(self.boot_time_s)
        if self._disconnecting is not None:
            await self._disconnecting
            self._disconnecting = None
        self.uart.read()  # deaf while booting: whatever arrived is lost
        self.commands.assembler.reset()
        self.power.phase = ACTIVE
        self.queue_event(EVENT_STARTUP)

    # -- sleep ---------------------------------------------------------------------------------------
    def _enter_sleep(self, mode, duration_s):
        power = self.power
        power.sleep_request = None
        self.events.clear()
        power.phase = SLEEPING
        power.sleep_mode = mode
        if mode >= 1:
            self.commands.assembler.reset()
        if duration_s:
            self._sleep_timer = self.spawn(self._sleep_for(duration_s))

    async def _sleep_for(self, duration_s):
        await asyncio.sleep(duration_s)
        self._sleep_timer = None
        self.wake()

    def wake(self):
        """Leave sleep: deep sleep (mode 2) loses volatile keys and messages; STARTUP."""
        if self.power.phase != SLEEPING:
            return
        timer = self._sleep_timer
        self._sleep_timer = None
        if timer is not None and timer is not asyncio.current_task():
            timer.cancel()
        mode = self.power.sleep_mode
        self.power.phase = ACTIVE
        self.power.sleep_mode = None
        if mode >= 2:
            self.config.reset_volatile()
            self.messages.clear()
        self.queue_event(EVENT_STARTUP)

    # -- pins --------------------------------------------------------------------------------------------
    @property
    def event_pin(self):
        """EVENT output: high while the event queue is non-empty."""
        return self.power.powered and self.events.pin

    def _event_pin_changed(self, level):
        for listener in list(self.event_pin_listeners):
            listener(level)

    def set_reset(self, level):
        """RST input, active low: low holds the module in reset, the rising edge reboots it."""
        level = bool(level)
        if level == self.reset_level:
            return
        self.reset_level = level
        if self._loop is None or self.power.phase == OFF:
            return
        if not level:
            self._power_down(IN_RESET)
        else:
            self._power_up()

    def set_wake(self, level):
        """WAKE input: high lets the module sleep; a falling edge wakes it."""
        level = bool(level)
        falling = self.wake_level and not level
        self.wake_level = level
        if falling and self.power.phase == SLEEPING:
            self.wake()

    # -- services for the parts --------------------------------------------------------------------------
    def queue_event(self, event_id, param=0, detail=""):
        """Queue an event (nothing happens while the module is off or in reset)."""
        self.ctx.queue_event(event_id, param, detail)

    def spawn(self, coro):
        """Run ``coro`` as background work that a reboot or RST cancels."""
        task = self._loop.create_task(coro)
        self._tasks.add(task)
        task.add_done_callback(self._task_done)
        return task

    def _task_done(self, task):
        self._tasks.discard(task)
        if not task.cancelled() and task.exception() is not None:
            self.internal_errors.append(task.exception())

    def set_wall_clock(self, epoch_s):
        """Make the module's wall clock read ``epoch_s`` now."""
        self.wall_clock.set(epoch_s)

    # -- fault knobs ------------------------------------------------------------------------------------
    def drop_connection(self, reason="connection lost"):
        """A spontaneous connection loss: CONLOST, the cloud session is aborted."""
        self.connection.drop(reason)

    def inject_event(self, event_id, param=0, detail="", mnemonic=None):
        """Queue any event, e.g. a vendor event (id >= 1000) or one without mnemonic ("")."""
        self.ctx.queue_event(event_id, param, detail, mnemonic)

    def inject_garbage(self, data):
        """Put ``data`` on the module's TX line now (noise, a glitch, a stray boot log)."""
        self.uart.write(bytes(data))

    def complete_confmode(self, ssid=None, passphrase=None):
        """The user finished CONFMODE (e.g. on a phone): store keys, CONFMODE event."""
        if not self.power.confmode:
            return False
        if ssid is not None:
            self.config.set("SSID", ssid)
        if passphrase is not None:
            self.config.set("Passphrase", passphrase)
        self.power.confmode = False
        self.queue_event(EVENT_CONFMODE)
        return True
