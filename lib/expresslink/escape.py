"""ExpressLink escaping: LF <-> ``\\A``, CR <-> ``\\D``, backslash <-> ``\\\\`` (both directions)."""

from expresslink.errors import ProtocolError

_BACKSLASH = b"\\"
_ESCAPED_BACKSLASH = b"\\\\"
_LF = b"\n"
_ESCAPED_LF = b"\\A"
_CR = b"\r"
_ESCAPED_CR = b"\\D"
# Byte after a backslash -> the byte it stands for.
_DECODED = {0x41: 0x0A, 0x44: 0x0D, 0x5C: 0x5C}


def to_bytes(data):
    """``str`` -> UTF-8 bytes; bytes-like -> bytes."""
    if isinstance(data, str):
        return data.encode()
    return bytes(data)


def escape(data):
    """Return ``data`` (str or bytes-like) escaped for a command parameter, as bytes."""
    raw = to_bytes(data)
    if _BACKSLASH in raw:
        # Backslashes first, so the escapes added below are not doubled.
        raw = raw.replace(_BACKSLASH, _ESCAPED_BACKSLASH)
    if _LF in raw:
        raw = raw.replace(_LF, _ESCAPED_LF)
    if _CR in raw:
        raw = raw.replace(_CR, _ESCAPED_CR)
    return raw


def escaped_length(data):
    """Length in bytes of ``escape(data)`` without building it."""
    raw = to_bytes(data)
    return len(raw) + raw.count(_BACKSLASH) + raw.count(_LF) + raw.count(_CR)


def unescape(data):
    """Decode a response field in one pass; an invalid escape raises ProtocolError.

    One pass matters: text ``\\A`` arrives as ``\\\\A`` and must decode to ``\\A``,
    not to a backslash followed by LF.
    """
    raw = data if isinstance(data, (bytes, bytearray)) else bytes(data)
    at = raw.find(_BACKSLASH)
    if at < 0:
        return bytes(raw)
    out = bytearray()
    start = 0
    end = len(raw)
    while at >= 0:
        if at + 1 >= end:
            raise ProtocolError("escape at end of line")
        decoded = _DECODED.get(raw[at + 1])
        if decoded is None:
            raise ProtocolError("invalid escape \\%s" % chr(raw[at + 1]))
        out.extend(raw[start:at])
        out.append(decoded)
        start = at + 2
        at = raw.find(_BACKSLASH, start)
    out.extend(raw[start:])
    return bytes(out)
