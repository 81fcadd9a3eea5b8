"""The cloud side as the page sees it: readings as the broker received them, and the
thing's device shadow, through an MQTT client of the badge's broker.

Runs on the simulation's loop (virtual or emulated time). Subscribes to
``badge/<thing>/telemetry`` and ``$aws/things/<thing>/shadow/update/documents`` (what
every shadow update publishes, AWS's and the embedded service's alike); with the
embedded cloud the shadow as it stands at start-up is read from its service once.
"""

import asyncio
import json
import os

from sim.cloud.mqtt_link import MqttCloudLink

_CLIENT_ID = "badge-page-%s-%d"  # thing, process id: two simulators on one broker


def reading_message(t, payload):
    """A ``reading`` message from a telemetry payload, or None when it is not one."""
    try:
        fields = json.loads(bytes(payload).decode("utf-8"))
        message = {"type": "reading", "t": t, "temperature_c": float(fields["t"]),
                   "humidity_rh": float(fields["rh"])}
    except (UnicodeDecodeError, ValueError, KeyError, TypeError):
        return None
    for key in ("seq", "up", "mem"):
        if isinstance(fields.get(key), int):
            message[key] = fields[key]
    return message


def shadow_message(t, document):
    """A ``shadow`` message from a shadow document ({"state": {...}, "version": n})."""
    state = document.get("state") or {}
    return {"type": "shadow", "t": t, "desired": state.get("desired"),
            "reported": state.get("reported"), "version": document.get("version")}


class CloudWatch:
    """``emit(message)`` gets ``reading`` and ``shadow`` messages; ``start(url)`` on the
    simulation's loop, ``stop()`` at the end. ``error``: why it could not watch."""

    def __init__(self, badge, emit):
        self.badge = badge
        self.emit = emit
        self.error = None
        self.mem_free = None  # bytes, from the telemetry's "mem" (CircuitPython engine)
        self._task = None

    def start(self, url):
        self._task = asyncio.get_running_loop().create_task(self._watch(url), name="page_cloud")

    async def stop(self):
        if self._task is not None:
            self._task.cancel()

    async def _watch(self, url):
        thing = self.badge.thing
        link = MqttCloudLink(url)
        link.on_message = self._message
        try:
            await link.connect(_CLIENT_ID % (thing, os.getpid()), keepalive_s=600)
            await link.subscribe("badge/%s/telemetry" % thing, 1)
            await link.subscribe("$aws/things/%s/shadow/update/documents" % thing, 1)
            cloud = self.badge.cloud
            if cloud is not None and cloud.shadows is not None:
                document = cloud.shadows.document(thing)
                if document is not None:
                    self.emit(shadow_message(self._now(), document))
            await asyncio.get_running_loop().create_future()  # until the run ends
        except asyncio.CancelledError:
            await link.disconnect()
            raise
        except Exception as error:  # the page says so; the badge runs on
            self.error = "%s: %s" % (type(error).__name__, error)
            self.emit({"type": "notice", "level": "error", "about": "cloud",
                       "text": "cannot watch the broker at %s: %s" % (url, self.error)})

    def _now(self):
        return self.badge.clock.now()

    def _message(self, topic, payload):
        if topic.endswith("/telemetry"):
            message = reading_message(self._now(), payload)
            if message is not None:
                if "mem" in message:
                    self.mem_free = message["mem"]
                self.emit(message)
            return
        try:
            documents = json.loads(bytes(payload).decode("utf-8"))
            current = documents["current"]
        except (UnicodeDecodeError, ValueError, KeyError, TypeError):
            return
        if isinstance(current, dict):
            self.emit(shadow_message(self._now(), current))
