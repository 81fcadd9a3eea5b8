"""The page's commands (protocol.md, "Page to server"), checked on the server's thread.

``check(message, time_control)`` returns ``(op, args)`` ready for
:class:`sim.web.control.Control`, or raises :class:`BadCommand` whose text is the
``notice`` the page gets. Nothing here touches the badge: ``qr_check`` is answered
from the firmware's own layout rules, without the badge.
"""

import json

from sim.content.payloads import ContentError, name_payload, qr_payload
from sim.web.faults import NAMES as FAULT_NAMES

MAX_MESSAGE_BYTES = 64 * 1024  # a text message from the page
MAX_HOLD_S = 10.0
MAX_CONSOLE_CHARS = 4096
RATES = ("paused", 1, 10, 100, "max")
SCREENS = ("name", "photo", "qr", "climate", "status")
BUTTONS = ("A", "B", "C")


class BadCommand(ValueError):
    """A message the page should not have sent; ``op`` names it when known."""

    def __init__(self, text, op=None):
        super().__init__(text)
        self.op = op


def _number(value, low, high, what, op):
    if isinstance(value, bool) or not isinstance(value, (int, float)) or value != value:
        raise BadCommand("%s: %s must be a number, not %r" % (op, what, value), op)
    if not low <= value <= high:
        raise BadCommand("%s: %s must be %s..%s, not %s" % (op, what, low, high, value), op)
    return float(value)


def _text(message, op, what="text"):
    value = message.get(what)
    if not isinstance(value, str):
        raise BadCommand("%s needs %s (a string)" % (op, what), op)
    return value


def parse(raw):
    """A WebSocket text message -> dict with an ``op``; BadCommand otherwise."""
    if len(raw) > MAX_MESSAGE_BYTES:
        raise BadCommand("message of %d bytes: the limit is %d" % (len(raw), MAX_MESSAGE_BYTES))
    try:
        message = json.loads(raw)
    except ValueError:
        raise BadCommand("not JSON: %r" % raw[:60]) from None
    if not isinstance(message, dict) or not isinstance(message.get("op"), str):
        raise BadCommand("a command is a JSON object with an \"op\"")
    return message


def check(message, time_control):
    """``(op, args)`` for a valid command; BadCommand with the reason otherwise."""
    op = message["op"]
    checker = _CHECKS.get(op)
    if checker is None:
        raise BadCommand("unknown op %r (%s)" % (op, ", ".join(sorted(_CHECKS))), op)
    return op, checker(message, time_control)


def _press(message, _time_control):
    button = message.get("button")
    if button not in BUTTONS:
        raise BadCommand("press: button must be A, B or C, not %r" % (button,), "press")
    hold = message.get("hold_s", 0.1)
    return {"button": button, "hold_s": _number(hold, 0.001, MAX_HOLD_S, "hold_s", "press")}


def _climate(message, _time_control):
    args = {}
    if "temperature_c" in message:
        args["temperature_c"] = _number(message["temperature_c"], -40, 125,
                                        "temperature_c", "climate")
    if "humidity_rh" in message:
        args["humidity_rh"] = _number(message["humidity_rh"], 0, 100, "humidity_rh", "climate")
    if not args:
        raise BadCommand("climate needs temperature_c and/or humidity_rh", "climate")
    return args


def _fault(message, _time_control):
    name = message.get("name")
    if name not in FAULT_NAMES:
        raise BadCommand("fault: name must be one of %s, not %r"
                         % (", ".join(FAULT_NAMES), name), "fault")
    on = message.get("on")
    if not isinstance(on, bool):
        raise BadCommand("fault: on must be true or false, not %r" % (on,), "fault")
    return {"name": name, "on": on}


def _time(message, time_control):
    if not time_control:
        raise BadCommand("time: this engine keeps its own time (CircuitPython's emulated "
                         "RP2040); pause and rates are for the CPython engine", "time")
    rate = message.get("rate")
    if isinstance(rate, float) and rate.is_integer():
        rate = int(rate)
    if rate not in RATES or isinstance(rate, bool):
        raise BadCommand("time: rate must be one of paused, 1, 10, 100, max, not %r"
                         % (rate,), "time")
    return {"rate": rate}


def _step(_message, time_control):
    if not time_control:
        raise BadCommand("step: this engine keeps its own time; stepping is for the "
                         "CPython engine", "step")
    return {}


def _qr_check(message, _time_control):
    return {"text": _text(message, "qr_check")}


def qr_fit(text):
    """The ``qr_fit`` answer for ``text``, by the firmware's own layout rules."""
    try:
        _payload, info = qr_payload(text)
    except ContentError as error:
        return {"type": "qr_fit", "text": text, "fits": False, "scale": None,
                "version": None, "reason": str(error)}
    return {"type": "qr_fit", "text": text, "fits": True, "scale": info["scale"],
            "version": info["version"], "reason": None}


def _send(message, _time_control):
    kind = message.get("kind")
    text = _text(message, "send")
    if kind == "qr":
        try:
            payload, _info = qr_payload(text)
        except ContentError as error:
            raise BadCommand("send qr: %s" % error, "send") from None
    elif kind == "name":
        try:
            payload, _info = name_payload(text)
        except ContentError as error:
            raise BadCommand("send name: %s" % error, "send") from None
    elif kind == "screen":
        if text not in SCREENS:
            raise BadCommand("send screen: one of %s, not %r" % (", ".join(SCREENS), text),
                             "send")
        payload = text
    else:
        raise BadCommand("send: kind must be qr, name or screen, not %r (photos go to "
                         "POST /api/photo/send)" % (kind,), "send")
    return {"kind": kind, "payload": payload}


def _console(message, _time_control):
    text = _text(message, "console")
    if len(text) > MAX_CONSOLE_CHARS:
        raise BadCommand("console: at most %d characters at once" % MAX_CONSOLE_CHARS,
                         "console")
    return {"text": text}


def _reload(_message, _time_control):
    return {}


_CHECKS = {"press": _press, "climate": _climate, "fault": _fault, "time": _time,
           "step": _step, "qr_check": _qr_check, "send": _send, "console": _console,
           "reload": _reload}
