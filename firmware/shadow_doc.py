"""Device shadow documents as the badge reads and writes them (JSON, no I/O).

Read: the ``get/accepted`` document (``state.desired``, ``version``) and the
``update/delta`` document (``state`` is the delta itself). Write: one update holding
the reported state and, for desired keys the badge has dealt with, ``null`` so they
leave the desired state (the badge treats desired keys as requests; once applied or
refused they are done, and a later button press or MQTT message is not undone by a
stale desired value).
"""

import json

# Desired keys the badge acts on, in the order it applies them (screen last: a
# requested screen wins over "new content switches to its screen").
DESIRED_KEYS = ("name", "qr", "screen")


class ShadowDocError(ValueError):
    """A shadow document the badge cannot use; the message says why."""


def _type_name(value):
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, (int, float)):
        return "a number"
    if isinstance(value, str):
        return "text"
    if isinstance(value, list):
        return "a list"
    if isinstance(value, dict):
        return "an object"
    return type(value).__name__


def parse_json(raw, what):
    """``raw`` (bytes or str) as a JSON object (dict); ShadowDocError otherwise."""
    try:
        text = raw if isinstance(raw, str) else str(raw, "utf-8")
        document = json.loads(text)
    except ValueError:  # bad UTF-8 or bad JSON (both ValueErrors on the badge too)
        raise ShadowDocError("shadow: the %s is not valid JSON" % what)
    if not isinstance(document, dict):
        raise ShadowDocError("shadow: the %s is %s, not an object" % (what, _type_name(document)))
    return document


def _version(document, what):
    version = document.get("version")
    if version is None:
        return None
    if not isinstance(version, int) or isinstance(version, bool) or version < 0:
        raise ShadowDocError("shadow: the %s has a bad version (%s)" % (what, _type_name(version)))
    return version


def read_document(raw):
    """A ``get/accepted`` document -> (version or None, desired dict, possibly empty)."""
    document = parse_json(raw, "shadow document")
    version = _version(document, "shadow document")
    state = document.get("state", {})
    if not isinstance(state, dict):
        raise ShadowDocError("shadow: state is %s, not an object" % _type_name(state))
    desired = state.get("desired", {})
    if desired is None:
        desired = {}
    if not isinstance(desired, dict):
        raise ShadowDocError("shadow: desired is %s, not an object" % _type_name(desired))
    return version, desired


def read_delta(raw):
    """An ``update/delta`` document -> (version or None, delta dict)."""
    document = parse_json(raw, "delta")
    version = _version(document, "delta")
    state = document.get("state", {})
    if not isinstance(state, dict):
        raise ShadowDocError("shadow: delta state is %s, not an object" % _type_name(state))
    return version, state


def desired_requests(desired):
    """The badge's requests in ``desired``, in order: [(key, str value or None, error)].

    A key whose value is not text gets an error message instead of a value.
    """
    requests = []
    for key in DESIRED_KEYS:
        if key not in desired:
            continue
        value = desired[key]
        error = None
        if not isinstance(value, str):
            error = "shadow: desired %s must be text, not %s" % (key, _type_name(value))
            value = None
        requests.append((key, value, error))
    return requests


def unknown_keys(desired):
    """Desired keys the badge does not act on (sorted, for a stable message)."""
    return sorted([key for key in desired if key not in DESIRED_KEYS])


def update_json(reported, done_keys=()):
    """The ``SHADOW UPDATE`` document: ``reported`` plus ``null`` for ``done_keys``."""
    state = {"reported": reported}
    if done_keys:
        desired = {}
        for key in done_keys:
            desired[key] = None
        state["desired"] = desired
    return json.dumps({"state": state})
