"""Exception types of the ExpressLink driver, and the module's error codes (spec Table 1)."""

from micropython import const

# Error codes a module answers with (``ERR{code} {text}``); the ones the badge acts on.
ERR_OVERFLOW = const(1)
ERR_PARSE = const(2)
ERR_COMMAND_NOT_FOUND = const(3)
ERR_PARAMETER = const(4)
ERR_INVALID_ESCAPE = const(5)
ERR_NO_CONNECTION = const(6)
ERR_OUT_OF_RANGE = const(7)
ERR_PARAMETER_UNDEFINED = const(8)
ERR_UNKNOWN_KEY = const(11)
ERR_UNABLE_TO_CONNECT = const(14)
ERR_TIME_NOT_AVAILABLE = const(15)
ERR_ACTIVE_CONNECTION = const(18)
ERR_SHADOW = const(24)
ERR_NOT_ALLOWED = const(25)


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
        if self.code != ERR_UNABLE_TO_CONNECT:
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
