// Run-time bridges for the documented gaps of rp2040js 1.4.1 (listed in sim/engines/circuitpython/README.md).
// Each function patches one peripheral of an RP2040 instance; none edits the package.

const ROM_TABLE_POINTER = 0x14; // 16-bit pointer to the ROM's function table
const BKPT_ERASE = 0x30;
const BKPT_PROGRAM = 0x31;

function romCode(a, b) {
  return a.charCodeAt(0) | (b.charCodeAt(0) << 8);
}

function romHalf(mcu, address) {
  const word = mcu.bootrom[address >>> 2];
  return address & 2 ? word >>> 16 : word & 0xffff;
}

function setRomHalf(mcu, address, value) {
  const index = address >>> 2;
  const word = mcu.bootrom[index];
  mcu.bootrom[index] = address & 2 ? (word & 0xffff) | (value << 16) : (word & 0xffff0000) | value;
}

function romFunction(mcu, code) {
  let entry = romHalf(mcu, ROM_TABLE_POINTER);
  for (;;) {
    const entryCode = romHalf(mcu, entry);
    if (!entryCode) return null;
    if (entryCode === code) return romHalf(mcu, entry + 2) & ~1;
    entry += 4;
  }
}

/** Gap 1: flash erase and program, done in onBreak from BKPTs at the ROM's functions.
 *  `onFlash(kind, offset, length)` is told of each change (for the drive's write-back). */
export function bridgeFlashWrites(mcu, onFlash) {
  const erase = romFunction(mcu, romCode('R', 'E'));
  const program = romFunction(mcu, romCode('R', 'P'));
  if (erase == null || program == null) {
    throw new Error('bootrom has no flash_range_erase/flash_range_program');
  }
  setRomHalf(mcu, erase, 0xbe00 | BKPT_ERASE);
  setRomHalf(mcu, program, 0xbe00 | BKPT_PROGRAM);
  const core = mcu.core;
  mcu.onBreak = (code) => {
    const r = core.registers;
    if (code === BKPT_ERASE) {
      const offset = r[0] >>> 0;
      const count = r[1] >>> 0;
      mcu.flash.fill(0xff, offset, offset + count);
      onFlash('erase', offset, count);
    } else if (code === BKPT_PROGRAM) {
      const offset = r[0] >>> 0;
      const source = r[1] >>> 0;
      const count = r[2] >>> 0;
      for (let i = 0; i < count; i++) {
        mcu.flash[offset + i] &= mcu.readUint8(source + i); // NOR flash only clears bits
      }
      onFlash('program', offset, count);
    } else {
      throw new Error(`breakpoint ${code} at 0x${(core.PC >>> 0).toString(16)}`);
    }
    core.PC = core.LR & ~1;
  };
}

/** Gap 2: an aborted I2C transfer must also raise TX_EMPTY (pico-sdk waits for it). */
export function bridgeI2CAbort(i2c) {
  const abort = i2c.abort.bind(i2c);
  i2c.abort = (reason) => {
    abort(reason);
    i2c.setInterrupts(1 << 4);
  };
}

/** Gap 3: asserting an I2C block's bit in RESETS returns it to its power-on state. */
export function bridgeI2CReset(mcu) {
  const resets = mcu.peripherals[0x4000c];
  const write = resets.writeUint32.bind(resets);
  const blocks = [
    [3, mcu.i2c[0]],
    [4, mcu.i2c[1]],
  ];
  const fresh = blocks.map(([, i2c]) => snapshot(i2c));
  resets.writeUint32 = (offset, value) => {
    const before = resets.reset;
    write(offset, value);
    if (offset !== 0) return;
    blocks.forEach(([bit, i2c], index) => {
      if (resets.reset & (1 << bit) && !(before & (1 << bit))) {
        restore(i2c, fresh[index]);
      }
    });
  };
}

const I2C_STATE = [
  'state', 'busy', 'stop', 'pendingRestart', 'firstByte', 'enable', 'rxThreshold',
  'txThreshold', 'control', 'ssClockHighPeriod', 'ssClockLowPeriod', 'fsClockHighPeriod',
  'fsClockLowPeriod', 'targetAddress', 'slaveAddress', 'abortSource', 'intRaw', 'intEnable',
  'spikelen',
];

function snapshot(i2c) {
  return Object.fromEntries(I2C_STATE.map((key) => [key, i2c[key]]));
}

function restore(i2c, values) {
  Object.assign(i2c, values);
  i2c.rxFIFO.reset();
  i2c.txFIFO.reset();
  i2c.checkInterrupts();
}

/** Gap 4: BOOTSEL (the QSPI SS pad) reads released: reset pad value, input high. */
export function bridgeBootsel(mcu) {
  const ss = mcu.qspi[1];
  ss.padValue = 0x5a;
  ss.setInputValue(true);
}

/** Gap 6: inputs read low by default; `levels` maps GPIO numbers to their idle level. */
export function setIdleInputs(mcu, levels) {
  for (const [gpio, level] of Object.entries(levels)) {
    mcu.gpio[Number(gpio)].setInputValue(!!level);
  }
}

/** Gap 8 (found here): rp2040js's CDC host answers every OUT buffer the device arms at
 *  once, with zero bytes when it has nothing to send; TinyUSB re-arms it, and the CPU
 *  takes a USB interrupt every few microseconds, so it never sleeps in WFI. A real host
 *  sends only when it has data: hold the armed buffer until keys are typed.
 *  Returns `send(bytes)`, which types them. */
export function bridgeCdcOut(usb, cdc) {
  let armed = null; // size of the OUT buffer the device armed, while nothing is queued
  const deliver = (size) => {
    const buffer = new Uint8Array(Math.min(size, cdc.txFIFO.itemCount));
    for (let i = 0; i < buffer.length; i++) buffer[i] = cdc.txFIFO.pull();
    usb.endpointReadDone(cdc.outEndpoint, buffer);
  };
  usb.onEndpointRead = (endpoint, size) => {
    if (endpoint !== cdc.outEndpoint) return;
    if (cdc.txFIFO.itemCount === 0) {
      armed = size;
    } else {
      deliver(size);
    }
  };
  return (bytes) => {
    for (const byte of bytes) cdc.sendSerialByte(byte);
    if (armed !== null && cdc.txFIFO.itemCount > 0) {
      const size = armed;
      armed = null;
      deliver(size);
    }
  };
}
