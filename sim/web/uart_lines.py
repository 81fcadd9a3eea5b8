"""UART bytes -> the lines the page's AT log shows, one assembler per direction.

Lines end at LF (a CR before it is dropped). Bytes that are not printable ASCII (line
noise, a module's boot garbage) are shown as ``\\xNN`` so the log stays one line per
line. A line longer than ``MAX_LINE_CHARS`` is cut there and marked with an ellipsis.
"""

MAX_LINE_CHARS = 600
_PRINTABLE = frozenset(range(0x20, 0x7F))


def show_bytes(data):
    """Printable ASCII as it is, anything else as ``\\xNN``."""
    if all(byte in _PRINTABLE for byte in data):
        return data.decode("ascii")
    return "".join(chr(byte) if byte in _PRINTABLE else "\\x%02x" % byte for byte in data)


class LineAssembler:
    """Feed bytes; get the complete lines (str) they finish."""

    def __init__(self, max_chars=MAX_LINE_CHARS):
        self.max_chars = max_chars
        self._partial = bytearray()
        self._cut = False

    def feed(self, data):
        parts = bytes(data).split(b"\n")
        out = []
        for part in parts[:-1]:
            self._add(part)
            out.append(self._take())
        self._add(parts[-1])
        return out

    def pending(self):
        """What has arrived of an unfinished line (str), for a flush at the end."""
        return show_bytes(bytes(self._partial)) if self._partial else ""

    def _add(self, data):
        room = self.max_chars - len(self._partial)
        if len(data) > room:
            self._partial += data[:max(room, 0)]
            self._cut = True
        else:
            self._partial += data

    def _take(self):
        raw = bytes(self._partial)
        if raw.endswith(b"\r"):
            raw = raw[:-1]
        text = show_bytes(raw) + ("\u2026" if self._cut else "")
        self._partial.clear()
        self._cut = False
        return text
