"""An app-side device shadow client over MQTT: one request, then its accepted/rejected answer.

Used by cloud tools (``python -m sim send name THING NAME``) and by tests as a client
independent of the badge. Replies are matched by ``clientToken``.
"""

import asyncio
import itertools
import json
import os

from sim.cloud.mqtt_link import MqttCloudLink
from sim.cloud.waiting import wait_for_answer
from sim.cloud.shadow_document import ShadowError
from sim.cloud.shadow_service import shadow_topic

_tokens = itertools.count(1)


class ShadowClient:
    """Shadow requests over a connected CloudLink (it takes over ``link.on_message``)."""

    def __init__(self, link, token_prefix="app"):
        self.link = link
        self.token_prefix = token_prefix
        self.received = []          # every (topic, document) that arrived, in order
        self._subscribed = set()
        self._waiting = {}          # clientToken -> Future of (accepted, document)
        link.on_message = self._on_message

    def _on_message(self, topic, payload):
        try:
            document = json.loads(payload)
        except ValueError:
            return
        self.received.append((topic, document))
        token = document.get("clientToken") if isinstance(document, dict) else None
        waiter = self._waiting.get(token)
        if waiter is not None and not waiter.done():
            if topic.endswith("/accepted") or topic.endswith("/rejected"):
                waiter.set_result((topic.endswith("/accepted"), document))

    async def subscribe(self, topic_filter):
        if topic_filter not in self._subscribed:
            if not await self.link.subscribe(topic_filter, 1):
                raise RuntimeError("the broker refused the subscription to " + topic_filter)
            self._subscribed.add(topic_filter)

    async def request(self, thing, operation, body=None, name=None, timeout_s=10.0):
        """Publish ``get``/``update``/``delete`` -> (accepted: bool, answer document)."""
        prefix = shadow_topic(thing, name) + "/" + operation
        await self.subscribe(prefix + "/accepted")
        await self.subscribe(prefix + "/rejected")
        body = dict(body or {})
        token = body.setdefault("clientToken", self.token_prefix + "-" + str(next(_tokens)))
        waiter = asyncio.get_running_loop().create_future()
        self._waiting[token] = waiter
        try:
            await self.link.publish(prefix, json.dumps(body, separators=(",", ":")).encode(), 1)
            return await wait_for_answer(waiter, timeout_s)
        finally:
            self._waiting.pop(token, None)


async def update_desired(broker_url, thing, desired, name=None, timeout_s=10.0, **tls):
    """Connect, write ``desired`` into the shadow, disconnect -> ``update/accepted``.

    Raises ShadowError when rejected, CloudError when the broker cannot be used, and
    asyncio.TimeoutError when no shadow service answers.
    """
    link = MqttCloudLink(broker_url, **tls)
    await link.connect("shadow-app-" + str(os.getpid()), keepalive_s=60)
    try:
        client = ShadowClient(link)
        accepted, document = await client.request(
            thing, "update", {"state": {"desired": desired}}, name=name, timeout_s=timeout_s)
    finally:
        await link.disconnect()
    if not accepted:
        raise ShadowError(document.get("code"), document.get("message"))
    return document
