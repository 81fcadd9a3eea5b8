"""The module's configuration dictionary (specification section 6): keys, access, limits.

Keys are case-sensitive, 1..16 characters of ``[0-9A-Za-z]``. Persistent keys live in
the module's flash (this object) and survive RESET and power cycles; FACTORY_RESET
restores those marked FR=Y. Non-persistent keys (QoS, Topic1..TopicN, EnableShadow,
Shadow1..ShadowN) return to their defaults at every boot, RESET and deep sleep.
"""

import base64
import hashlib
import json

from sim.expresslink.codes import (
    ERR_INVALID_CERTIFICATE,
    ERR_KEY_LENGTH,
    ERR_KEY_NAME,
    ERR_KEY_READONLY,
    ERR_KEY_WRITEONLY,
    ERR_PARAMETER,
    ERR_UNKNOWN_KEY,
    ModuleError,
)
from sim.expresslink.parser import is_decimal

MAX_KEY_CHARS = 16
STAGING_ENDPOINT = "staging.expresslink.invalid"  # the factory staging account
DEFAULT_ENDPOINT = "iot.badge.local"  # a customer endpoint: the module is onboarded
ABOUT = "BadgeSim - ExpressLink Emulator"
VERSION = "1.0.0-sim"
TECHSPEC = "v1.3"

READ = "R"
WRITE = "W"
READ_WRITE = "RW"

PEM_KEYS = ("Certificate", "HOTAcertificate", "RootCA", "OTAcertificate")
_PEM_BEGIN = "-----BEGIN CERTIFICATE-----"
_PEM_END = "-----END CERTIFICATE-----"
_ALNUM = frozenset("0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz")


class KeySpec:
    """One key: access (R/W/RW), persistence, factory-reset flag, value limit (bytes)."""

    __slots__ = ("name", "access", "persistent", "factory_resets", "limit", "check")

    def __init__(self, name, access, persistent, factory_resets, limit, check=None):
        self.name = name
        self.access = access
        self.persistent = persistent
        self.factory_resets = factory_resets
        self.limit = limit
        self.check = check


def fake_pem(seed, nbytes=600):
    """A deterministic, well-formed PEM block (not a real certificate) for ``seed``."""
    raw = b""
    counter = 0
    while len(raw) < nbytes:
        raw += hashlib.sha256(("%s/%d" % (seed, counter)).encode()).digest()
        counter += 1
    body = base64.b64encode(raw[:nbytes]).decode("ascii")
    lines = [_PEM_BEGIN] + [body[i:i + 64] for i in range(0, len(body), 64)] + [_PEM_END]
    return "\n".join(lines)


def is_pem(value):
    """True for one or more BEGIN/END CERTIFICATE blocks with base64 bodies."""
    lines = [line.strip() for line in value.replace("\r", "\n").split("\n") if line.strip()]
    if len(lines) < 3 or lines[0] != _PEM_BEGIN or lines[-1] != _PEM_END:
        return False
    body = "".join(line for line in lines if not line.startswith("-----"))
    try:
        base64.b64decode(body, validate=True)
    except ValueError:
        return False
    return True


def _check_bit(value):
    if value not in ("0", "1"):
        raise ModuleError(ERR_PARAMETER, "0 or 1")


def _check_unsigned(value):
    if not is_decimal(value):
        raise ModuleError(ERR_PARAMETER, "decimal seconds")


def _check_lwt_config(value):
    if value == "":
        return
    try:
        doc = json.loads(value)
    except ValueError:
        raise ModuleError(ERR_PARAMETER, "LWTConfig must be JSON") from None
    if not isinstance(doc, dict) or not isinstance(doc.get("topic"), str) or not doc["topic"]:
        raise ModuleError(ERR_PARAMETER, "LWTConfig needs a topic")
    if doc.get("qos", 0) not in (0, 1):
        raise ModuleError(ERR_PARAMETER, "LWTConfig qos 0 or 1")


def _check_pem(value):
    if value != "" and not is_pem(value):
        raise ModuleError(ERR_INVALID_CERTIFICATE)


def _persistent_specs():
    p = KeySpec
    return [
        p("About", READ, True, False, 64),
        p("Version", READ, True, False, 32),
        p("TechSpec", READ, True, False, 16),
        p("ThingName", READ, True, False, 64),
        p("Certificate", READ, True, False, 4096),
        p("CustomName", READ_WRITE, True, True, 128),
        p("Endpoint", READ_WRITE, True, True, 128),
        p("RootCA", READ_WRITE, True, False, 4096, _check_pem),
        p("ShadowToken", READ_WRITE, True, True, 64),
        p("DefenderPeriod", READ_WRITE, True, True, 8, _check_unsigned),
        p("HOTAcertificate", READ_WRITE, True, True, 4096, _check_pem),
        p("OTAcertificate", WRITE, True, False, 4096, _check_pem),
        p("SSID", READ_WRITE, True, True, 32),
        p("Passphrase", WRITE, True, True, 64),
        p("APN", READ_WRITE, True, True, 128),
        p("KeepAlive", READ_WRITE, True, False, 8, _check_unsigned),
        p("LWTConfig", READ_WRITE, True, False, 128, _check_lwt_config),
        p("LWTMessage", READ_WRITE, True, False, 128),
    ]


class ConfigStore:
    """The dictionary behind CONF / CONF?; ``query`` and ``assign`` apply the rules."""

    def __init__(self, thing_name, max_topic=16, max_shadow=8, endpoint=DEFAULT_ENDPOINT):
        self.max_topic = max_topic
        self.max_shadow = max_shadow
        self.specs = {}
        self.defaults = {}
        for spec in _persistent_specs():
            self.specs[spec.name] = spec
        self.specs["QoS"] = KeySpec("QoS", READ_WRITE, False, False, 1, _check_bit)
        self.specs["EnableShadow"] = KeySpec("EnableShadow", READ_WRITE, False, False, 1, _check_bit)
        for i in range(1, max_topic + 1):
            self.specs["Topic%d" % i] = KeySpec("Topic%d" % i, READ_WRITE, False, False, 128)
        for i in range(1, max_shadow + 1):
            self.specs["Shadow%d" % i] = KeySpec("Shadow%d" % i, READ_WRITE, False, False, 64)
        self.defaults.update({
            "About": ABOUT,
            "Version": VERSION,
            "TechSpec": TECHSPEC,
            "ThingName": thing_name,
            "Certificate": fake_pem("birth-certificate/" + thing_name),
            "CustomName": "",
            "Endpoint": endpoint,
            "RootCA": fake_pem("root-ca"),
            "ShadowToken": "ExpressLink",
            "DefenderPeriod": "0",
            "HOTAcertificate": "",
            "OTAcertificate": fake_pem("vendor-ota"),
            "SSID": "",
            "Passphrase": "",
            "APN": "",
            "KeepAlive": "60",
            "LWTConfig": "",
            "LWTMessage": "",
            "QoS": "0",
            "EnableShadow": "0",
        })
        for name in self.specs:
            self.defaults.setdefault(name, "")
        self.values = dict(self.defaults)

    # -- the host's view (CONF? / CONF) ----------------------------------------------
    def spec_for(self, key):
        """The KeySpec for ``key`` (str), or ERR9 / ERR10 / ERR11, checked in that order."""
        if not 1 <= len(key) <= MAX_KEY_CHARS:
            raise ModuleError(ERR_KEY_LENGTH)
        if any(c not in _ALNUM for c in key):
            raise ModuleError(ERR_KEY_NAME)
        spec = self.specs.get(key)
        if spec is None:
            raise ModuleError(ERR_UNKNOWN_KEY)
        return spec

    def query(self, key):
        """CONF? key -> value (str); ERR9/10/11, ERR13 for write-only keys."""
        spec = self.spec_for(key)
        if spec.access == WRITE:
            raise ModuleError(ERR_KEY_WRITEONLY)
        return self.values[key]

    def assign(self, key, value):
        """CONF key=value (value str); ERR9/10/11, ERR12, ERR4 (too long, bad value), ERR26."""
        spec = self.spec_for(key)
        if spec.access == READ:
            raise ModuleError(ERR_KEY_READONLY)
        if len(value.encode("utf-8")) > spec.limit:
            raise ModuleError(ERR_PARAMETER, "value longer than %d bytes" % spec.limit)
        if spec.check is not None:
            spec.check(value)
        self.values[key] = value

    # -- the module's own view --------------------------------------------------------
    def get(self, key):
        return self.values[key]

    def set(self, key, value):
        """Set without access checks (the module itself, CONFMODE, staging rewrite)."""
        self.values[key] = value

    def topic(self, index):
        """TopicN (str, may be empty) for 1 <= index <= max_topic."""
        return self.values["Topic%d" % index]

    def shadow_name(self, index):
        return self.values["Shadow%d" % index]

    @property
    def thing_name(self):
        return self.values["ThingName"]

    @property
    def qos(self):
        return int(self.values["QoS"])

    @property
    def shadow_enabled(self):
        return self.values["EnableShadow"] == "1"

    @property
    def onboarded(self):
        """False while Endpoint is the factory staging endpoint."""
        return self.values["Endpoint"] != STAGING_ENDPOINT

    def keepalive_s(self):
        value = self.values["KeepAlive"]
        return int(value) if is_decimal(value) and int(value) > 0 else 60

    def will(self):
        """(topic, payload bytes, qos, retain) from LWTConfig/LWTMessage, or None."""
        config = self.values["LWTConfig"]
        if not config:
            return None
        doc = json.loads(config)
        return (doc["topic"], self.values["LWTMessage"].encode("utf-8"),
                int(doc.get("qos", 0)), bool(doc.get("retain", 0)))

    def install_version(self, version):
        """OTA APPLY: new module firmware; ``version`` is Version now and after any reset."""
        self.defaults["Version"] = version
        self.values["Version"] = version

    # -- resets -------------------------------------------------------------------------
    def reset_volatile(self):
        """Power-up, RESET, deep sleep: non-persistent keys back to their defaults."""
        for name, spec in self.specs.items():
            if not spec.persistent:
                self.values[name] = self.defaults[name]

    def factory_reset(self):
        """FACTORY_RESET: volatile keys and persistent FR=Y keys back to factory values."""
        self.reset_volatile()
        for name, spec in self.specs.items():
            if spec.persistent and spec.factory_resets:
                self.values[name] = self.defaults[name]
