"""Encode host commands: ``AT+{command}[#][ {escaped parameter}]\\n``."""

from micropython import const

from expresslink.escape import escape

MAX_COMMAND_BYTES = const(9216)  # whole line incl. "AT+" and EOL: the spec's 9 KB [inf: 9 x 1024]
_MAX_WORD_BYTES = const(32)  # command word limit (spec: at most 32 bytes)
_MAX_SUFFIX = const(65535)  # numeric suffix (topic or shadow index); the module range-checks it

PING = b"AT\n"  # bare AT: the parser-alive test
_PREFIX = b"AT+"
_EOL = b"\n"  # the spec accepts LF or CR; one LF never yields two replies
_WORD_PUNCTUATION = "_!?"


def _check_word(command):
    if not isinstance(command, str) or not command:
        raise ValueError("command word must be a non-empty str")
    if len(command) > _MAX_WORD_BYTES:
        raise ValueError("command word longer than 32 bytes")
    for char in command:
        if not (("A" <= char <= "Z") or ("a" <= char <= "z") or char in _WORD_PUNCTUATION):
            raise ValueError("bad character in command word: %r" % command)


def encode(command, suffix=None, parameter=None):
    """Return the bytes of one command line.

    ``command``: the word (``"CONF?"``, ``"SEND"``, ``"EVENT?"``). ``suffix``: an int
    glued to the word (``SEND1``) or None. ``parameter``: str or bytes, escaped here, or
    None for no separator at all; ``""`` sends the separator and nothing after it.
    Caller mistakes (bad word, bad suffix, over MAX_COMMAND_BYTES) raise ValueError.
    """
    _check_word(command)
    head = _PREFIX + command.encode()
    if suffix is not None:
        if not isinstance(suffix, int) or isinstance(suffix, bool) or not 0 <= suffix <= _MAX_SUFFIX:
            raise ValueError("suffix must be an int in 0..%d" % _MAX_SUFFIX)
        head += str(suffix).encode()
    if parameter is None:
        line = head + _EOL
    else:
        line = head + b" " + escape(parameter) + _EOL
    if len(line) > MAX_COMMAND_BYTES:
        raise ValueError("command is %d bytes escaped, limit %d" % (len(line), MAX_COMMAND_BYTES))
    return line


def encode_text(text):
    """Encode a command written as text after ``AT+``, e.g. ``"CONF? ThingName"``.

    The word runs up to the first digit or space; digits right after it form the
    suffix; one space separates the parameter, which is everything after it (escaped).
    ``"AT"`` alone is the bare ``AT``.
    """
    if not isinstance(text, str):
        raise ValueError("command text must be a str")
    if text.upper() == "AT":
        return PING
    end = len(text)
    word_end = 0
    while word_end < end and text[word_end] != " " and not ("0" <= text[word_end] <= "9"):
        word_end += 1
    suffix_end = word_end
    while suffix_end < end and "0" <= text[suffix_end] <= "9":
        suffix_end += 1
    suffix = int(text[word_end:suffix_end]) if suffix_end > word_end else None
    if suffix_end == end:
        parameter = None
    elif text[suffix_end] == " ":
        parameter = text[suffix_end + 1 :]
    else:
        raise ValueError("text after the suffix must start with one space: %r" % text)
    return encode(text[:word_end], suffix, parameter)


def command_word(line):
    """The upper-case command word of an encoded line (``b"AT+send1 x\\n"`` -> ``"SEND"``)."""
    if not line.startswith(_PREFIX):
        return "AT"
    end = 3
    while end < len(line) and line[end] not in b" 0123456789\n":
        end += 1
    return line[3:end].decode().upper()
