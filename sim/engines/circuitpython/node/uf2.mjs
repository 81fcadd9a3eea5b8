// UF2 files: 512-byte blocks, each carrying up to 476 bytes for one flash address.
const MAGIC_START0 = 0x0a324655;
const MAGIC_START1 = 0x9e5d5157;
const MAGIC_END = 0x0ab16f30;
const FLASH_BASE = 0x10000000;

/** Write every block of `data` (a Buffer) into `flash` (Uint8Array from flash offset 0). */
export function loadUF2(data, flash) {
  let blocks = 0;
  for (let offset = 0; offset + 512 <= data.length; offset += 512) {
    const view = new DataView(data.buffer, data.byteOffset + offset, 512);
    if (view.getUint32(0, true) !== MAGIC_START0 || view.getUint32(4, true) !== MAGIC_START1 ||
        view.getUint32(508, true) !== MAGIC_END) {
      throw new Error(`not a UF2 block at byte ${offset}`);
    }
    const target = view.getUint32(12, true);
    const size = view.getUint32(16, true);
    flash.set(data.subarray(offset + 32, offset + 32 + size), target - FLASH_BASE);
    blocks += 1;
  }
  return blocks;
}
