"""A FAT12 image of a folder: the CIRCUITPY drive as the RP2040's flash holds it.

CircuitPython on the Raspberry Pi Pico keeps CIRCUITPY at flash offset 0x100000, 1 MiB
long, 512-byte sectors. :func:`build_image` writes a fresh FAT12 volume (one sector
per cluster, one FAT, 512 root entries, label CIRCUITPY) holding every file under a
folder, with long file names (VFAT) so names such as ``adafruit_sht31d.mpy`` survive.
:func:`read_files` reads such a volume back (for files the badge wrote). Timestamps
are a fixed date so the same folder gives the same image, byte for byte.
"""

import struct
from pathlib import Path

SECTOR = 512
IMAGE_BYTES = 1024 * 1024
_TOTAL_SECTORS = IMAGE_BYTES // SECTOR
_RESERVED = 1
_ROOT_ENTRIES = 512
_ROOT_SECTORS = _ROOT_ENTRIES * 32 // SECTOR
_FAT_SECTORS = 6  # 2048 clusters * 1.5 bytes / 512, rounded up
_DATA_START = _RESERVED + _FAT_SECTORS + _ROOT_SECTORS
_CLUSTERS = _TOTAL_SECTORS - _DATA_START
_FAT_DATE = ((2026 - 1980) << 9) | (1 << 5) | 1  # 2026-01-01
_ATTR_DIR, _ATTR_ARCHIVE, _ATTR_LFN = 0x10, 0x20, 0x0F


class DriveFull(Exception):
    """The folder does not fit on a 1 MiB CIRCUITPY drive."""


def _boot_sector():
    sector = bytearray(SECTOR)
    sector[0:3] = b"\xEB\x3C\x90"
    sector[3:11] = b"MSDOS5.0"
    struct.pack_into("<HBHBHHBHHHII", sector, 11, SECTOR, 1, _RESERVED, 1, _ROOT_ENTRIES,
                     _TOTAL_SECTORS, 0xF8, _FAT_SECTORS, 32, 2, 0, 0)
    struct.pack_into("<BBBI11s8s", sector, 36, 0x80, 0, 0x29, 0x0BAD9E00,
                     b"CIRCUITPY  ", b"FAT12   ")
    sector[510:512] = b"\x55\xAA"
    return sector


def _short_name(name, taken):
    """An 8.3 name (11 bytes) for ``name``; a plain upper-case 8.3 name is kept as is."""
    stem, dot, ext = name.rpartition(".") if "." in name[1:] else (name, "", "")
    clean = lambda text: "".join(c for c in text.upper() if c.isalnum() or c in "_-~")
    if name == name.upper() and len(stem) <= 8 and len(ext) <= 3 and clean(stem) == stem \
            and clean(ext) == ext:
        return (stem.ljust(8) + ext.ljust(3)).encode("ascii"), False
    base, ext3 = clean(stem)[:6] or "FILE", clean(ext)[:3]
    for number in range(1, 100):
        tail = "~%d" % number
        short = ((base[:8 - len(tail)] + tail).ljust(8) + ext3.ljust(3)).encode("ascii")
        if short not in taken:
            return short, True
    raise DriveFull("too many similar names in one folder")


def _checksum(short):
    total = 0
    for byte in short:
        total = (((total & 1) << 7) + (total >> 1) + byte) & 0xFF
    return total


def _lfn_entries(name, short):
    """The VFAT entries spelling ``name``, last part first, as they precede the 8.3 one."""
    units = name.encode("utf-16-le")
    chars = [units[i:i + 2] for i in range(0, len(units), 2)] + [b"\x00\x00"]
    parts = [chars[i:i + 13] for i in range(0, len(chars), 13)]
    if parts[-1] == [b"\x00\x00"] and len(parts) > 1:
        parts.pop()
    entries = []
    for index, part in enumerate(parts, 1):
        part = part + [b"\xff\xff"] * (13 - len(part))
        order = index | (0x40 if index == len(parts) else 0)
        entry = bytearray(32)
        entry[0] = order
        entry[1:11] = b"".join(part[0:5])
        entry[11], entry[13] = _ATTR_LFN, _checksum(short)
        entry[14:26] = b"".join(part[5:11])
        entry[28:32] = b"".join(part[11:13])
        entries.append(bytes(entry))
    return list(reversed(entries))


def _dir_entry(short, attr, cluster, size):
    entry = bytearray(32)
    entry[0:11] = short
    struct.pack_into("<BBBHHHHHHHI", entry, 11, attr, 0, 0, 0, _FAT_DATE, _FAT_DATE, 0, 0,
                     _FAT_DATE, cluster, size)
    return bytes(entry)


class _Volume:
    def __init__(self):
        self.image = bytearray(IMAGE_BYTES)
        self.fat = [0] * (_CLUSTERS + 2)
        self.fat[0], self.fat[1] = 0xFF8, 0xFFF
        self.next_cluster = 2

    def allocate(self, data):
        """Store ``data`` in a chain of clusters; returns the first (0 for no data)."""
        count = -(-len(data) // SECTOR)
        if count == 0:
            return 0
        first = self.next_cluster
        if first + count > _CLUSTERS + 2:
            raise DriveFull("the files need more than the drive's %d KiB" % (IMAGE_BYTES // 1024))
        for index in range(count):
            cluster = first + index
            self.fat[cluster] = cluster + 1 if index < count - 1 else 0xFFF
            offset = (_DATA_START + cluster - 2) * SECTOR
            chunk = data[index * SECTOR:(index + 1) * SECTOR]
            self.image[offset:offset + len(chunk)] = chunk
        self.next_cluster += count
        return first

    def entries_for(self, folder, own_cluster, parent_cluster):
        """Directory entries of ``folder`` (recursively storing its contents)."""
        entries = []
        if own_cluster is not None:
            entries.append(_dir_entry(b".          ", _ATTR_DIR, own_cluster, 0))
            entries.append(_dir_entry(b"..         ", _ATTR_DIR, parent_cluster, 0))
        taken = set()
        for path in sorted(folder.iterdir(), key=lambda p: p.name):
            if path.name.startswith(".") and path.name not in (".metadata_never_index",):
                continue
            short, needs_lfn = _short_name(path.name, taken)
            taken.add(short)
            if needs_lfn:
                entries.extend(_lfn_entries(path.name, short))
            if path.is_dir():
                cluster = self.store_dir(path, own_cluster or 0)
                entries.append(_dir_entry(short, _ATTR_DIR, cluster, 0))
            else:
                data = path.read_bytes()
                entries.append(_dir_entry(short, _ATTR_ARCHIVE, self.allocate(data), len(data)))
        return entries

    def store_dir(self, folder, parent_cluster):
        # The folder's own cluster must be known before its "." entry is written:
        # reserve clusters for a generous size first, then fill them.
        count_guess = sum(1 for _ in folder.iterdir()) * 3 + 2
        sectors = -(-count_guess * 32 // SECTOR)
        first = self.allocate(b"\0" * sectors * SECTOR)
        data = b"".join(self.entries_for(folder, first, parent_cluster))
        if len(data) > sectors * SECTOR:
            raise DriveFull("folder %s has too many entries" % folder)
        offset = (_DATA_START + first - 2) * SECTOR
        self.image[offset:offset + len(data)] = data
        return first

    def finish(self, root_entries):
        if len(root_entries) > _ROOT_ENTRIES:
            raise DriveFull("too many entries at the top of the drive")
        self.image[0:SECTOR] = _boot_sector()
        fat = bytearray(_FAT_SECTORS * SECTOR)
        for cluster in range(0, len(self.fat), 2):
            low = self.fat[cluster]
            high = self.fat[cluster + 1] if cluster + 1 < len(self.fat) else 0
            struct.pack_into("<I", fat, cluster * 3 // 2, low | (high << 12))
        fat = fat[:_FAT_SECTORS * SECTOR]
        self.image[_RESERVED * SECTOR:(_RESERVED + _FAT_SECTORS) * SECTOR] = fat
        root = b"".join(root_entries)
        label = _dir_entry(b"CIRCUITPY  ", 0x08, 0, 0)
        start = (_RESERVED + _FAT_SECTORS) * SECTOR
        self.image[start:start + 32] = label
        self.image[start + 32:start + 32 + len(root)] = root
        return bytes(self.image)


def build_image(folder):
    """The 1 MiB FAT12 image (bytes) of everything under ``folder``."""
    volume = _Volume()
    entries = volume.entries_for(Path(folder), None, 0)
    return volume.finish(entries)


def read_files(image):
    """{relative path: bytes} of every file on a FAT12 image such as :func:`build_image`
    makes (and CircuitPython writes); long names are used where present."""
    bytes_per_sector, per_cluster, reserved, fats, root_entries = struct.unpack_from(
        "<HBHBH", image, 11)
    fat_sectors = struct.unpack_from("<H", image, 22)[0]
    fat_start = reserved * bytes_per_sector
    root_start = fat_start + fats * fat_sectors * bytes_per_sector
    data_start = root_start + root_entries * 32
    cluster_bytes = per_cluster * bytes_per_sector

    def next_of(cluster):
        word = struct.unpack_from("<H", image, fat_start + cluster * 3 // 2)[0]
        return word >> 4 if cluster & 1 else word & 0xFFF

    def chain(cluster):
        while 2 <= cluster < 0xFF8:
            yield data_start + (cluster - 2) * cluster_bytes
            cluster = next_of(cluster)

    def entries(raw):
        long_parts = []
        for offset in range(0, len(raw) - 31, 32):
            entry = raw[offset:offset + 32]
            if entry[0] == 0:
                return
            if entry[0] == 0xE5:
                long_parts = []
                continue
            if entry[11] == _ATTR_LFN:
                text = entry[1:11] + entry[14:26] + entry[28:32]
                long_parts.insert(0, text.decode("utf-16-le", "replace"))
                continue
            name = "".join(long_parts).split("\0")[0]
            long_parts = []
            if not name:
                stem, ext = entry[0:8].decode("ascii", "replace").strip(), \
                    entry[8:11].decode("ascii", "replace").strip()
                name = stem + ("." + ext if ext else "")
            attr = entry[11]
            cluster, size = struct.unpack_from("<HI", entry, 26)
            yield name, attr, cluster, size

    files = {}

    def walk(raw, prefix):
        for name, attr, cluster, size in entries(raw):
            if name in (".", "..") or attr & 0x08:
                continue
            if attr & _ATTR_DIR:
                walk(b"".join(image[o:o + cluster_bytes] for o in chain(cluster)),
                     prefix + name + "/")
            else:
                data = b"".join(image[o:o + cluster_bytes] for o in chain(cluster))
                files[prefix + name] = data[:size]

    walk(image[root_start:data_start], "")
    return files
