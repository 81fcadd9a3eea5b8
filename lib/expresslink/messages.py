"""Interpret the answers of GET/GET0/GET#, CONNECT/CONNECT?, TIME?, CONF? and SHADOW GET."""

from expresslink.errors import ProtocolError
from expresslink.responses import to_text


class Message:
    """A message taken from the module's queue.

    ``topic``: str for GET and GET0 (the two-line form), None for GET#.
    ``payload``: bytes, unescaped; ``b""`` for an empty message.
    ``index``: the topic index asked with GET# / GET0 (0), None for GET.
    """

    def __init__(self, topic, payload, index=None):
        self.topic = topic
        self.payload = payload
        self.index = index

    @property
    def text(self):
        return to_text(self.payload)

    def __eq__(self, other):
        return (
            isinstance(other, Message)
            and self.topic == other.topic
            and self.payload == other.payload
            and self.index == other.index
        )

    def __repr__(self):
        return "Message(%r, %r, %r)" % (self.topic, self.payload, self.index)


def parse_get(response, index=None):
    """Message from a ``GET`` / ``GET0`` answer (``OK1 {topic}`` + message), None for ``OK``."""
    if not response.lines:
        if response.detail:
            raise ProtocolError("GET answer without its message line")
        return None
    if len(response.lines) != 1:
        raise ProtocolError("GET answer with %d extra lines" % len(response.lines))
    return Message(response.text, response.lines[0], index)


def parse_get_indexed(response, index):
    """Message from a ``GET#`` answer: ``OK {message}``; bare ``OK`` -> None.

    ``OK `` followed by nothing is a message with an empty payload.
    """
    if response.lines:
        raise ProtocolError("GET%d answer with extra lines" % index)
    if response.detail is None:
        return None
    return Message(None, response.detail, index)


class ConnectionStatus:
    """``CONNECT?``: ``connected`` bool, ``onboarded`` bool or None (v0.5 modules),
    ``state`` (``"CONNECTED"``/``"DISCONNECTED"``), ``endpoint`` (``"STAGING"``/``"CUSTOMER"``)."""

    def __init__(self, connected, onboarded=None, state="", endpoint=""):
        self.connected = connected
        self.onboarded = onboarded
        self.state = state
        self.endpoint = endpoint

    def __repr__(self):
        return "ConnectionStatus(%r, %r, %r, %r)" % (
            self.connected,
            self.onboarded,
            self.state,
            self.endpoint,
        )


def _flag(word, what):
    if word == "1":
        return True
    if word == "0":
        return False
    raise ProtocolError("%s: expected 0 or 1, got %r" % (what, word))


def parse_connection_status(response):
    """ConnectionStatus from ``OK {0/1} {0/1} {CONNECTED/DISCONNECTED} {STAGING/CUSTOMER}``."""
    words = response.text.split()
    if not words:
        raise ProtocolError("CONNECT? answered without a state")
    connected = _flag(words[0], "CONNECT?")
    onboarded = _flag(words[1], "CONNECT? onboarded") if len(words) > 1 else None
    state = words[2] if len(words) > 2 else ""
    endpoint = words[3] if len(words) > 3 else ""
    return ConnectionStatus(connected, onboarded, state, endpoint)


def parse_connect(response):
    """True for ``OK 1 CONNECTED`` (CONNECT), False for ``OK 0 DISCONNECTED`` (DISCONNECT)."""
    words = response.text.split()
    if not words:
        raise ProtocolError("CONNECT/DISCONNECT answered without a state")
    return _flag(words[0], "CONNECT")


class ModuleTime:
    """``TIME?`` answer: UTC date and time fields (ints), ``millisecond``, ``source`` str."""

    def __init__(self, year, month, day, hour, minute, second, millisecond=0, source=""):
        self.year = year
        self.month = month
        self.day = day
        self.hour = hour
        self.minute = minute
        self.second = second
        self.millisecond = millisecond
        self.source = source

    def as_tuple(self):
        """(year, month, day, hour, minute, second, millisecond)."""
        return (self.year, self.month, self.day, self.hour, self.minute, self.second, self.millisecond)

    def __repr__(self):
        return "ModuleTime(%d/%02d/%02d %02d:%02d:%02d.%03d %s)" % (
            self.as_tuple() + (self.source,)
        )


def _numbers(text, separator, count, what):
    parts = text.split(separator)
    if len(parts) != count:
        raise ProtocolError("bad %s %r" % (what, text))
    for part in parts:
        if not part.isdigit():
            raise ProtocolError("bad %s %r" % (what, text))
    return [int(part) for part in parts]


def parse_time(response):
    """ModuleTime from ``OK [date] YYYY/MM/DD [time] hh:mm:ss[.xx] [source]``.

    The literal ``date``/``time`` words seen on real modules are optional.
    """
    words = [w for w in response.text.split() if w.lower() not in ("date", "time")]
    if len(words) < 2:
        raise ProtocolError("TIME? answer too short: %r" % response.text)
    year, month, day = _numbers(words[0], "/", 3, "date")
    clock, _, fraction = words[1].partition(".")
    hour, minute, second = _numbers(clock, ":", 3, "time")
    millisecond = 0
    if fraction:
        if not fraction.isdigit():
            raise ProtocolError("bad time fraction %r" % words[1])
        millisecond = int((fraction + "000")[:3])
    if not (1 <= month <= 12 and 1 <= day <= 31 and hour < 24 and minute < 60 and second < 61):
        raise ProtocolError("time out of range: %r" % response.text)
    source = " ".join(words[2:])
    return ModuleTime(year, month, day, hour, minute, second, millisecond, source)


def parse_conf(response):
    """A ``CONF?`` value as str; a bare ``OK`` is the empty value.

    A multi-line answer (``CONF? Certificate pem`` -> ``OK{n} pem``) is its extra
    lines joined with LF.
    """
    if response.lines:
        return "\n".join(to_text(line) for line in response.lines)
    return response.text


class ShadowResult:
    """``SHADOW GET DOC|UPDATE|DELETE``: ``accepted`` bool and ``document`` bytes."""

    def __init__(self, accepted, document):
        self.accepted = accepted
        self.document = document

    def __repr__(self):
        return "ShadowResult(%r, %r)" % (self.accepted, self.document)


def parse_shadow_result(response):
    """``OK`` (not arrived yet) -> None; ``OK 1 {doc}`` / ``OK 0 {detail}`` -> ShadowResult."""
    detail = response.detail
    if not detail:
        return None
    flag = detail[:1]
    if flag not in (b"0", b"1") or (len(detail) > 1 and detail[1:2] != b" "):
        raise ProtocolError("bad shadow result %r" % bytes(detail[:40]))
    return ShadowResult(flag == b"1", detail[2:])
