"""``python -m sim watch``: print the badges' telemetry as JSON lines.

Each line is one received message: ``{"thing": ..., "rx": receipt time (epoch s), ...}``
followed by the badge's own fields unchanged (``seq``, ``t``, ``rh``, ``up``). A payload
that is not a JSON object is printed as ``{"thing", "rx", "raw": text}``.
"""

import asyncio
import json
import os
import sys
import time

from sim.cloud.mqtt_link import MqttCloudLink
from sim.expresslink.cloud import CloudError


def telemetry_filter(thing=None):
    return "badge/" + (thing or "+") + "/telemetry"


def telemetry_line(topic, payload, received_s):
    """One output line (no newline) for a message on ``badge/<thing>/telemetry``."""
    parts = topic.split("/")
    line = {"thing": parts[1] if len(parts) == 3 else topic, "rx": round(received_s, 3)}
    try:
        fields = json.loads(bytes(payload).decode("utf-8"))
    except (UnicodeDecodeError, ValueError):
        fields = None
    if isinstance(fields, dict):
        line.update(fields)
    else:
        line["raw"] = bytes(payload).decode("utf-8", "replace")
    return json.dumps(line, separators=(", ", ": "))


async def watch(thing, broker_url, out=sys.stdout, *, count=None, ready=None, clock=None, **tls):
    """Print telemetry of ``thing`` (None: every badge) until cancelled or ``count`` lines.

    ``ready``: an asyncio.Event set once subscribed. ``clock``: receipt times from the
    simulator's clock instead of the wall clock. Raises CloudError when the broker
    cannot be reached or the connection is lost. Returns the number of lines printed.
    """
    link = MqttCloudLink(broker_url, **tls)
    arrived = asyncio.Queue()
    link.on_message = lambda topic, payload: arrived.put_nowait((topic, payload))
    link.on_connection_lost = lambda reason: arrived.put_nowait((None, reason))
    await link.connect("watch-" + str(os.getpid()) + "-" + str(id(link) % 10000), keepalive_s=60)
    printed = 0
    try:
        topic_filter = telemetry_filter(thing)
        if not await link.subscribe(topic_filter, 1):
            raise CloudError(5, "the broker refused the subscription to " + topic_filter)
        if ready is not None:
            ready.set()
        while count is None or printed < count:
            topic, payload = await arrived.get()
            if topic is None:
                raise CloudError(3, "connection to " + broker_url + " lost: " + payload)
            received_s = clock.now() if clock is not None else time.time()
            out.write(telemetry_line(topic, payload, received_s) + "\n")
            out.flush()
            printed += 1
    finally:
        await link.disconnect()
    return printed
