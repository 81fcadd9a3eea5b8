"""Shadow requests to answers without I/O: a request topic and payload in, messages out.

Both clouds answer through :class:`ShadowResponder`: the MQTT service
(``shadow_service.ShadowService``) and the in-memory one
(``memory_shadow.MemoryShadowService``), so they share one shadow model
(``shadow_document.ShadowStore``) and one set of answers.

Choices where AWS's Device Shadow documentation leaves things open:
- a get/delete body that is not a JSON object is ignored (answered without token);
- bad thing or shadow names get 400 with a "must match pattern" message;
- ``.../rejected`` documents carry a timestamp except for 404 and 409, as AWS's do.
"""

import json

from sim.cloud.shadow_document import (TOO_MANY_REQUESTS, ShadowError, ShadowStore, check_names,
                                       client_token, parse_request)

OPERATIONS = ("get", "update", "delete")
REQUEST_FILTERS = tuple("$aws/things/+/shadow/" + middle + operation
                        for middle in ("", "name/+/") for operation in OPERATIONS)


def shadow_topic(thing, name=None):
    """The topic prefix of the classic or a named shadow of ``thing``."""
    prefix = "$aws/things/" + thing + "/shadow"
    return prefix if name is None else prefix + "/name/" + name


def parse_request_topic(topic):
    """``$aws/things/T/shadow[/name/N]/OP`` -> (thing, name or None, op), else None."""
    parts = topic.split("/")
    if len(parts) == 5 and parts[:2] == ["$aws", "things"] and parts[3] == "shadow":
        thing, name, operation = parts[2], None, parts[4]
    elif (len(parts) == 7 and parts[:2] == ["$aws", "things"] and parts[3] == "shadow"
          and parts[4] == "name"):
        thing, name, operation = parts[2], parts[5], parts[6]
    else:
        return None
    return (thing, name, operation) if operation in OPERATIONS else None


def encode(document):
    """A response document as compact one-line JSON bytes."""
    return json.dumps(document, separators=(",", ":")).encode("ascii")


class ShadowResponder:
    """Answers requests against one ``ShadowStore``.

    ``now_s()``: epoch seconds (int) for timestamps. ``admit(thing)``: False turns the
    request away with 429 (a rate limit); None admits everything.
    """

    def __init__(self, now_s, store=None, admit=None):
        self.now_s = now_s
        self.store = store if store is not None else ShadowStore()
        self.admit = admit

    def answer(self, topic, payload):
        """Answer one request -> [(topic, document), ...] in publication order; [] when
        ``topic`` is no request topic."""
        parsed = parse_request_topic(topic)
        if parsed is None:
            return []
        thing, name, operation = parsed
        prefix = shadow_topic(thing, name) + "/" + operation
        now = self.now_s()
        token = None
        try:
            if operation == "update":
                request = parse_request(payload)
            else:
                # get/delete: the body is optional and only its clientToken matters;
                # an unreadable body counts as none.
                try:
                    request = parse_request(payload) if payload else {}
                except ShadowError:
                    request = {}
            token = client_token(request)
            check_names(thing, name)
            if self.admit is not None and not self.admit(thing):
                raise ShadowError(429, TOO_MANY_REQUESTS)
            if operation == "get":
                return [(prefix + "/accepted", _with_token(self.store.get(thing, name, now), token))]
            if operation == "delete":
                return [(prefix + "/accepted", _with_token(self.store.delete(thing, name, now), token))]
            result = self.store.update(thing, name, request, now)
        except ShadowError as error:
            return [(prefix + "/rejected", error.document(now, token))]
        # AWS's local shadow manager publishes delta, documents, then accepted.
        responses = []
        if result.delta is not None:
            responses.append((prefix + "/delta", _with_token(result.delta, token)))
        responses.append((prefix + "/documents", _with_token(result.documents, token)))
        responses.append((prefix + "/accepted", _with_token(result.accepted, token)))
        return responses

    def document(self, thing, name=None):
        """The shadow as ``get/accepted`` would show it, or None when it does not exist."""
        try:
            return self.store.get(thing, name, self.now_s())
        except ShadowError:
            return None


def _with_token(document, token):
    if token is not None:
        document["clientToken"] = token
    return document
