"""The badge's content (name, QR text, photo): checked, shown, kept on the drive.

Content arrives from the MQTT topics and from the device shadow. Everything is checked
first (size, version, CRC, UTF-8, type); only then does the screen change. A refusal is
logged with the reason, kept in ``error`` for the shadow report, and the last good
content stays. Accepted content is stored on the drive and the badge switches to its
screen. Nothing here touches the display: the photo goes to ``show_photo(raster)``
(1024 bytes of PBM raster), and the screens redraw when a ``*_rev`` counter moves.

``firmware.photo_format`` (the photo's checks) is imported only while content arrives
or is restored, and let go afterwards: about 5 KB of heap the badge needs only then.
"""

from firmware import VERSION, let_go
from firmware.content_limits import check_name, check_qr_text
from firmware.qr_layout import qr_layout
from firmware.state import SCREENS

KINDS = ("name", "qr", "photo")
# Boot shows the first of these that has content, else the climate screen.
_BOOT_SCREENS = ("name", "photo", "qr")
# Refusals that are also shown on the screen for a moment (seconds).
NOTICE_KINDS = ("qr",)
NOTICE_S = 4


class ContentManager:
    """Holds what is shown; ``on_change()`` is called whenever the report changes.

    ``state``: the BadgeState; ``store``: a DriveStore (or None: keep nothing);
    ``show_photo(raster)``: draws a checked raster (None without a display).
    """

    def __init__(self, state, store, log, show_photo=None, on_change=None):
        self._state = state
        self._store = store
        self._log = log
        self.show_photo = show_photo  # may be set later, once the screens exist
        self._on_change = on_change
        self.name = None  # str
        self.qr_text = None  # str
        self._qr = None  # QRLayout of qr_text, made when first drawn (see qr)
        self.photo_crc = None  # int: the CRC-32 the shown photo carries
        self.error = None  # the last refusal, until content is accepted again
        self.name_rev = 0
        self.qr_rev = 0
        self.photo_rev = 0

    def _changed(self):
        if self._on_change is not None:
            self._on_change()

    @property
    def qr(self):
        """The QR code of ``qr_text`` laid out on the full screen (None without text).

        Made on first use, normally by the display task: building the code in
        adafruit_miniqr is the deepest call chain on the badge, and the cloud session
        that receives the text is already deep (a shadow delta: session, events, twin,
        content) in CircuitPython's 1.5 KB Python stack.
        """
        if self._qr is None and self.qr_text is not None:
            self._qr = qr_layout(self.qr_text)
        return self._qr

    # -- refusing ---------------------------------------------------------------------
    def reject(self, kind, message, source):
        """Refuse content: log it, remember it for the report, keep the screen."""
        self._log("content", "refused %s from %s: %s" % (kind, source, message))
        self.error = message
        if kind in NOTICE_KINDS:
            self._state.show_notice("not shown: " + message, NOTICE_S)
        self._changed()

    # -- accepting ----------------------------------------------------------------------
    def receive(self, kind, payload, source):
        """New content of ``kind`` ("name", "qr", "photo"); True when it is shown.

        ``payload``: bytes from MQTT or str from the shadow. ``source`` names where it
        came from, for the console.
        """
        try:
            return self._receive(kind, payload, source)
        finally:
            let_go("photo_format")

    def _receive(self, kind, payload, source):
        try:
            if kind == "name":
                data = self._take_name(payload)
            elif kind == "qr":
                data = self._take_qr(payload)
            elif kind == "photo":
                data = self._take_photo(payload)
            else:
                raise ValueError("unknown content kind %r" % kind)
        except ValueError as why:  # PhotoError and UnicodeError are ValueErrors
            self.reject(kind, str(why), source)
            return False
        if data is None:
            # The same content again (a retained message on reconnect): nothing to
            # store, and the screen stays as the user left it.
            self._log("content", "%s from %s unchanged" % (kind, source))
            if self.error is not None:
                self.error = None
                self._changed()
            return True
        self._log("content", "%s from %s shown" % (kind, source))
        self.error = None
        if self._store is not None:
            self._store.save(kind, data)
        self._state.show_screen(kind)
        self._changed()
        return True

    def _take_name(self, payload):
        name = check_name(payload)
        if name == self.name:
            return None  # unchanged: nothing to store
        self.name = name
        self.name_rev += 1
        return name.encode("utf-8")

    def _take_qr(self, payload):
        data = check_qr_text(payload)
        text = str(data, "utf-8")
        if text == self.qr_text:
            return None
        self.qr_text = text
        self._qr = None  # laid out when first drawn: the slow part, once per new text
        self.qr_rev += 1
        return data

    def _take_photo(self, payload):
        from firmware.photo_format import decode_photo_binary, stored_crc

        binary, raster = decode_photo_binary(payload)
        if stored_crc(binary) == self.photo_crc:
            return None
        self._put_photo(binary, raster)
        return binary

    def _put_photo(self, binary, raster):
        from firmware.photo_format import FRAME_BYTES, stored_crc

        if self.show_photo is not None:
            self.show_photo(memoryview(binary)[raster:raster + FRAME_BYTES])
        self.photo_crc = stored_crc(binary)
        self.photo_rev += 1

    def choose_screen(self, name, source):
        """Switch to screen ``name`` (from the shadow); False when there is none."""
        if name not in SCREENS:
            self.reject("screen", "screen %r does not exist; choose one of %s"
                        % (name, ", ".join(SCREENS)), source)
            return False
        self._state.show_screen(name)
        self._changed()
        return True

    # -- the drive ----------------------------------------------------------------------
    def load(self):
        """Restore what the drive holds (each item checked again), pick the boot screen."""
        store = self._store
        if store is None:
            return
        restored = []
        for kind in KINDS:
            data = store.load(kind)
            if data is None:
                continue
            try:
                if kind == "name":
                    self._take_name(data)
                elif kind == "qr":
                    self._take_qr(data)
                else:
                    from firmware.photo_format import check_photo

                    self._put_photo(data, check_photo(data))
            except ValueError as why:
                self._log("storage", "ignoring the stored %s: %s" % (kind, why))
                continue
            restored.append(kind)
        let_go("photo_format")
        if restored:
            self._log("storage", "restored %s" % ", ".join(restored))
        for screen in _BOOT_SCREENS:
            if screen in restored:
                self._state.screen = screen
                break

    # -- the shadow ----------------------------------------------------------------------
    def reported(self):
        """The shadow's reported state: what the badge shows now (a dict for JSON)."""
        photo = None
        if self.photo_crc is not None:
            photo = {"crc": "%08X" % self.photo_crc}
        store = self._store
        reported = {
            "screen": self._state.screen,
            "name": self.name,
            "qr": self.qr_text,
            "photo": photo,
            "firmware": VERSION,
            "error": self.error,
            "storage": "drive" if store is not None and store.writable else "ram",
        }
        reading = self._state.reading
        if reading is not None and reading.mem is not None:
            reported["mem"] = reading.mem  # heap free (bytes) at the last reading
        return reported
