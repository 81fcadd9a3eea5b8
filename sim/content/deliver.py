"""Deliver content to a running badge through the cloud, as the cloud tools do.

Both helpers run inside the simulator's event loop (or any asyncio loop) once the
broker is up (``VirtualBadge.cloud_ready`` gives its URL):

- ``deliver(broker_url, thing, kind, payload)`` publishes one message on
  ``badge/<thing>/<kind>`` (QoS 1), the path ``python -m sim send`` takes;
- ``set_desired(shadows_or_url, thing, desired)`` writes the device shadow's desired
  state, through the in-process shadow service or over MQTT like an app.
"""

import itertools
import os

from sim.cloud.mqtt_link import MqttCloudLink

KINDS = ("qr", "photo", "name")
_clients = itertools.count(1)


def content_topic(thing, kind):
    """``badge/<thing>/<kind>`` for kind "qr", "photo" or "name"."""
    if kind not in KINDS:
        raise ValueError("content kind is one of %s, not %r" % (", ".join(KINDS), kind))
    return "badge/%s/%s" % (thing, kind)


async def deliver(broker_url, thing, kind, payload, retain=True):
    """Publish ``payload`` (str: sent as UTF-8; bytes: as they are) for ``thing``.

    Retained by default: the broker keeps the latest content of each kind for each
    badge, so a badge that is offline now gets it when it next subscribes.

    Returns the number of payload bytes sent. Raises CloudError when the broker cannot
    be reached, ValueError for an unknown kind.
    """
    topic = content_topic(thing, kind)
    data = payload.encode("utf-8") if isinstance(payload, str) else bytes(payload)
    link = MqttCloudLink(broker_url)
    await link.connect("sim-deliver-%d-%d" % (os.getpid(), next(_clients)))
    try:
        await link.publish(topic, data, qos=1, retain=retain)
    finally:
        await link.disconnect()
    return len(data)


async def set_desired(shadows_or_url, thing, desired):
    """Write ``desired`` (a dict) into ``thing``'s classic shadow -> ``update/accepted``.

    ``shadows_or_url``: a running ShadowService (``badge.cloud.shadows``) or a broker
    URL with a shadow service behind it. Raises ShadowError when rejected.
    """
    if hasattr(shadows_or_url, "update_desired"):
        return await shadows_or_url.update_desired(thing, desired)
    from sim.cloud.shadow_client import update_desired

    return await update_desired(shadows_or_url, thing, desired)


async def sleep_until(clock, t_s):
    """Sleep until the simulator's ``clock`` reads ``t_s`` seconds (at once if past)."""
    import asyncio

    await asyncio.sleep(max(0.0, t_s - clock.now()))


class BadgeScript:
    """Runs ``body(broker_url)`` (a coroutine function) inside a VirtualBadge's loop once
    its cloud is ready. Build it before ``badge.run()``; afterwards ``result()`` returns
    what the body returned, or raises what it raised, or fails if it never finished."""

    def __init__(self, badge, body):
        self._badge = badge
        self._body = body
        self._outcome = None
        badge.on_loop(self._started)

    def _started(self, loop):
        loop.create_task(self._main(), name="badge_script")

    async def _main(self):
        try:
            url = await self._badge.cloud_ready
            self._outcome = (True, await self._body(url))
        except Exception as error:  # handed to the test by result()
            self._outcome = (False, error)

    def result(self):
        if self._outcome is None:
            raise AssertionError("the script did not finish before the run ended")
        ok, value = self._outcome
        if not ok:
            raise value
        return value
