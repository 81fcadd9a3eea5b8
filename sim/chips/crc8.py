"""The Sensirion CRC-8 of a data word: poly 0x31, init 0xFF, no reflection, no final XOR."""

_POLY = 0x31
_INIT = 0xFF


def crc8(data):
    """CRC-8 of ``data`` (bytes; the SHT3x sends it over each 2-byte word)."""
    crc = _INIT
    for byte in data:
        crc ^= byte
        for _ in range(8):
            if crc & 0x80:
                crc = ((crc << 1) ^ _POLY) & 0xFF
            else:
                crc = (crc << 1) & 0xFF
    return crc


def word_with_crc(word):
    """A 16-bit word as the SHT3x sends it: MSB, LSB, CRC (3 bytes)."""
    pair = bytes(((word >> 8) & 0xFF, word & 0xFF))
    return pair + bytes((crc8(pair),))
