"""Event ids (spec event table) and the parser for ``EVENT?`` answers."""

from micropython import const

from expresslink.errors import ProtocolError
from expresslink.responses import to_text

TIMEOUT = const(0)
MSG = const(1)
STARTUP = const(2)
CONLOST = const(3)
OVERRUN = const(4)
OTA = const(5)
CONNECT = const(6)
CONFMODE = const(7)
SUBACK = const(8)
SUBNACK = const(9)
SHADOW_INIT = const(20)
SHADOW_INIT_FAILED = const(21)
SHADOW_DOC = const(22)
SHADOW_UPDATE = const(23)
SHADOW_DELTA = const(24)
SHADOW_DELETE = const(25)
SHADOW_SUBACK = const(26)
SHADOW_SUBNACK = const(27)
FIRST_VENDOR_EVENT = const(1000)

# id -> mnemonic as the specification names it (some are several words).
MNEMONICS = {
    TIMEOUT: "TIMEOUT",
    MSG: "MSG",
    STARTUP: "STARTUP",
    CONLOST: "CONLOST",
    OVERRUN: "OVERRUN",
    OTA: "OTA",
    CONNECT: "CONNECT",
    CONFMODE: "CONFMODE",
    SUBACK: "SUBACK",
    SUBNACK: "SUBNACK",
    SHADOW_INIT: "SHADOW INIT",
    SHADOW_INIT_FAILED: "SHADOW INIT FAILED",
    SHADOW_DOC: "SHADOW DOC",
    SHADOW_UPDATE: "SHADOW UPDATE",
    SHADOW_DELTA: "SHADOW DELTA",
    SHADOW_DELETE: "SHADOW DELETE",
    SHADOW_SUBACK: "SHADOW SUBACK",
    SHADOW_SUBNACK: "SHADOW SUBNACK",
}


class Event:
    """One event from the module's queue.

    ``id``: event number. ``param``: its parameter as an int (topic or shadow index,
    hint code; for a dotted hint such as ``5.1`` the part before the dot).
    ``param_text``: the parameter as sent (``"5.1"``; ``""`` when absent).
    ``mnemonic``: as sent, words joined by one space (``""`` when omitted).
    ``detail``: the rest of the line (``""`` when absent).
    """

    def __init__(self, event_id, param=0, mnemonic="", detail="", param_text=None):
        self.id = event_id
        self.param = param
        self.param_text = str(param) if param_text is None else param_text
        self.mnemonic = mnemonic
        self.detail = detail

    @property
    def name(self):
        """The mnemonic, or the specification's name for the id when it was omitted."""
        return self.mnemonic or MNEMONICS.get(self.id, "EVENT%d" % self.id)

    def __eq__(self, other):
        return (
            isinstance(other, Event)
            and self.id == other.id
            and self.param_text == other.param_text
            and self.mnemonic == other.mnemonic
            and self.detail == other.detail
        )



def _words(text):
    """(start, end) of each run of non-whitespace characters."""
    spans = []
    index = 0
    end = len(text)
    while index < end:
        while index < end and text[index] in " \t":
            index += 1
        if index == end:
            break
        start = index
        while index < end and text[index] not in " \t":
            index += 1
        spans.append((start, index))
    return spans


def _is_mnemonic_word(word):
    if not word or not ("A" <= word[0] <= "Z"):
        return False
    for char in word:
        if not (("A" <= char <= "Z") or ("0" <= char <= "9") or char == "_"):
            return False
    return True


def _parse_param(word):
    head = word.split(".")[0]
    if not head or not head.isdigit():
        raise ProtocolError("bad event parameter %r" % word)
    for part in word.split(".")[1:]:
        if not part.isdigit():
            raise ProtocolError("bad event parameter %r" % word)
    return int(head)


def parse_event(response):
    """Event from an ``EVENT?`` Response, or None when the queue was empty (bare ``OK``).

    Runs of whitespace separate fields (``OK  26 0``). The mnemonic may be missing or
    several words; for a known id the table's words are matched, otherwise leading
    all-capital words form it. A missing parameter reads as 0 [inf].
    """
    if response.lines:
        raise ProtocolError("EVENT? answered with extra lines")
    text = response.text
    spans = _words(text)
    if not spans:
        return None
    id_word = text[spans[0][0] : spans[0][1]]
    if not id_word.isdigit():
        raise ProtocolError("bad event id %r" % id_word)
    event_id = int(id_word)
    if len(spans) == 1:
        return Event(event_id, 0, "", "", "")
    param_text = text[spans[1][0] : spans[1][1]]
    param = _parse_param(param_text)
    rest = spans[2:]
    taken = 0
    known = MNEMONICS.get(event_id)
    if known is not None:
        expected = known.split(" ")
        if len(rest) >= len(expected):
            matched = True
            for index, word in enumerate(expected):
                span = rest[index]
                if text[span[0] : span[1]].upper() != word:
                    matched = False
                    break
            if matched:
                taken = len(expected)
    if taken == 0:
        while taken < len(rest) and _is_mnemonic_word(text[rest[taken][0] : rest[taken][1]]):
            taken += 1
    mnemonic = " ".join(text[span[0] : span[1]] for span in rest[:taken])
    detail = text[rest[taken][0] :].rstrip() if taken < len(rest) else ""
    return Event(event_id, param, mnemonic, detail, param_text)
