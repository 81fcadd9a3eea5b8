"""Parse the module's response lines: ``OK[n][ detail]`` and ``ERR{code} {text}``."""

from micropython import const

from expresslink.errors import ModuleError, ProtocolError
from expresslink.escape import unescape

_MAX_EXTRA_LINES = const(255)  # most lines an ``OK{n}`` may announce (a PEM chain is ~90)
_SPACE = const(0x20)
_TAB = const(0x09)


def to_text(raw):
    """Bytes -> str; invalid UTF-8 becomes ``?`` per byte above 0x7F instead of failing."""
    try:
        return raw.decode()
    except UnicodeError:
        return "".join(chr(b) if b < 0x80 else "?" for b in raw)


class Response:
    """A successful answer.

    ``detail``: bytes after ``OK `` (unescaped), ``b""`` for ``OK `` with nothing after
    the space, None for a bare ``OK``. ``lines``: tuple of the extra lines announced by
    ``OK{n}`` (unescaped bytes), empty otherwise.
    """

    def __init__(self, detail=None, lines=()):
        self.detail = detail
        self.lines = lines

    @property
    def text(self):
        """``detail`` as str ("" for a bare OK)."""
        return "" if self.detail is None else to_text(self.detail)

    def __eq__(self, other):
        return (
            isinstance(other, Response) and self.detail == other.detail and self.lines == other.lines
        )



def _digits_end(line, start):
    end = start
    while end < len(line) and 0x30 <= line[end] <= 0x39:
        end += 1
    return end


def parse_head(line):
    """Parse the first line of a response (bytes, EOL removed).

    Returns ``(extra_line_count, detail)`` for an OK line; raises ModuleError for an
    ERR line and ProtocolError for anything else.
    """
    if line.startswith(b"OK"):
        digits_end = _digits_end(line, 2)
        count = int(line[2:digits_end]) if digits_end > 2 else 0
        if count > _MAX_EXTRA_LINES:
            raise ProtocolError("OK%d announces too many lines" % count)
        if digits_end == len(line):
            return count, None
        if line[digits_end] != _SPACE:
            raise ProtocolError("garbled OK line: %r" % bytes(line[:40]))
        return count, unescape(line[digits_end + 1 :])
    if line.startswith(b"ERR"):
        digits_end = _digits_end(line, 3)
        if digits_end == 3:
            raise ProtocolError("ERR without a code: %r" % bytes(line[:40]))
        code = int(line[3:digits_end])
        rest = line[digits_end:]
        if rest and rest[0] not in (_SPACE, _TAB):
            raise ProtocolError("garbled ERR line: %r" % bytes(line[:40]))
        rest = rest.strip()
        try:
            rest = unescape(rest)
        except ProtocolError:
            pass  # ERR text is for humans only: keep it as sent
        raise ModuleError(code, to_text(rest))
    raise ProtocolError("not a response line: %r" % bytes(line[:40]))
