"""What a 128x64 SSD1306 module shows: GDDRAM through COM/SEG mapping to panel pixels.

From the SSD1306 datasheet (Solomon Systech), Tables 10-1..10-3. With
N = multiplex ratio, D = display offset, S = start line, COM output c shows

- C0 (normal scan): ``r = (c + D) mod 64``; C8 (remapped): ``r = N - 1 - ((c - D) mod 64)``;
  COM c stays dark unless ``0 <= r < N``;
- RAM row ``R = (r + S) mod 64``: page ``R >> 3``, bit ``R & 7``.

The COM pin configuration (DA) routes COM c to a panel row (``com_to_row``), wired so the
reset value 0x12 is the identity; the module is mounted so that ``x = 127 - seg`` and
``y = 63 - panel_row``. Pixel: dark when the panel is unpowered; lit for A5 (entire
display on, beats A7); otherwise the RAM bit, XOR 1 for inverse (A7).
"""

WIDTH = 128
HEIGHT = 64


def com_to_row(com_pins):
    """Panel row of each COM output 0..63 for a DA value (only bits 4 and 5 matter).

    Bit 4 = alternative (1) / sequential (0) COM pins, bit 5 = COM left/right remap.
    """
    alternative = bool(com_pins & 0x10)
    remap = bool(com_pins & 0x20)
    rows = []
    for c in range(HEIGHT):
        if alternative:
            row = c ^ 1 if remap else c
        elif c < 32:
            row = 2 * c + 1 if remap else 2 * c
        else:
            row = 2 * (c - 32) if remap else 2 * (c - 32) + 1
        rows.append(row)
    return rows


def ram_row_of_com(com, multiplex_ratio, display_offset, start_line, com_scan_reversed):
    """The GDDRAM row (0..63) that COM output ``com`` shows, or None when not scanned."""
    n = multiplex_ratio
    if com_scan_reversed:
        r = n - 1 - ((com - display_offset) % HEIGHT)
    else:
        r = (com + display_offset) % HEIGHT
    if not 0 <= r < n:
        return None
    return (r + start_line) % HEIGHT


def panel_pixels(chip):
    """The lit pixels of ``chip`` (an SSD1306), 64 x 128 bytes of 0/1, index y*128 + x."""
    out = bytearray(WIDTH * HEIGHT)
    if not chip.panel_lit:
        return bytes(out)
    invert = 1 if chip.inverted else 0
    rows = com_to_row(chip.com_pins)
    ram = chip.ram
    for com in range(HEIGHT):
        ram_row = ram_row_of_com(
            com,
            chip.multiplex_ratio,
            chip.display_offset,
            chip.start_line,
            chip.com_scan_reversed,
        )
        if ram_row is None:
            continue
        y_base = (HEIGHT - 1 - rows[com]) * WIDTH
        if chip.entire_on:
            out[y_base : y_base + WIDTH] = b"\x01" * WIDTH
            continue
        ram_base = (ram_row >> 3) * WIDTH
        bit = ram_row & 7
        for seg in range(WIDTH):
            out[y_base + WIDTH - 1 - seg] = ((ram[ram_base + seg] >> bit) & 1) ^ invert
    return bytes(out)


def pixels_to_image(pixels, scale=1):
    """A PIL image (mode "1", white = lit) of 128x64 0/1 ``pixels``, ``scale`` x bigger."""
    from PIL import Image

    gray = bytes(255 if v else 0 for v in pixels)
    image = Image.frombytes("L", (WIDTH, HEIGHT), gray)
    image = image.convert("1", dither=Image.Dither.NONE)
    if scale != 1:
        image = image.resize((WIDTH * scale, HEIGHT * scale), Image.NEAREST)
    return image
