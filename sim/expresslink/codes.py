"""ExpressLink error codes, event codes and the exception a command handler raises."""

# Error codes (specification Table 1, v1.3): code -> text sent after "ERR{code} ".
ERROR_TEXT = {
    1: "OVERFLOW",
    2: "PARSE ERROR",
    3: "COMMAND NOT FOUND",
    4: "PARAMETER ERROR",
    5: "INVALID ESCAPE",
    6: "NO CONNECTION",
    7: "OUT OF RANGE",
    8: "PARAMETER UNDEFINED",
    9: "INVALID KEY LENGTH",
    10: "INVALID KEY NAME",
    11: "UNKNOWN KEY",
    12: "KEY READONLY",
    13: "KEY WRITEONLY",
    14: "UNABLE TO CONNECT",
    15: "TIME NOT AVAILABLE",
    16: "LOCATION NOT AVAILABLE",
    17: "MODE NOT AVAILABLE",
    18: "ACTIVE CONNECTION",
    19: "HOST OTA IMAGE NOT AVAILABLE",
    20: "INVALID ADDRESS",
    21: "INVALID OTA UPDATE",
    23: "INVALID SIGNATURE",
    24: "SHADOW ERROR",
    25: "NOT ALLOWED",
    26: "INVALID CERTIFICATE",
    27: "BLE ERROR",
    28: "CONFIGURATION ERROR",
    29: "INSUFFICIENT SECURITY",
}

ERR_OVERFLOW = 1
ERR_PARSE = 2
ERR_COMMAND_NOT_FOUND = 3
ERR_PARAMETER = 4
ERR_INVALID_ESCAPE = 5
ERR_NO_CONNECTION = 6
ERR_OUT_OF_RANGE = 7
ERR_PARAMETER_UNDEFINED = 8
ERR_KEY_LENGTH = 9
ERR_KEY_NAME = 10
ERR_UNKNOWN_KEY = 11
ERR_KEY_READONLY = 12
ERR_KEY_WRITEONLY = 13
ERR_UNABLE_TO_CONNECT = 14
ERR_TIME_NOT_AVAILABLE = 15
ERR_LOCATION_NOT_AVAILABLE = 16
ERR_MODE_NOT_AVAILABLE = 17
ERR_ACTIVE_CONNECTION = 18
ERR_NO_HOST_IMAGE = 19
ERR_INVALID_ADDRESS = 20
ERR_INVALID_OTA_UPDATE = 21
ERR_INVALID_SIGNATURE = 23
ERR_SHADOW = 24
ERR_NOT_ALLOWED = 25
ERR_INVALID_CERTIFICATE = 26

# Events (specification event table, v1.3): id -> mnemonic sent by EVENT?.
EVENT_TIMEOUT = 0
EVENT_MSG = 1
EVENT_STARTUP = 2
EVENT_CONLOST = 3
EVENT_OVERRUN = 4
EVENT_OTA = 5
EVENT_CONNECT = 6
EVENT_CONFMODE = 7
EVENT_SUBACK = 8
EVENT_SUBNACK = 9
EVENT_SHADOW_INIT = 20
EVENT_SHADOW_INIT_FAILED = 21
EVENT_SHADOW_DOC = 22
EVENT_SHADOW_UPDATE = 23
EVENT_SHADOW_DELTA = 24
EVENT_SHADOW_DELETE = 25
EVENT_SHADOW_SUBACK = 26
EVENT_SHADOW_SUBNACK = 27

EVENT_MNEMONIC = {
    EVENT_TIMEOUT: "TIMEOUT",
    EVENT_MSG: "MSG",
    EVENT_STARTUP: "STARTUP",
    EVENT_CONLOST: "CONLOST",
    EVENT_OVERRUN: "OVERRUN",
    EVENT_OTA: "OTA",
    EVENT_CONNECT: "CONNECT",
    EVENT_CONFMODE: "CONFMODE",
    EVENT_SUBACK: "SUBACK",
    EVENT_SUBNACK: "SUBNACK",
    EVENT_SHADOW_INIT: "SHADOW INIT",
    EVENT_SHADOW_INIT_FAILED: "SHADOW INIT FAILED",
    EVENT_SHADOW_DOC: "SHADOW DOC",
    EVENT_SHADOW_UPDATE: "SHADOW UPDATE",
    EVENT_SHADOW_DELTA: "SHADOW DELTA",
    EVENT_SHADOW_DELETE: "SHADOW DELETE",
    EVENT_SHADOW_SUBACK: "SHADOW SUBACK",
    EVENT_SHADOW_SUBNACK: "SHADOW SUBNACK",
}

# CONNECT hint codes (ERR14 parameter and CONNECT event parameter).
HINT_SUCCESS = 0
HINT_BACKOFF = 1
HINT_NETWORK = 2
HINT_UNREACHABLE = 3
HINT_TLS = 4
HINT_MQTT_LOGIN = 5
HINT_POLICY = 6


class ModuleError(Exception):
    """A command failed: the module answers ``ERR{code} {TEXT}[ {detail}]``."""

    def __init__(self, code, detail=""):
        super().__init__(code, detail)
        self.code = code
        self.detail = detail

    def text(self):
        """The response line's text (str, without EOL, not yet escaped)."""
        line = "ERR%d %s" % (self.code, ERROR_TEXT.get(self.code, "ERROR"))
        if self.detail:
            line += " " + self.detail
        return line


class ConnectError(ModuleError):
    """``ERR14 {hint} UNABLE TO CONNECT[ detail]``: the hint comes before the text."""

    def __init__(self, hint, detail=""):
        super().__init__(ERR_UNABLE_TO_CONNECT, detail)
        self.hint = hint

    def text(self):
        line = "ERR14 %s UNABLE TO CONNECT" % (self.hint,)
        if self.detail:
            line += " " + self.detail
        return line
