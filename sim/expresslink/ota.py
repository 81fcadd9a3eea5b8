"""The OTA command family, with test hooks that propose module and host (HOTA) updates.

States (OTA? codes): 0 IDLE, 1 OTA PENDING (module firmware proposed), 2 HOTA PENDING
(host image proposed), 3 OTA IN PROGRESS (download after OTA ACCEPT), 4 READY TO REBOOT
(module firmware ready, OTA APPLY reboots into it), 5 HOTA AVAILABLE (the host reads the
image with OTA SEEK / OTA READ, then OTA CLOSE or OTA FLUSH).
"""

import asyncio

from sim.expresslink.codes import (
    ERR_INVALID_ADDRESS,
    ERR_INVALID_OTA_UPDATE,
    ERR_INVALID_SIGNATURE,
    ERR_NO_HOST_IMAGE,
    ERR_PARAMETER,
    EVENT_OTA,
    ModuleError,
)
from sim.expresslink.parser import is_decimal, ok_line

IDLE = 0
OTA_PENDING = 1
HOTA_PENDING = 2
IN_PROGRESS = 3
READY_TO_REBOOT = 4
HOTA_AVAILABLE = 5

STATE_TEXT = {
    IDLE: "IDLE",
    OTA_PENDING: "OTA PENDING",
    HOTA_PENDING: "HOTA PENDING",
    IN_PROGRESS: "OTA IN PROGRESS",
    READY_TO_REBOOT: "READY TO REBOOT",
    HOTA_AVAILABLE: "HOTA AVAILABLE",
}

MAX_OTA_READ = 1024  # bytes per OTA READ (MaxOTARead); larger requests are capped


def checksum16(data):
    """OTA READ checksum: the sum of the bytes, modulo 65536."""
    return sum(data) & 0xFFFF


class OtaService:
    """OTA state, the proposed update, the host read pointer; OTA? and OTA commands."""

    def __init__(self, ctx):
        self.ctx = ctx  # the module's ModuleContext: events, spawn, configuration, power
        self.state = IDLE
        self.download_time_s = 2.0
        self.max_read = MAX_OTA_READ
        self.reports = []  # "succeeded" / "failed", as reported to the job service
        self._host = False
        self._image = b""
        self._version = ""
        self._signature_ok = True
        self._job_doc = ""
        self._position = 0

    # -- test hooks: the cloud proposes an update -------------------------------------------
    def offer_host_update(self, image, job_doc=None, signature_ok=True):
        """Propose a host image (bytes): state 2 HOTA PENDING and an OTA event."""
        self._propose(True, bytes(image), "", job_doc, signature_ok)

    def offer_module_update(self, version, job_doc=None, signature_ok=True):
        """Propose new module firmware ``version``: state 1 OTA PENDING and an OTA event."""
        self._propose(False, b"", version, job_doc, signature_ok)

    def _propose(self, host, image, version, job_doc, signature_ok):
        self._host = host
        self._image = image
        self._version = version
        self._signature_ok = signature_ok
        self._job_doc = job_doc if job_doc is not None else (
            '{"operation":"%s","size":%d}' % ("host-ota" if host else "ota", len(image)))
        self._position = 0
        self._set_state(HOTA_PENDING if host else OTA_PENDING)

    def _set_state(self, state):
        self.state = state
        self.ctx.queue_event(EVENT_OTA)

    # -- commands --------------------------------------------------------------------------------
    async def cmd_ota_query(self, cmd):
        arg = cmd.text().strip().upper()
        if arg not in ("", "DOC"):
            raise ModuleError(ERR_PARAMETER)
        detail = "%d %s" % (self.state, STATE_TEXT[self.state])
        if arg == "DOC" and self.state != IDLE:
            detail += " " + self._job_doc
        return ok_line(detail)

    async def cmd_ota(self, cmd):
        words = cmd.text().split()
        if not words:
            raise ModuleError(ERR_PARAMETER, "subcommand missing")
        verb = words[0].upper()
        args = words[1:]
        handler = {
            "ACCEPT": self._accept,
            "READ": self._read,
            "SEEK": self._seek,
            "CLOSE": self._close,
            "FLUSH": self._flush,
            "APPLY": self._apply,
        }.get(verb)
        if handler is None:
            raise ModuleError(ERR_PARAMETER, "unknown OTA subcommand")
        return handler(args)

    def _accept(self, args):
        _no_args(args)
        if self.state not in (OTA_PENDING, HOTA_PENDING):
            raise ModuleError(ERR_INVALID_OTA_UPDATE)
        self.state = IN_PROGRESS
        self.ctx.spawn(self._download())
        return ok_line()

    async def _download(self):
        await asyncio.sleep(self.download_time_s)
        if self.state != IN_PROGRESS:
            return
        if self._host:
            if self._signature_ok:
                self._set_state(HOTA_AVAILABLE)
            else:
                self.reports.append("failed")
                self._set_state(IDLE)
        else:
            self._set_state(READY_TO_REBOOT)

    def _require_image(self):
        if self.state != HOTA_AVAILABLE:
            raise ModuleError(ERR_NO_HOST_IMAGE)

    def _read(self, args):
        self._require_image()
        if len(args) != 1 or not is_decimal(args[0]) or int(args[0]) == 0:
            raise ModuleError(ERR_PARAMETER, "OTA READ {bytes}")
        count = min(int(args[0]), self.max_read)
        chunk = self._image[self._position:self._position + count]
        self._position += len(chunk)
        if not chunk:
            return ok_line("0")
        return ok_line("%X %s %04X" % (len(chunk), chunk.hex().upper(), checksum16(chunk)))

    def _seek(self, args):
        self._require_image()
        if len(args) > 1 or (args and not is_decimal(args[0])):
            raise ModuleError(ERR_PARAMETER, "OTA SEEK [address]")
        address = int(args[0]) if args else 0
        if address > len(self._image):
            raise ModuleError(ERR_INVALID_ADDRESS)
        self._position = address
        return ok_line("%X" % address)

    def _close(self, args):
        _no_args(args)
        self._require_image()
        self.reports.append("succeeded")
        self._finish()
        return ok_line()

    def _flush(self, args):
        _no_args(args)
        if self.state != IDLE:
            self.reports.append("failed")
        self._finish()
        return ok_line()

    def _apply(self, args):
        _no_args(args)
        if self.state == HOTA_AVAILABLE:
            raise ModuleError(ERR_INVALID_OTA_UPDATE, "host image: use OTA READ")
        if self.state != READY_TO_REBOOT:
            raise ModuleError(ERR_INVALID_OTA_UPDATE)
        if not self._signature_ok:
            self.reports.append("failed")
            self._finish()
            raise ModuleError(ERR_INVALID_SIGNATURE)
        self.reports.append("succeeded")
        self.ctx.config.install_version(self._version)
        self._finish()
        self.ctx.power.request_reboot("ota")
        return ok_line()

    def _finish(self):
        self.state = IDLE
        self._image = b""
        self._position = 0

    @property
    def image(self):
        return self._image


def _no_args(args):
    if args:
        raise ModuleError(ERR_PARAMETER)
