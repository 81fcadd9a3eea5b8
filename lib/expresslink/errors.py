"""Exception types of the ExpressLink driver, and the module's error codes (spec Table 1)."""

from micropython import const

# The module's error codes (``ERR{code} {text}``, spec Table 1): 1 OVERFLOW, 2 PARSE
# ERROR, 3 COMMAND NOT FOUND, 4 PARAMETER ERROR, 5 INVALID ESCAPE, 6 NO CONNECTION,
# 7 OUT OF RANGE, 8 PARAMETER UNDEFINED, 9 INVALID KEY LENGTH, 10 INVALID KEY NAME,
# 11 UNKNOWN KEY, 12 KEY READONLY, 13 KEY WRITEONLY, 14 UNABLE TO CONNECT, 15 TIME NOT
# AVAILABLE, 16 LOCATION NOT AVAILABLE, 17 MODE NOT AVAILABLE, 18 ACTIVE CONNECTION,
# 19 HOST IMAGE NOT AVAILABLE, 20 INVALID ADDRESS, 21 INVALID OTA UPDATE, 23 INVALID
# SIGNATURE, 24 SHADOW ERROR, 25 NOT ALLOWED, 26 INVALID CERTIFICATE, 27 BLE ERROR,
# 28 CONFIGURATION ERROR, 29 INSUFFICIENT SECURITY. Compare ``ModuleError.code`` with
# the number; named constants here would cost the badge RAM for each name.
_ERR_UNABLE_TO_CONNECT = const(14)


class ExpressLinkError(Exception):
    """Base of every error the ExpressLink driver raises (caller mistakes are ValueError)."""


class ModuleError(ExpressLinkError):
    """The module answered ``ERR{code} {text}``; the link itself is in step.

    ``code`` is the error number, ``text`` the rest of the line with the separating
    whitespace removed (for ERR14 it starts with the hint code, maybe dotted: ``5.1``).
    """

    def __init__(self, code, text=""):
        super().__init__("ERR%d %s" % (code, text))
        self.code = code
        self.text = text

    @property
    def hint(self):
        """ERR14's hint as written (``"5"``, ``"5.1"``), or None when there is none."""
        if self.code != _ERR_UNABLE_TO_CONNECT:
            return None
        word = self.text.split(None, 1)[0] if self.text.strip() else ""
        if word and word.replace(".", "").isdigit() and word[0] != ".":
            return word
        return None

    @property
    def hint_code(self):
        """ERR14's hint as an int (the part before any dot), or None."""
        hint = self.hint
        if hint is None:
            return None
        return int(hint.split(".")[0])


class ProtocolError(ExpressLinkError):
    """The module sent bytes the protocol does not allow: garbage, an overlong line, a bad escape."""


class LineTooLong(ProtocolError):
    """A line longer than the host's line buffer; its bytes are dropped up to its end."""


class StateError(ExpressLinkError):
    """A call in the wrong order, e.g. a new command while one is still in flight."""


class CommandTimeout(ExpressLinkError):
    """No complete response arrived before the command's deadline."""
