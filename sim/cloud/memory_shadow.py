"""The Device Shadow service on an in-memory ``MemoryBroker``, for fast module tests.

The same shadow model and answers as the MQTT service (``shadow_requests`` over
``shadow_document``); only the transport differs: requests arrive as broker listener
calls (one loop step after their publish) and answers are published on the broker at
once, in the order delta, documents, accepted. No rate limit.
"""

from sim.cloud.shadow_requests import REQUEST_FILTERS, ShadowResponder, encode, parse_request_topic

DEFAULT_EPOCH_S = 1756684800  # 2025-09-01 00:00:00 UTC: the timestamp when no clock is given


class MemoryShadowService:
    """Answers shadow requests published on ``broker``.

    ``now_s()``: epoch seconds (int) for timestamps. ``silent = True`` swallows requests
    (a cloud that never answers); ``requests`` logs (thing, name or "", verb, payload).
    """

    def __init__(self, broker, now_s=lambda: DEFAULT_EPOCH_S):
        self.broker = broker
        self.responder = ShadowResponder(now_s)
        self.requests = []
        self.silent = False
        self._handles = [broker.listen(f, self._on_request) for f in REQUEST_FILTERS]

    def close(self):
        """Stop answering."""
        for handle in self._handles:
            self.broker.unlisten(handle)
        self._handles = []

    def shadow(self, thing, name=""):
        """The stored ``Shadow`` (``.version``, ``.state``, ``.metadata``), or None."""
        return self.responder.store.shadow(thing, name or None)

    def document(self, thing, name=""):
        """The shadow as ``get/accepted`` shows it, or None."""
        return self.responder.document(thing, name or None)

    def _on_request(self, topic, payload):
        thing, name, verb = parse_request_topic(topic)
        self.requests.append((thing, name or "", verb, payload))
        if self.silent:
            return
        for reply_topic, document in self.responder.answer(topic, payload):
            self.broker.publish(reply_topic, encode(document), 1)
