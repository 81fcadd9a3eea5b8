"""The page's commands carried out on the simulation's loop, after ``commands.check``.

:meth:`Control.run` is what the server hands to ``hub.call``: it does the command and
reports problems as ``notice`` messages through the hub (to every page: the badge is
shared). Content goes through the cloud path of ``python -m sim send``: published on
``badge/<thing>/<kind>`` (QoS 1, retained) or, for the screen, written into the device
shadow's desired state.
"""

import asyncio

from sim.content.deliver import deliver, set_desired
from sim.web.faults import FaultError


class Control:
    def __init__(self, hub):
        self.hub = hub
        self.badge = hub.badge

    def run(self, op, args):
        try:
            getattr(self, "_" + op)(**args)
        except (FaultError, ValueError) as error:
            self._notice("error", str(error), op)
        self.hub.sweep()

    def _notice(self, level, text, about):
        self.hub.emit({"type": "notice", "level": level, "text": text, "about": about})

    def _press(self, button, hold_s):
        self.badge.press(button, hold_s)

    def _climate(self, temperature_c=None, humidity_rh=None):
        sensor = self.badge.sensor
        room = getattr(self.badge, "room", None)
        if temperature_c is not None:
            sensor.temperature_c = temperature_c
        if humidity_rh is not None:
            sensor.humidity_rh = humidity_rh
        if room is not None and room._base is not None:  # wander around the new values
            room._base = (sensor.temperature_c, sensor.humidity_rh)

    def _fault(self, name, on):
        self.hub.faults.switch(name, on)

    def _time(self, rate):
        self.hub.pace.set_rate(rate)
        self.hub.tick_now()

    def _step(self):
        pace = self.hub.pace
        if pace.rate != "paused":
            raise ValueError("step: pause first (the clock runs at %s)" % pace.rate)
        pace.step()

    def _console(self, text):
        send_keys = getattr(self.badge, "send_keys", None)
        if send_keys is None:
            raise ValueError("console: the CPython engine has no REPL to type into; "
                             "use the CircuitPython engine (--engine circuitpython)")
        send_keys(text.encode("utf-8"))

    def _reload(self):
        self.badge.soft_reload()

    def _send(self, kind, payload):
        if self.badge.cloud_ready is None:
            raise ValueError("send: this badge has no ExpressLink module: nothing to send to")
        asyncio.get_running_loop().create_task(self._deliver(kind, payload),
                                               name="page_send")

    def send_photo(self, payload):
        """Deliver a photo payload (from ``POST /api/photo/send``)."""
        self._send("photo", payload)

    async def _deliver(self, kind, payload):
        badge = self.badge
        try:
            url = await badge.cloud_ready
            if kind == "screen":
                target = badge.cloud.shadows if badge.cloud is not None else url
                await set_desired(target, badge.thing, {"screen": payload})
                size = len(payload)
            else:
                size = await deliver(url, badge.thing, kind, payload)
        except Exception as error:  # the page says so; the badge runs on
            self._notice("error", "send %s: %s: %s" % (kind, type(error).__name__, error),
                         "send")
            return
        self.hub.emit({"type": "sent", "kind": kind, "bytes": size})
