"""Content kept on the CIRCUITPY drive: checked records, atomic writes, read-only drives.

Each item is one file ``badge_data/<name>.bin`` (relative to the working directory:
the drive's root on the badge) holding one record::

    offset  size  content
    0       4     magic b"BREC"
    4       1     record version, 1
    5       2     length N of the data, big-endian
    7       N     the data
    7+N     4     CRC-32 (as zlib.crc32) of bytes 0..6+N, big-endian

A write goes to ``<name>.tmp`` first (written, flushed, closed), then ``os.rename``
replaces the old file. On CircuitPython's FAT a rename onto an existing file removes
the old one first, so a power cut at that moment leaves only the complete temporary
file: loading falls back to a temporary file whose record checks out. A file that is
partial or corrupt is ignored with a console message, never used.

A read-only drive (OSError 30, EROFS: button A was held at power-up, so the computer
may write the drive instead) is reported once; the content then lives in RAM only.
"""

import errno
import os
import sys
from binascii import crc32  # built in on the badge

from micropython import const


DATA_DIR = "badge_data"
RECORD_MAGIC = b"BREC"
RECORD_VERSION = const(1)
_HEADER_BYTES = const(7)
_CRC_BYTES = const(4)
MAX_RECORD_DATA = const(4096)

# errno's numbers, not literals, where it has them: a MicroPython built for WASI uses
# other numbers than CircuitPython. Its errno lacks EROFS; CircuitPython reports a
# read-only drive as "[Errno 30] Read-only filesystem".
_EROFS = getattr(errno, "EROFS", 30)
_ENOENT = errno.ENOENT
_EEXIST = errno.EEXIST


def _errno(error):
    return error.args[0] if error.args else None


def pack_record(data):
    """The record bytes for ``data`` (bytes-like, at most MAX_RECORD_DATA bytes)."""
    size = len(data)
    if size > MAX_RECORD_DATA:
        raise ValueError("record data is %d bytes, at most %d" % (size, MAX_RECORD_DATA))
    record = bytearray(_HEADER_BYTES + size + _CRC_BYTES)
    record[0:4] = RECORD_MAGIC
    record[4] = RECORD_VERSION
    record[5] = size >> 8
    record[6] = size & 0xFF
    record[_HEADER_BYTES:_HEADER_BYTES + size] = data
    crc = crc32(memoryview(record)[:_HEADER_BYTES + size])
    at = _HEADER_BYTES + size
    record[at] = (crc >> 24) & 0xFF
    record[at + 1] = (crc >> 16) & 0xFF
    record[at + 2] = (crc >> 8) & 0xFF
    record[at + 3] = crc & 0xFF
    return record


def unpack_record(record):
    """The data inside ``record`` (bytes); ValueError saying what is wrong with it."""
    size = len(record)
    if size < _HEADER_BYTES + _CRC_BYTES:
        raise ValueError("only %d bytes (partial write?)" % size)
    if record[0:4] != RECORD_MAGIC:
        raise ValueError("not a badge record")
    if record[4] != RECORD_VERSION:
        raise ValueError("record version %d is not supported" % record[4])
    length = (record[5] << 8) | record[6]
    expected = _HEADER_BYTES + length + _CRC_BYTES
    if size != expected:
        raise ValueError("%d bytes, the record says %d (partial write?)" % (size, expected))
    at = _HEADER_BYTES + length
    stored = (record[at] << 24) | (record[at + 1] << 16) | (record[at + 2] << 8) | record[at + 3]
    if stored != crc32(memoryview(record)[:at]):
        raise ValueError("CRC mismatch (corrupted)")
    return bytes(record[_HEADER_BYTES:at])


def _write_file(path, data):
    """Write ``data`` to ``path`` and make sure it reached the drive."""
    with open(path, "wb") as file:
        file.write(data)
        file.flush()
    if sys.implementation.name == "circuitpython":
        os.sync()  # on a computer this would flush every disk: the badge only


def _read_file(path):
    """The bytes of ``path``, or None when there is no such file."""
    try:
        with open(path, "rb") as file:
            return file.read()
    except OSError as error:
        if _errno(error) == _ENOENT:
            return None
        raise


def _remove_quietly(path):
    try:
        os.remove(path)
    except OSError:
        pass


class DriveStore:
    """Named records in ``directory`` on the drive; ``log(topic, message)`` reports."""

    def __init__(self, log, directory=DATA_DIR):
        self._log = log
        self._dir = directory
        self.writable = True  # False once the drive turned out read-only

    def _path(self, name, suffix):
        return self._dir + "/" + name + suffix

    def _ensure_dir(self):
        try:
            os.mkdir(self._dir)
        except OSError as error:
            if _errno(error) != _EEXIST:
                raise

    def save(self, name, data):
        """Store ``data`` as record ``name``; True when it is safely on the drive.

        Failures are logged and leave the previous record in place.
        """
        if not self.writable:
            return False
        final = self._path(name, ".bin")
        temporary = self._path(name, ".tmp")
        try:
            record = pack_record(data)
            self._ensure_dir()
            _write_file(temporary, record)
            os.rename(temporary, final)
        except OSError as error:
            if _errno(error) == _EROFS:
                self.writable = False
                self._log("storage", "the drive is read-only (button A held at power-up?):"
                          " new content is kept in RAM until the badge restarts")
            else:
                self._log("storage", "could not store %s (%s); the previous copy stays"
                          % (name, error))
                _remove_quietly(temporary)
            return False
        return True

    def load(self, name):
        """The data of record ``name``, or None (missing, or unusable: logged)."""
        final = self._path(name, ".bin")
        temporary = self._path(name, ".tmp")
        data = self._load_file(final)
        if data is not None:
            if self._exists(temporary):
                self._log("storage", "ignoring %s: an interrupted write" % temporary)
                if self.writable:
                    _remove_quietly(temporary)
            return data
        data = self._load_file(temporary)
        if data is not None:
            # The rename was cut short: the new copy is complete, finish the job.
            self._log("storage", "recovered %s from %s" % (final, temporary))
            if self.writable:
                try:
                    os.rename(temporary, final)
                except OSError:
                    pass
        return data

    def _exists(self, path):
        try:
            os.stat(path)
        except OSError:
            return False
        return True

    def _load_file(self, path):
        try:
            record = _read_file(path)
        except OSError as error:
            self._log("storage", "cannot read %s (%s); ignored" % (path, error))
            return None
        if record is None:
            return None
        try:
            return unpack_record(record)
        except ValueError as why:
            self._log("storage", "ignoring %s: %s" % (path, why))
            return None

    def remove(self, name):
        """Forget record ``name`` (both files); quiet when there is none."""
        if self.writable:
            _remove_quietly(self._path(name, ".bin"))
            _remove_quietly(self._path(name, ".tmp"))
