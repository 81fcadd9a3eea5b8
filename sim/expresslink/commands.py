"""The command table (word -> suffix rule, handler) and the module's general commands.

General commands: AT, CONF, CONF?, EVENT?, EVENT!, TIME?, WHERE?, DIAG, RESET,
FACTORY_RESET, SLEEP, CONFMODE. Messaging, shadow and OTA handlers live with their state
(connection.py, messaging.py, shadow.py, ota.py); this table joins them.
"""

import asyncio
import time

from sim.expresslink.codes import (
    ERR_ACTIVE_CONNECTION,
    ERR_KEY_READONLY,
    ERR_LOCATION_NOT_AVAILABLE,
    ERR_MODE_NOT_AVAILABLE,
    ERR_NOT_ALLOWED,
    ERR_PARAMETER,
    ERR_TIME_NOT_AVAILABLE,
    EVENT_TIMEOUT,
    ModuleError,
)
from sim.expresslink.config import PEM_KEYS, READ
from sim.expresslink.parser import (
    SUFFIX_NONE,
    SUFFIX_OPTIONAL,
    SUFFIX_REQUIRED,
    is_decimal,
    ok_line,
    ok_lines,
)
from sim.expresslink.queues import Event

SLEEP_MODES = (0, 1, 2)  # 0 light (UART alive), 1 UART off, 2 deep (volatile keys lost)


def build_table(general, link, messaging, shadows, ota):
    """WORD -> (suffix rule, async handler(cmd) -> reply bytes or None), joining the
    handlers of the general commands, the connection, messaging, the shadows and OTA."""
    return {
        "": (SUFFIX_NONE, general.cmd_at),
        "CONF": (SUFFIX_NONE, general.cmd_conf),
        "CONF?": (SUFFIX_NONE, general.cmd_conf_query),
        "CONNECT": (SUFFIX_NONE, link.cmd_connect),
        "CONNECT!": (SUFFIX_NONE, link.cmd_connect_async),
        "CONNECT?": (SUFFIX_NONE, link.cmd_connect_query),
        "DISCONNECT": (SUFFIX_NONE, link.cmd_disconnect),
        "SEND": (SUFFIX_REQUIRED, messaging.cmd_send),
        "GET": (SUFFIX_OPTIONAL, messaging.cmd_get),
        "SUBSCRIBE": (SUFFIX_REQUIRED, messaging.cmd_subscribe),
        "UNSUBSCRIBE": (SUFFIX_REQUIRED, messaging.cmd_unsubscribe),
        "EVENT?": (SUFFIX_NONE, general.cmd_event_query),
        "EVENT!": (SUFFIX_NONE, general.cmd_event_wait),
        "TIME?": (SUFFIX_NONE, general.cmd_time),
        "WHERE?": (SUFFIX_NONE, general.cmd_where),
        "DIAG": (SUFFIX_NONE, general.cmd_diag),
        "RESET": (SUFFIX_NONE, general.cmd_reset),
        "FACTORY_RESET": (SUFFIX_NONE, general.cmd_factory_reset),
        "SLEEP": (SUFFIX_OPTIONAL, general.cmd_sleep),
        "CONFMODE": (SUFFIX_NONE, general.cmd_confmode),
        "SHADOW": (SUFFIX_OPTIONAL, shadows.cmd_shadow),
        "OTA?": (SUFFIX_NONE, ota.cmd_ota_query),
        "OTA": (SUFFIX_NONE, ota.cmd_ota),
    }


def _text(cmd):
    """The parameter as UTF-8 text; ERR4 when absent or not UTF-8."""
    if cmd.param is None:
        raise ModuleError(ERR_PARAMETER, "parameter missing")
    try:
        return cmd.param.decode("utf-8")
    except UnicodeDecodeError:
        raise ModuleError(ERR_PARAMETER, "not UTF-8") from None


class GeneralCommands:
    """Handlers that need only the module's configuration, queues, clocks and power state.

    ``ctx``: the module's ``ModuleContext``.
    """

    def __init__(self, ctx):
        self.ctx = ctx

    async def cmd_at(self, cmd):
        return ok_line()

    async def cmd_conf(self, cmd):
        config = self.ctx.config
        key, sep, value = _text(cmd).partition("=")
        if not sep:
            raise ModuleError(ERR_PARAMETER, "CONF key=value")
        spec = config.spec_for(key)
        if value == "pem" and key in PEM_KEYS:
            if spec.access == READ:
                raise ModuleError(ERR_KEY_READONLY)
            self.ctx.power.request_pem_input(key)
            return None  # the reply follows the PEM block
        config.assign(key, value)
        return ok_line()

    async def cmd_conf_query(self, cmd):
        key, _, option = _text(cmd).partition(" ")
        value = self.ctx.config.query(key)
        if option:
            if option.strip().lower() != "pem" or key not in PEM_KEYS:
                raise ModuleError(ERR_PARAMETER)
            lines = [line for line in value.split("\n") if line] if value else []
            return ok_lines("pem", lines, raw=True)
        return ok_line(value)

    async def cmd_event_query(self, cmd):
        cmd.require_no_param()
        event = self.ctx.events.pop()
        return ok_line() if event is None else ok_line(event.text())

    async def cmd_event_wait(self, cmd):
        text = _text(cmd).strip()
        if not is_decimal(text):
            raise ModuleError(ERR_PARAMETER, "EVENT! {seconds}")
        ctx = self.ctx
        if not len(ctx.events):
            arrived = ctx.event_arrived
            arrived.clear()
            try:
                await asyncio.wait_for(arrived.wait(), int(text))
            except asyncio.TimeoutError:
                pass
        event = ctx.events.pop()
        if event is None:
            event = Event(EVENT_TIMEOUT)
        return ok_line(event.text())

    async def cmd_time(self, cmd):
        cmd.require_no_param()
        wall_clock = self.ctx.wall_clock
        if not wall_clock.synced:
            raise ModuleError(ERR_TIME_NOT_AVAILABLE)
        now = wall_clock.now_s()
        seconds = int(now)
        tm = time.gmtime(seconds)
        date = "%04d/%02d/%02d" % (tm.tm_year, tm.tm_mon, tm.tm_mday)
        clock = "%02d:%02d:%02d.%02d" % (tm.tm_hour, tm.tm_min, tm.tm_sec,
                                         int((now - seconds) * 100))
        if wall_clock.words:
            return ok_line("date %s time %s SNTP" % (date, clock))
        return ok_line("%s %s SNTP" % (date, clock))

    async def cmd_where(self, cmd):
        raise ModuleError(ERR_LOCATION_NOT_AVAILABLE)

    async def cmd_diag(self, cmd):
        ctx = self.ctx
        words = _text(cmd).split()
        if not words:
            raise ModuleError(ERR_PARAMETER)
        verb = words[0].upper()
        if verb == "PING" and len(words) == 2:
            host = words[1]
            if ctx.knobs.network_down:
                return ok_line("Not connected to AP")
            if ctx.knobs.unreachable:
                return ok_line("No reply from %s" % host)
            return ok_line("Received ping reply from %s time=12 ms" % host)
        if verb == "STATE" and len(words) == 1:
            return ok_line("%s %s messages=%d events=%d" % (
                ctx.power.phase, ctx.session.state, len(ctx.messages), len(ctx.events)))
        raise ModuleError(ERR_PARAMETER, "DIAG PING host | DIAG STATE")

    async def cmd_reset(self, cmd):
        cmd.require_no_param()
        self.ctx.power.request_reboot("reset")
        return ok_line()

    async def cmd_factory_reset(self, cmd):
        cmd.require_no_param()
        self.ctx.power.request_reboot("factory")
        return ok_line()

    async def cmd_sleep(self, cmd):
        power = self.ctx.power
        session = self.ctx.session
        duration_s = None
        text = cmd.text().strip()
        if text:
            if not is_decimal(text) or int(text) == 0:
                raise ModuleError(ERR_PARAMETER, "SLEEP[mode] [seconds]")
            duration_s = int(text)
        if session.connected:
            raise ModuleError(ERR_ACTIVE_CONNECTION)
        if session.async_connect or power.confmode:
            raise ModuleError(ERR_NOT_ALLOWED)
        mode = cmd.suffix or 0
        if mode not in SLEEP_MODES:
            mode = max(SLEEP_MODES)
        power.request_sleep(mode, duration_s)
        return ok_line(str(mode))

    async def cmd_confmode(self, cmd):
        ctx = self.ctx
        if not ctx.knobs.confmode_available:
            raise ModuleError(ERR_MODE_NOT_AVAILABLE)
        if ctx.session.connected:
            raise ModuleError(ERR_ACTIVE_CONNECTION)
        if ctx.session.async_connect:
            raise ModuleError(ERR_NOT_ALLOWED)
        ctx.power.confmode = True
        ctx.power.confmode_parameter = cmd.text()
        return ok_line("CONFMODE ENABLED")
