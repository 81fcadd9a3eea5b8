"""The module's side of the AT syntax: line framing, command parsing, escapes, replies.

Framing: bytes before ``AT`` (any case) are ignored; a command ends at LF or CR; the
formatted command (``AT`` included, EOL excluded) may be ``max_line_bytes`` long, a
longer one is swallowed up to its EOL and then answered ``ERR1 OVERFLOW``.
Parsing: ``AT+{word}[#]{space}[parameter]`` with the checks of specification 4.2, in
the order they appear on the line (docs/expresslink-emulator.md, "Choices the
specification leaves open").
"""

from sim.expresslink.codes import (
    ERR_COMMAND_NOT_FOUND,
    ERR_INVALID_ESCAPE,
    ERR_PARAMETER,
    ERR_PARSE,
    ModuleError,
)

MAX_LINE_BYTES = 9 * 1024  # formatted command, "AT" included, EOL excluded
MAX_WORD_BYTES = 32

EOL = b"\r\n"  # response line ending

SUFFIX_NONE = "none"
SUFFIX_OPTIONAL = "optional"
SUFFIX_REQUIRED = "required"

_LF = 0x0A
_CR = 0x0D
_BACKSLASH = 0x5C
_WORD_BYTES = frozenset(b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz_!?")
_DIGITS = frozenset(b"0123456789")
_ALNUM = _DIGITS | frozenset(b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz")

LINE = "line"
OVERFLOW = "overflow"
RAW = "raw"


class LineAssembler:
    """Turns received bytes into command lines: ``feed(data)``, then ``next_item()``.

    ``next_item()`` returns ``(LINE, body)`` (the bytes after ``AT``, without EOL),
    ``(OVERFLOW, b"")`` or None when no complete item is buffered. Stray CR/LF and junk
    between commands vanish. With ``raw = True`` (PEM input after ``CONF key=pem``)
    every non-empty line is returned whole as ``(RAW, line)`` instead.
    """

    def __init__(self, max_line_bytes=MAX_LINE_BYTES):
        self.max_body = max_line_bytes - 2
        self.raw = False
        self.reset()

    def reset(self):
        self._data = bytearray()
        self._in_line = False
        self._overflow = False
        self._prev = -1
        self._body = bytearray()

    @property
    def partial(self):
        """True while a command has started (``AT`` seen) but its EOL has not arrived."""
        return self._in_line

    def feed(self, data):
        self._data += data

    def next_item(self):
        data = self._data
        n = len(data)
        i = 0
        item = None
        while i < n and item is None:
            if self.raw:
                end = _find_eol(data, i)
                if end < 0:
                    break
                line = bytes(data[i:end])
                i = end + 1
                if line:
                    item = (RAW, line)
                continue
            if not self._in_line:
                b = data[i]
                i += 1
                if (b == 0x54 or b == 0x74) and (self._prev == 0x41 or self._prev == 0x61):
                    self._in_line = True
                    self._overflow = False
                    self._body = bytearray()
                    self._prev = -1
                else:
                    self._prev = b
                continue
            end = _find_eol(data, i)
            stop = n if end < 0 else end
            if not self._overflow:
                self._body += data[i:stop]
                if len(self._body) > self.max_body:
                    self._overflow = True
                    self._body = bytearray()
            i = stop
            if end < 0:
                break
            i = end + 1
            item = (OVERFLOW, b"") if self._overflow else (LINE, bytes(self._body))
            self._in_line = False
            self._overflow = False
            self._body = bytearray()
        del self._data[:i]
        return item


def _find_eol(data, start):
    """Index of the first CR or LF at or after ``start``, or -1."""
    lf = data.find(b"\n", start)
    cr = data.find(b"\r", start)
    if lf < 0:
        return cr
    if cr < 0:
        return lf
    return min(lf, cr)


class Command:
    """One parsed command: ``word`` (upper case), ``suffix`` (int or None), ``param``.

    ``param`` is None when no separator followed, else the decoded parameter bytes.
    """

    __slots__ = ("word", "suffix", "param")

    def __init__(self, word, suffix, param):
        self.word = word
        self.suffix = suffix
        self.param = param

    def text(self):
        """The parameter as text (UTF-8, undecodable bytes replaced); '' when absent."""
        if self.param is None:
            return ""
        return self.param.decode("utf-8", "replace")

    def require_no_param(self):
        """ERR4 for a parameter on a command that takes none (a bare separator is fine)."""
        if self.param:
            raise ModuleError(ERR_PARAMETER, "no parameter expected")

    def __repr__(self):
        return "Command(%r, %r, %r)" % (self.word, self.suffix, self.param)


def parse_command(body, suffix_rules):
    """Parse the bytes after ``AT``; ``suffix_rules`` maps WORD -> SUFFIX_*.

    Returns a :class:`Command` (word ``""`` for the bare ``AT``) or raises
    :class:`ModuleError` with ERR2, ERR3, ERR4 or ERR5.
    """
    if not body:
        return Command("", None, None)
    if body[0] != 0x2B:  # '+'
        raise ModuleError(ERR_PARSE)
    n = len(body)
    i = 1
    while i < n and body[i] in _WORD_BYTES:
        i += 1
    if i == 1:
        raise ModuleError(ERR_PARSE)
    if i - 1 > MAX_WORD_BYTES:
        raise ModuleError(ERR_COMMAND_NOT_FOUND)
    word = body[1:i].decode("ascii").upper()
    rule = suffix_rules.get(word)
    if rule is None:
        raise ModuleError(ERR_COMMAND_NOT_FOUND)
    start = i
    while i < n and body[i] in _DIGITS:
        i += 1
    suffix = int(body[start:i]) if i > start else None
    param = None
    if i < n:
        if body[i] != 0x20:
            # A digit run glued to letters ("SLEEP9A") is an unusable suffix: the
            # specification's own example answers ERR4; any other junk is ERR2.
            if suffix is not None and body[i] in _ALNUM:
                raise ModuleError(ERR_PARAMETER)
            raise ModuleError(ERR_PARSE)
        param = body[i + 1:]
    if suffix is not None and rule == SUFFIX_NONE:
        raise ModuleError(ERR_PARAMETER)
    if suffix is None and rule == SUFFIX_REQUIRED:
        raise ModuleError(ERR_PARAMETER)
    if param is not None:
        param = decode_escapes(param)
    return Command(word, suffix, param)


def decode_escapes(data):
    """One pass: ``\\A`` -> LF, ``\\D`` -> CR, ``\\\\`` -> ``\\``; anything else ERR5."""
    if b"\\" not in data:
        return bytes(data)
    out = bytearray()
    i = 0
    n = len(data)
    while i < n:
        b = data[i]
        if b != _BACKSLASH:
            out.append(b)
            i += 1
            continue
        if i + 1 >= n:
            raise ModuleError(ERR_INVALID_ESCAPE)
        nxt = data[i + 1]
        if nxt == 0x41:  # 'A'
            out.append(_LF)
        elif nxt == 0x44:  # 'D'
            out.append(_CR)
        elif nxt == _BACKSLASH:
            out.append(_BACKSLASH)
        else:
            raise ModuleError(ERR_INVALID_ESCAPE)
        i += 2
    return bytes(out)


def encode_escapes(data):
    """Escape ``\\``, LF and CR so that a value travels as one line."""
    return bytes(data).replace(b"\\", b"\\\\").replace(b"\n", b"\\A").replace(b"\r", b"\\D")


def is_decimal(text):
    """True for a non-empty run of ASCII digits (str.isdigit also accepts '²')."""
    return bool(text) and all("0" <= c <= "9" for c in text)


def to_bytes(value):
    if isinstance(value, str):
        return value.encode("utf-8")
    return bytes(value)


def ok_line(detail=None):
    """``OK`` alone (detail None) or ``OK {detail}`` (detail may be empty), with EOL."""
    if detail is None:
        return b"OK" + EOL
    return b"OK " + encode_escapes(to_bytes(detail)) + EOL


def ok_lines(first, lines, raw=False):
    """``OK{n} {first}`` followed by the n extra lines (escaped unless ``raw``)."""
    out = b"OK%d " % len(lines) + encode_escapes(to_bytes(first)) + EOL
    for line in lines:
        line = to_bytes(line)
        out += (line if raw else encode_escapes(line)) + EOL
    return out


def error_line(error):
    """The reply to a :class:`ModuleError`."""
    return encode_escapes(to_bytes(error.text())) + EOL
