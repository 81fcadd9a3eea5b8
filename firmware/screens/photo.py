"""Photo screen: the last good photo, full-screen, from one preallocated bitmap."""

import displayio

from firmware.screens.widgets import Hint, full_screen_bitmap, placeholder_lines

_FULL_SCREEN = (0, 0, 0, 0)


class PhotoScreen:
    name = "photo"
    ticking = False

    def __init__(self, content):
        self._content = content
        self.group = displayio.Group()
        # The one bitmap every photo is drawn into: no new allocation per photo.
        self.bitmap, tile = full_screen_bitmap()
        self._photo = displayio.Group()
        self._photo.append(tile)
        self.group.append(self._photo)
        self._hint = Hint(self.group)
        self._photo.hidden = True

    def show_raster(self, raster):
        """Draw a checked photo raster (1024 bytes of PBM P4) into the bitmap."""
        from firmware.photo_format import blit_photo  # let go by the content manager

        blit_photo(raster, self.bitmap)

    def update(self, state, now_ms):
        has_photo = self._content.photo_crc is not None
        self._photo.hidden = not has_photo
        if has_photo:
            self._hint.drop()
        else:
            self._hint.show(placeholder_lines("photo", "photo", state.thing_name, "IMAGE"))

    def margins(self):
        """A photo fills the panel: it never shifts."""
        if self._content.photo_crc is not None:
            return _FULL_SCREEN
        return self._hint.margins()
