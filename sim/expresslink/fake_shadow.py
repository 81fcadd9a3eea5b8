"""A minimal cloud side of the Device Shadow protocol on a FakeBroker, for module tests.

Answers get/update/delete for classic and named shadows with accepted/rejected replies,
publishes delta (the complete delta, after any accepted update while one exists) and
documents; keeps versions across delete (tombstones); echoes clientToken. Merge rules:
objects merge per key, ``null`` deletes, scalars and arrays replace. It is a test
double; the project's shadow service is the full implementation.
"""

import copy
import json

_FILTERS = ("$aws/things/+/shadow/+", "$aws/things/+/shadow/name/+/+")


def merge(target, patch):
    """Apply ``patch`` to ``target`` in place (``None`` deletes a key)."""
    for key, value in patch.items():
        if value is None:
            target.pop(key, None)
        elif isinstance(value, dict):
            current = target.get(key)
            if not isinstance(current, dict):
                current = target[key] = {}
            merge(current, value)
        else:
            target[key] = copy.deepcopy(value)


def same_value(a, b):
    """JSON equality with types respected (True != 1) but 1 == 1.0."""
    if isinstance(a, bool) or isinstance(b, bool):
        return type(a) is type(b) and a == b
    if isinstance(a, (int, float)) and isinstance(b, (int, float)):
        return a == b
    if isinstance(a, dict) and isinstance(b, dict):
        return a.keys() == b.keys() and all(same_value(a[k], b[k]) for k in a)
    if isinstance(a, list) and isinstance(b, list):
        return len(a) == len(b) and all(same_value(x, y) for x, y in zip(a, b))
    return type(a) is type(b) and a == b


def delta(desired, reported):
    """Keys of ``desired`` that differ from ``reported`` (minimal, path to root kept)."""
    out = {}
    for key, want in desired.items():
        have = reported.get(key) if isinstance(reported, dict) else None
        if isinstance(want, dict) and isinstance(have, dict):
            sub = delta(want, have)
            if sub:
                out[key] = sub
        elif key not in reported or not same_value(want, have):
            out[key] = copy.deepcopy(want)
    return out


def _metadata(node, stamp):
    if isinstance(node, dict):
        return {k: _metadata(v, stamp) for k, v in node.items()}
    if isinstance(node, list):
        return [{"timestamp": stamp} for _ in node]
    return {"timestamp": stamp}


class _Shadow:
    def __init__(self, version):
        self.desired = {}
        self.reported = {}
        self.version = version
        self.exists = False

    def state(self):
        state = {}
        if self.desired:
            state["desired"] = copy.deepcopy(self.desired)
        if self.reported:
            state["reported"] = copy.deepcopy(self.reported)
        return state


class FakeShadowService:
    """Subscribes on ``broker`` and answers shadow requests; ``now_s()`` gives epoch seconds."""

    def __init__(self, broker, now_s=lambda: 1756684800):
        self.broker = broker
        self.now_s = now_s
        self.shadows = {}  # (thing, name) -> _Shadow
        self.requests = []  # (thing, name, verb, payload)
        self.silent = False  # True: swallow requests (a cloud that never answers)
        self._handles = [broker.listen(f, self._on_request) for f in _FILTERS]

    def close(self):
        for handle in self._handles:
            self.broker.unlisten(handle)

    def shadow(self, thing, name=""):
        return self.shadows.get((thing, name))

    def _on_request(self, topic, payload):
        parts = topic.split("/")
        if len(parts) == 5:
            thing, name, verb = parts[2], "", parts[4]
        elif len(parts) == 7 and parts[4] == "name":
            thing, name, verb = parts[2], parts[5], parts[6]
        else:
            return
        if verb not in ("get", "update", "delete"):
            return
        self.requests.append((thing, name, verb, payload))
        if self.silent:
            return
        prefix = "/".join(parts[:-1])
        token = None
        doc = None
        if payload:
            try:
                doc = json.loads(payload)
            except ValueError:
                return self._reject(prefix, verb, 400, "Invalid JSON", None)
            if isinstance(doc, dict):
                token = doc.get("clientToken")
        getattr(self, "_" + verb)(prefix, thing, name, doc, token)

    def _publish(self, topic, doc):
        self.broker.publish(topic, json.dumps(doc, separators=(",", ":")), 1)

    def _reject(self, prefix, verb, code, message, token):
        doc = {"code": code, "message": message, "timestamp": self.now_s()}
        if token is not None:
            doc["clientToken"] = token
        self._publish(prefix + "/" + verb + "/rejected", doc)

    def _missing(self, prefix, verb, thing, name, token):
        self._reject(prefix, verb, 404, "No shadow exists with name: '%s'" % (name or thing), token)

    def _get(self, prefix, thing, name, doc, token):
        shadow = self.shadows.get((thing, name))
        if shadow is None or not shadow.exists:
            return self._missing(prefix, "get", thing, name, token)
        state = shadow.state()
        diff = delta(shadow.desired, shadow.reported)
        if diff:
            state["delta"] = diff
        reply = {"state": state, "version": shadow.version, "timestamp": self.now_s()}
        if token is not None:
            reply["clientToken"] = token
        self._publish(prefix + "/get/accepted", reply)

    def _update(self, prefix, thing, name, doc, token):
        if not isinstance(doc, dict) or "state" not in doc:
            return self._reject(prefix, "update", 400, "Missing required node: state", token)
        state = doc["state"]
        if state is not None and not isinstance(state, dict):
            return self._reject(prefix, "update", 400, "State node must be an object", token)
        for section in (state or {}):
            if section not in ("desired", "reported", "delta"):
                return self._reject(prefix, "update", 400, "State contains an invalid node", token)
            value = state[section]
            if section != "delta" and value is not None and not isinstance(value, dict):
                return self._reject(prefix, "update", 400,
                                    "%s node must be an object" % section.capitalize(), token)
        shadow = self.shadows.get((thing, name))
        if shadow is None:
            shadow = self.shadows[(thing, name)] = _Shadow(0)
        if "version" in doc and doc["version"] != shadow.version:
            return self._reject(prefix, "update", 409, "Version conflict", token)
        previous = {"state": shadow.state(), "version": shadow.version} if shadow.exists else None
        if state is None:
            shadow.desired, shadow.reported = {}, {}
        else:
            for section in ("desired", "reported"):
                if section in state:
                    if state[section] is None:
                        setattr(shadow, section, {})
                    else:
                        merge(getattr(shadow, section), state[section])
        shadow.exists = True
        shadow.version += 1
        now = self.now_s()
        accepted = {"state": {k: v for k, v in (state or {}).items() if k != "delta"},
                    "metadata": _metadata({k: v for k, v in (state or {}).items()
                                           if k != "delta" and isinstance(v, dict)}, now),
                    "version": shadow.version, "timestamp": now}
        diff = delta(shadow.desired, shadow.reported)
        extra = {} if token is None else {"clientToken": token}
        if diff:
            self._publish(prefix + "/update/delta", dict(
                {"version": shadow.version, "timestamp": now, "state": diff,
                 "metadata": _metadata(diff, now)}, **extra))
        self._publish(prefix + "/update/documents", dict(
            {"previous": previous,
             "current": {"state": shadow.state(), "version": shadow.version},
             "timestamp": now}, **extra))
        self._publish(prefix + "/update/accepted", dict(accepted, **extra))

    def _delete(self, prefix, thing, name, doc, token):
        shadow = self.shadows.get((thing, name))
        if shadow is None or not shadow.exists:
            return self._missing(prefix, "delete", thing, name, token)
        shadow.exists = False
        shadow.desired, shadow.reported = {}, {}
        reply = {"version": shadow.version, "timestamp": self.now_s()}
        if token is not None:
            reply["clientToken"] = token
        self._publish(prefix + "/delete/accepted", reply)
