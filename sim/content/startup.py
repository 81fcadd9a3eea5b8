"""``run --qr/--photo/--name/--screen``: content delivered at start-up, the cloud way.

The content goes through the same path as ``python -m sim send``: published on
``badge/<thing>/<kind>`` once the badge has subscribed, fetched by the badge through the
emulated module, validated, stored and shown. The screen choice goes through the
device shadow's desired state, as an app would set it. So a headless screenshot shows
exactly what a real badge would.
"""

import asyncio

from sim.content.deliver import deliver, set_desired

# How often (simulated s) to look whether the badge has subscribed yet.
_LOOK_S = 0.05
_GIVE_UP_S = 120.0


def _subscribed(module, index):
    wanted = b"+SUBSCRIBE%d" % index
    return any(body.upper().startswith(wanted) and reply.startswith(b"OK")
               for _t, body, reply in module.history)


class StartupContent:
    """Deliver ``items`` [(kind, payload)] and then choose ``screen`` on ``badge``."""

    def __init__(self, badge, items, screen=None, settle_s=0.5):
        self.badge = badge
        self.items = items
        self.screen = screen
        self.settle_s = settle_s
        self.delivered = []
        self.error = None
        badge.on_loop(lambda loop: loop.create_task(self._run(), name="startup_content"))

    async def _run(self):
        badge = self.badge
        try:
            url = await badge.cloud_ready
            waited = 0.0
            while badge.module is None or not _subscribed(badge.module, 4):
                await asyncio.sleep(_LOOK_S)
                waited += _LOOK_S
                if waited > _GIVE_UP_S:
                    raise RuntimeError("the badge did not subscribe to its topics "
                                       "within %d s" % _GIVE_UP_S)
            await asyncio.sleep(self.settle_s)  # SUBACKs
            for kind, payload in self.items:
                size = await deliver(url, badge.thing, kind, payload)
                self.delivered.append((kind, size))
                await asyncio.sleep(self.settle_s)
            if self.screen is not None:
                target = badge.cloud.shadows if badge.cloud is not None else url
                await set_desired(target, badge.thing, {"screen": self.screen})
        except Exception as error:  # reported by the command line after the run
            self.error = error
