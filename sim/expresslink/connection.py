"""The module's connection model: CONNECT, CONNECT!, CONNECT?, DISCONNECT, CONLOST.

States: disconnected -> connecting (blocking CONNECT or CONNECT!) -> connected. A failed
attempt starts a backoff window that doubles with each consecutive failure; an attempt
inside the window fails at once with hint 1. Every connected -> disconnected transition
queues CONLOST. The state the other services read is the context's ``Session``; only
this class changes it.
"""

import asyncio

from sim.expresslink.cloud import CLOUD_FAILURES, CLOUD_TIMEOUT_S, CloudError
from sim.expresslink.codes import (
    ERR_NOT_ALLOWED,
    EVENT_CONLOST,
    EVENT_CONNECT,
    HINT_BACKOFF,
    HINT_UNREACHABLE,
    ConnectError,
    ModuleError,
)
from sim.expresslink.context import CONNECTED, CONNECTING, DISCONNECTED
from sim.expresslink.parser import ok_line


class Connection:
    """Connection state, backoff and the connection commands.

    ``ctx``: the module's ``ModuleContext``. ``connect_time_s``: the module's own time
    per attempt (s). ``on_lost()``: called at every connected -> disconnected transition.
    """

    def __init__(self, ctx, connect_time_s=1.5, on_lost=None):
        self.ctx = ctx
        self.cloud = ctx.cloud
        self.session = ctx.session
        self.connect_time_s = connect_time_s
        self.on_lost = on_lost if on_lost is not None else (lambda: None)
        self.failures = 0
        self.backoff_until_s = 0.0
        self.backoff_base_s = 2.0
        self.backoff_max_s = 64.0
        self.cloud_timeout_s = CLOUD_TIMEOUT_S  # a connect that takes longer has failed
        self.cloud.on_connection_lost = self._on_connection_lost

    @property
    def state(self):
        return self.session.state

    @property
    def connected(self):
        return self.session.state == CONNECTED

    # -- transitions ----------------------------------------------------------------------
    async def attempt(self):
        """One connection attempt (or the backoff refusal): returns (hint, detail)."""
        ctx = self.ctx
        session = self.session
        now = ctx.clock.now()
        if now < self.backoff_until_s:
            return HINT_BACKOFF, "retry in %.1f s" % (self.backoff_until_s - now)
        session.state = CONNECTING
        try:
            await asyncio.sleep(self.connect_time_s)
            hint, detail = ctx.knobs.forced_connect_failure()
            if not hint:
                config = ctx.config
                try:
                    await asyncio.wait_for(
                        self.cloud.connect(config.thing_name, config.keepalive_s(), config.will()),
                        self.cloud_timeout_s)
                except CloudError as exc:
                    hint, detail = (exc.hint or HINT_UNREACHABLE), exc.detail
                except (OSError, asyncio.TimeoutError) as exc:
                    hint, detail = HINT_UNREACHABLE, str(exc) or "no answer from the endpoint"
        except BaseException:
            session.state = DISCONNECTED
            raise
        if hint:
            session.state = DISCONNECTED
            self.failures += 1
            delay = min(self.backoff_base_s * 2 ** (self.failures - 1), self.backoff_max_s)
            self.backoff_until_s = ctx.clock.now() + delay
            return hint, detail
        self.failures = 0
        self.backoff_until_s = 0.0
        session.state = CONNECTED
        session.epoch += 1
        ctx.wall_clock.synced = True
        if not ctx.config.onboarded:
            ctx.spawn(self._subscribe_staging_config())
        return 0, ""

    def lose(self, reason=""):
        """Connected -> disconnected for any reason: CONLOST, ``on_lost()``."""
        session = self.session
        if session.state != CONNECTED:
            return False
        session.state = DISCONNECTED
        session.epoch += 1
        self.ctx.queue_event(EVENT_CONLOST)
        self.on_lost()
        return True

    def drop(self, reason):
        """Lose the connection and end the cloud session uncleanly (its will is sent)."""
        if self.lose(reason):
            self.ctx.spawn(self._quiet_disconnect())

    def forget(self):
        """Reset/RST: drop the connection without an event (the queues are being emptied).
        True when a cloud session may still be open."""
        session = self.session
        was_online = session.state != DISCONNECTED
        session.state = DISCONNECTED
        session.async_connect = False
        session.epoch += 1
        return was_online

    def _on_connection_lost(self, reason):
        self.lose(reason)

    # -- commands -------------------------------------------------------------------------
    def _check_may_connect(self, cmd):
        """CONNECT and CONNECT! refuse a parameter, CONFMODE and a running CONNECT!."""
        cmd.require_no_param()
        if self.ctx.power.confmode:
            raise ModuleError(ERR_NOT_ALLOWED, "CONFMODE active")
        if self.session.async_connect:
            raise ModuleError(ERR_NOT_ALLOWED, "CONNECT! in progress")

    async def cmd_connect(self, cmd):
        self._check_may_connect(cmd)
        if self.connected:
            return ok_line("1 CONNECTED")
        hint, detail = await self.attempt()
        if hint:
            raise ConnectError(hint, detail)
        return ok_line("1 CONNECTED")

    async def cmd_connect_async(self, cmd):
        self._check_may_connect(cmd)
        if self.connected:
            self.ctx.queue_event(EVENT_CONNECT, 0)
            return ok_line()
        self.session.async_connect = True
        self.ctx.spawn(self._connect_in_background())
        return ok_line()

    async def _connect_in_background(self):
        try:
            hint, detail = await self.attempt()
        finally:
            self.session.async_connect = False
        self.ctx.queue_event(EVENT_CONNECT, hint, detail)

    async def cmd_connect_query(self, cmd):
        cmd.require_no_param()
        online = self.connected
        onboarded = self.ctx.config.onboarded
        return ok_line("%d %d %s %s" % (
            online, onboarded, "CONNECTED" if online else "DISCONNECTED",
            "CUSTOMER" if onboarded else "STAGING"))

    async def cmd_disconnect(self, cmd):
        cmd.require_no_param()
        if self.session.async_connect:
            raise ModuleError(ERR_NOT_ALLOWED, "CONNECT! in progress")
        if self.lose("DISCONNECT"):
            try:
                await self.cloud.disconnect()
            except Exception:  # the session is gone either way
                pass
        return ok_line("0 DISCONNECTED")

    async def _quiet_disconnect(self):
        abort = getattr(self.cloud, "abort", None)
        try:
            if abort is not None:
                await abort()
            else:
                await self.cloud.disconnect()
        except Exception:  # a dead session is as good as a closed one
            pass

    async def _subscribe_staging_config(self):
        topic = self.ctx.config.thing_name + "/expresslink_config"
        try:
            await self.cloud.subscribe(topic, 1)
        except CLOUD_FAILURES:
            pass

