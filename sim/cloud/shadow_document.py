"""AWS IoT Device Shadow documents without I/O: validation, merge, metadata, delta, versions.

Follows the AWS IoT Device Shadow documentation. ``ShadowStore`` holds every shadow of
every thing; its ``get``/``update``/``delete`` return the bodies of the ``.../accepted``,
``/delta`` and ``/documents`` messages (without ``clientToken``, which the service adds)
or raise ``ShadowError(code, message)``. Time is passed in as whole epoch seconds.

Choices where AWS's Device Shadow documentation is silent:
- a versioned update to a missing shadow must carry the tombstone's version, or 0;
- an object that an update creates and that ends up empty (all nulls, or ``{}``) is not
  created; one that existed and lost its last child stays as ``{}``;
- ``null`` inside an array is rejected with 400 "State contains an invalid node";
- empty desired objects never appear in a delta;
- ``update/accepted`` for ``"state": null`` echoes ``"state": null`` with empty metadata;
- the size limit counts the compact UTF-8 JSON of ``desired`` plus that of ``reported``.
"""

import copy
import json
import re

MAX_STATE_BYTES = 8192
MAX_DEPTH = 6
MAX_CLIENT_TOKEN_BYTES = 64
TOMBSTONE_S = 48 * 3600

THING_NAME = re.compile(r"[a-zA-Z0-9:_-]{1,128}\Z")
SHADOW_NAME = re.compile(r"[a-zA-Z0-9:_-]{1,64}\Z")

# Error texts (the Device Shadow documentation's error messages).
INVALID_JSON = "Invalid JSON"
MISSING_STATE = "Missing required node: state"
STATE_NOT_OBJECT = "State node must be an object"
SECTION_NOT_OBJECT = {"desired": "Desired node must be an object",
                      "reported": "Reported node must be an object"}
INVALID_VERSION = "Invalid version"
INVALID_CLIENT_TOKEN = "Invalid clientToken"
INVALID_NODE = "State contains an invalid node"
TOO_DEEP = "JSON contains too many levels of nesting; maximum is "
VERSION_CONFLICT = "Version conflict"
TOO_LARGE = "The payload exceeds the maximum size allowed"
NOT_UTF8 = "Unsupported documented encoding; supported encoding is UTF-8"
TOO_MANY_REQUESTS = "Too Many Requests"
SECTIONS = ("desired", "reported")


class ShadowError(Exception):
    """A rejected request: ``code`` (400, 404, 409, 413, 415, 429) and ``message``."""

    def __init__(self, code, message):
        super().__init__(code, message)
        self.code = code
        self.message = message

    def document(self, timestamp, client_token=None):
        """The ``.../rejected`` body. Like AWS, 404 and 409 answers carry no timestamp."""
        doc = {"code": self.code, "message": self.message}
        if self.code not in (404, 409):
            doc["timestamp"] = timestamp
        if client_token is not None:
            doc["clientToken"] = client_token
        return doc


def _reject_constant(name):
    raise ValueError("not JSON: " + name)


def parse_request(payload):
    """Request bytes -> dict. Non-UTF-8 -> 415; not a JSON object -> 400."""
    try:
        text = bytes(payload).decode("utf-8")
    except UnicodeDecodeError:
        raise ShadowError(415, NOT_UTF8) from None
    try:
        request = json.loads(text, parse_constant=_reject_constant)
    except ValueError:
        raise ShadowError(400, INVALID_JSON) from None
    if not isinstance(request, dict):
        raise ShadowError(400, INVALID_JSON)
    return request


def client_token(request):
    """The request's clientToken, or None; a non-string or one over 64 bytes -> 400."""
    if "clientToken" not in request:
        return None
    token = request["clientToken"]
    if not isinstance(token, str) or len(token.encode("utf-8")) > MAX_CLIENT_TOKEN_BYTES:
        raise ShadowError(400, INVALID_CLIENT_TOKEN)
    return token


def check_names(thing, shadow_name=None):
    if not THING_NAME.match(thing):
        raise ShadowError(400, "ThingName must match pattern [a-zA-Z0-9:_-]+ (1-128 bytes)")
    if shadow_name is not None and not SHADOW_NAME.match(shadow_name):
        raise ShadowError(400, "ShadowName must match pattern [a-zA-Z0-9:_-]+ (1-64 bytes)")


def _depth(value):
    """Nesting of objects and arrays; a scalar is 0, ``{}`` is 1."""
    if isinstance(value, dict):
        return 1 + max((_depth(child) for child in value.values()), default=0)
    if isinstance(value, list):
        return 1 + max((_depth(child) for child in value), default=0)
    return 0


def _has_null_in_array(value, in_array=False):
    if value is None:
        return in_array
    if isinstance(value, dict):
        return any(_has_null_in_array(child) for child in value.values())
    if isinstance(value, list):
        return any(_has_null_in_array(child, True) for child in value)
    return False


def validate_update(request, max_depth=MAX_DEPTH):
    """(state patch, version or None) of an update request; the patch is None for
    ``"state": null`` and otherwise holds the ``desired``/``reported`` keys sent."""
    if "state" not in request:
        raise ShadowError(400, MISSING_STATE)
    state = request["state"]
    patch = None
    if state is not None:
        if not isinstance(state, dict):
            raise ShadowError(400, STATE_NOT_OBJECT)
        for key in state:
            if key not in ("desired", "reported", "delta"):
                raise ShadowError(400, INVALID_NODE)
        patch = {key: state[key] for key in SECTIONS if key in state}
        for key, value in patch.items():
            if value is not None and not isinstance(value, dict):
                raise ShadowError(400, SECTION_NOT_OBJECT[key])
        # The state node is level 1 (objects and arrays count), as in AWS's local shadow
        # manager: so desired/reported hold at most 5 levels of keys.
        if _depth(patch) > max_depth:
            raise ShadowError(400, TOO_DEEP + str(max_depth))
        if _has_null_in_array(patch):
            raise ShadowError(400, INVALID_NODE)
    version = request.get("version")
    if version is not None and (isinstance(version, bool) or not isinstance(version, int)
                                or version < 0):
        raise ShadowError(400, INVALID_VERSION)
    return patch, version


def same_value(a, b):
    """JSON equality: numbers compare numerically (1 == 1.0), but true != 1 and "1" != 1."""
    if isinstance(a, bool) or isinstance(b, bool):
        return isinstance(a, bool) and isinstance(b, bool) and a == b
    if isinstance(a, (int, float)) and isinstance(b, (int, float)):
        return a == b
    if isinstance(a, list) and isinstance(b, list):
        return len(a) == len(b) and all(same_value(x, y) for x, y in zip(a, b))
    if isinstance(a, dict) and isinstance(b, dict):
        return a.keys() == b.keys() and all(same_value(a[k], b[k]) for k in a)
    return type(a) is type(b) and a == b


def compute_delta(desired, reported):
    """Desired keys whose value differs from (or is missing in) reported, minimal paths."""
    delta = {}
    for key, want in desired.items():
        if isinstance(want, dict) and not want:
            continue
        if key not in reported:
            delta[key] = copy.deepcopy(want)
            continue
        have = reported[key]
        if isinstance(want, dict) and isinstance(have, dict):
            inner = compute_delta(want, have)
            if inner:
                delta[key] = inner
        elif not same_value(want, have):
            delta[key] = copy.deepcopy(want)
    return delta


def stamp(value, timestamp):
    """Metadata mirroring ``value``: one {"timestamp"} per leaf, one entry per array element.

    An array element that is an object or an array is mirrored in turn, as AWS's local
    shadow manager does (aws-greengrass-shadow-manager, ShadowStateMetadata); arrays of
    scalars give ``[{"timestamp": T}, ...]`` as in AWS's developer guide.
    """
    if isinstance(value, dict):
        return {key: stamp(child, timestamp) for key, child in value.items()}
    if isinstance(value, list):
        return [stamp(child, timestamp) for child in value]
    return {"timestamp": timestamp}


def _delta_metadata(delta, metadata):
    """The desired-side metadata of exactly the delta's leaves."""
    out = {}
    for key, value in delta.items():
        meta = metadata.get(key)
        if isinstance(value, dict) and isinstance(meta, dict):
            out[key] = _delta_metadata(value, meta)
        else:
            out[key] = copy.deepcopy(meta)
    return out


def _merge(target, metadata, patch, timestamp):
    """Apply one object of an update to ``target`` and its metadata mirror, in place."""
    for key, value in patch.items():
        if value is None:
            target.pop(key, None)
            metadata.pop(key, None)
        elif isinstance(value, dict):
            existed = isinstance(target.get(key), dict)
            if not existed:
                target[key] = {}
                metadata[key] = {}
            elif not isinstance(metadata.get(key), dict):
                metadata[key] = {}
            _merge(target[key], metadata[key], value, timestamp)
            if not existed and not target[key]:
                del target[key]
                del metadata[key]
        else:
            target[key] = copy.deepcopy(value)
            metadata[key] = stamp(value, timestamp)


def _state_bytes(state):
    return sum(len(json.dumps(state[key], separators=(",", ":"), ensure_ascii=False).encode("utf-8"))
               for key in state)


class Shadow:
    """One stored shadow: ``state`` and ``metadata`` keyed by section, and its version."""

    def __init__(self, version=0):
        self.state = {}
        self.metadata = {}
        self.version = version

    def copy(self):
        twin = Shadow(self.version)
        twin.state = copy.deepcopy(self.state)
        twin.metadata = copy.deepcopy(self.metadata)
        return twin

    def snapshot(self):
        """{"state", "metadata", "version"} as in ``update/documents`` (no delta)."""
        return {"state": copy.deepcopy(self.state), "metadata": copy.deepcopy(self.metadata),
                "version": self.version}

    def delta(self):
        return compute_delta(self.state.get("desired", {}), self.state.get("reported", {}))

    def apply(self, patch, timestamp):
        if patch is None:
            self.state, self.metadata = {}, {}
            return
        for section, value in patch.items():
            if value is None:
                self.state.pop(section, None)
                self.metadata.pop(section, None)
                continue
            target = self.state.setdefault(section, {})
            _merge(target, self.metadata.setdefault(section, {}), value, timestamp)
            if not target:
                del self.state[section]
                del self.metadata[section]


class UpdateResult:
    """Bodies published after an accepted update; ``delta`` is None when there is none."""

    def __init__(self, accepted, delta, documents):
        self.accepted = accepted
        self.delta = delta
        self.documents = documents


class ShadowStore:
    """Every shadow, keyed by (thing, shadow name or None), plus deletion tombstones."""

    def __init__(self, max_state_bytes=MAX_STATE_BYTES, max_depth=MAX_DEPTH, tombstone_s=TOMBSTONE_S):
        self.max_state_bytes = max_state_bytes
        self.max_depth = max_depth
        self.tombstone_s = tombstone_s
        self._shadows = {}
        self._tombstones = {}  # key -> (last version, deleted at)

    def _missing(self, thing, name):
        return ShadowError(404, "No shadow exists with name: '" + (name or thing) + "'")

    def exists(self, thing, name=None):
        return (thing, name) in self._shadows

    def shadow(self, thing, name=None):
        """The stored ``Shadow`` of (thing, name), or None (never made, or deleted)."""
        return self._shadows.get((thing, name))

    def get(self, thing, name, now):
        """The ``get/accepted`` body (state with delta, metadata, version, timestamp)."""
        shadow = self._shadows.get((thing, name))
        if shadow is None:
            raise self._missing(thing, name)
        state = copy.deepcopy(shadow.state)
        delta = shadow.delta()
        if delta:
            state["delta"] = delta
        return {"state": state, "metadata": copy.deepcopy(shadow.metadata),
                "version": shadow.version, "timestamp": now}

    def _base_version(self, key, now):
        shadow = self._shadows.get(key)
        if shadow is not None:
            return shadow.version
        tombstone = self._tombstones.get(key)
        if tombstone is not None and now - tombstone[1] < self.tombstone_s:
            return tombstone[0]
        return 0

    def update(self, thing, name, request, now):
        """Validate and apply one update request (a parsed dict) -> UpdateResult."""
        patch, version = validate_update(request, self.max_depth)
        key = (thing, name)
        current = self._shadows.get(key)
        base_version = self._base_version(key, now)
        if version is not None and version != base_version:
            raise ShadowError(409, VERSION_CONFLICT)
        shadow = current.copy() if current is not None else Shadow(base_version)
        shadow.apply(patch, now)
        if _state_bytes(shadow.state) > self.max_state_bytes:
            raise ShadowError(413, TOO_LARGE)
        shadow.version = base_version + 1
        self._shadows[key] = shadow
        self._tombstones.pop(key, None)

        echo = None if patch is None else copy.deepcopy(patch)
        echo_metadata = {} if patch is None else {k: stamp(v, now) for k, v in patch.items()}
        accepted = {"state": echo, "metadata": echo_metadata,
                    "version": shadow.version, "timestamp": now}
        delta = shadow.delta()
        delta_doc = None
        if delta:
            delta_doc = {"version": shadow.version, "timestamp": now, "state": delta,
                         "metadata": _delta_metadata(delta, shadow.metadata.get("desired", {}))}
        documents = {"previous": current.snapshot() if current is not None else None,
                     "current": shadow.snapshot(), "timestamp": now}
        return UpdateResult(accepted, delta_doc, documents)

    def delete(self, thing, name, now):
        """Remove the shadow, keep its version as a tombstone -> ``delete/accepted`` body."""
        shadow = self._shadows.pop((thing, name), None)
        if shadow is None:
            raise self._missing(thing, name)
        self._tombstones[(thing, name)] = (shadow.version, now)
        return {"version": shadow.version, "timestamp": now}
