// I2C0 to the Python chip emulators: through the I2C block and through bit-banged pins.
//
// No chip is modelled here. Each transaction asks Python at its exact emulated time:
// `ack` when the address byte ends (a read also fetches the chip's answer then), and
// `write` with the data bytes when the last one before STOP ends (the chip's answer is
// that byte's ACK or NACK), or at a repeated START.
// Bytes cost their wire time: START 1 SCL period, address and each data byte 9, STOP 1,
// the period taken from the block's SCL counts (CircuitPython sets 400 kHz).
import { GPIOPinState } from 'rp2040js';
import { fromHex, toHex } from './link.mjs';

const READ_AHEAD = 64; // bytes fetched from a chip when a read transaction starts
const R_TX_EMPTY = 1 << 4;

// `ask(request)` answers an I2C question: Python's chips through the link, or (for the
// bench's zero-cost baseline) `localChips`.
export function localChips(addresses) {
  const present = new Set(addresses);
  return (request) => ({ ack: request.op === 'write' || present.has(request.addr), data: '', busy: 0 });
}

export class I2CBlockBridge {
  constructor(mcu, i2c, ask, stats) {
    this.mcu = mcu;
    this.i2c = i2c;
    this.ask = ask;
    this.stats = stats;
    this.open = null; // {address, read, acked, data: [], answer, position}
    this.holdTxEmpty = false;
    const setInterrupts = i2c.setInterrupts.bind(i2c);
    i2c.setInterrupts = (mask) => setInterrupts(this.holdTxEmpty ? mask & ~R_TX_EMPTY : mask);
    this.pending = null;
    this.alarm = mcu.clock.createAlarm(() => {
      const action = this.pending;
      this.pending = null;
      action();
    });
    i2c.onStart = () => {
      this.finishWrite();
      this.after(1, () => i2c.completeStart());
    };
    i2c.onConnect = (address, mode) => this.connect(address, mode === 1);
    i2c.onWriteByte = (value) => {
      const open = this.open;
      if (open) open.data.push(value);
      if (open && i2c.stop) {
        // The last byte before STOP: the chip takes the data as the byte ends and may
        // refuse it (NACK), which CircuitPython reports as an I/O error. As on the chip
        // (IC_CON.TX_EMPTY_CTRL, which pico-sdk sets), TX_EMPTY rises only when this
        // byte has left, so pico-sdk sees the NACK's abort: rp2040js raises it at once.
        this.holdTxEmpty = true;
        this.after(9, () => {
          const ack = this.sendWrite();
          this.holdTxEmpty = false;
          if (ack) i2c.setInterrupts(R_TX_EMPTY);
          i2c.completeWrite(ack);
        });
      } else {
        this.after(9, () => i2c.completeWrite(true));
      }
    };
    i2c.onReadByte = () => {
      const open = this.open;
      let value = 0xff;
      if (open && open.position < open.answer.length) value = open.answer[open.position];
      if (open) open.position += 1;
      this.after(9, () => i2c.completeRead(value));
    };
    i2c.onStop = () => {
      this.finishWrite();
      this.open = null;
      this.after(1, () => i2c.completeStop());
    };
  }

  bitNanos() {
    const i2c = this.i2c;
    const cycles = i2c.sclHighPeriod + i2c.sclLowPeriod;
    return cycles > 0 ? (cycles * 1e9) / this.mcu.clkSys : 2500;
  }

  after(bits, action, extraNanos = 0) {
    this.pending = action;
    this.alarm.schedule(bits * this.bitNanos() + extraNanos);
  }

  connect(address, read) {
    const answer = this.ask({ op: 'ack', addr: address, dir: read ? 'r' : 'w', n: READ_AHEAD });
    this.stats.transactions += 1;
    this.open = {
      address,
      read,
      acked: answer.ack,
      data: [],
      answer: answer.data ? fromHex(answer.data) : [],
      position: 0,
    };
    const ack = answer.ack;
    this.after(9, () => this.i2c.completeConnect(ack), answer.busy || 0);
  }

  /** Hand the open write transaction's data to the chip once; true if it took it. */
  sendWrite() {
    const open = this.open;
    if (!open || open.read || !open.acked || open.sent) return true;
    open.sent = true;
    return this.ask({ op: 'write', addr: open.address, data: toHex(open.data) }).ack;
  }

  /** A write that ends without a data NACK (a repeated START, or STOP after a NACK). */
  finishWrite() {
    this.sendWrite();
    this.open = null;
  }
}

// Bit-banged transfers on GPIO (CircuitPython's scan() and zero-length writes): the line
// level is high unless the RP2040 or the chip pulls it low; the chip ACKs by pulling SDA
// low during the ninth clock.
export class BitBangBridge {
  constructor(mcu, sdaIndex, sclIndex, ask, stats) {
    this.sda = mcu.gpio[sdaIndex];
    this.scl = mcu.gpio[sclIndex];
    this.ask = ask;
    this.stats = stats;
    this.chipHoldsSda = false;
    this.lastSda = true;
    this.lastScl = true;
    this.phase = 'idle'; // idle | address | data | read
    this.bits = 0;
    this.byte = 0;
    this.address = 0;
    this.data = [];
    this.acked = false;
    this.sda.addListener(() => this.update());
    this.scl.addListener(() => this.update());
    this.drive();
  }

  drive() {
    const sdaLevel = this.sda.value !== GPIOPinState.Low && !this.chipHoldsSda;
    const sclLevel = this.scl.value !== GPIOPinState.Low;
    if (this.sda.rawInputValue !== sdaLevel) this.sda.setInputValue(sdaLevel);
    if (this.scl.rawInputValue !== sclLevel) this.scl.setInputValue(sclLevel);
    return [sdaLevel, sclLevel];
  }

  update() {
    const [sda, scl] = this.drive();
    const wasSda = this.lastSda;
    const wasScl = this.lastScl;
    this.lastSda = sda;
    this.lastScl = scl;
    if (scl && wasScl && sda !== wasSda) {
      if (!sda) this.start();
      else this.stop();
    } else if (scl && !wasScl) {
      this.clockRise(sda);
    } else if (!scl && wasScl) {
      this.clockFall();
    }
  }

  start() {
    this.finishWrite();
    this.phase = 'address';
    this.bits = 0;
    this.byte = 0;
    this.data = [];
  }

  stop() {
    this.finishWrite();
    this.phase = 'idle';
    this.release();
  }

  finishWrite() {
    if (this.phase === 'data' && this.acked) {
      this.ask({ op: 'write', addr: this.address, data: toHex(this.data) });
    }
    this.acked = false;
  }

  clockRise(sda) {
    if ((this.phase === 'address' || this.phase === 'data') && this.bits < 8) {
      this.byte = ((this.byte << 1) | (sda ? 1 : 0)) & 0xff;
      this.bits += 1;
    }
  }

  clockFall() {
    if (this.phase === 'idle' || this.phase === 'read') return;
    if (this.bits === 8) {
      this.bits = 9; // the ACK clock begins
      if (this.phase === 'address') {
        this.address = this.byte >> 1;
        const read = !!(this.byte & 1);
        const answer = this.ask({ op: 'ack', addr: this.address, dir: read ? 'r' : 'w', n: 0 });
        this.stats.transactions += 1;
        this.acked = answer.ack;
        this.hold(this.acked);
        if (read) this.phase = 'read'; // answered with released SDA: 0xFF bytes
      } else {
        this.data.push(this.byte);
        this.hold(true);
      }
    } else if (this.bits === 9) {
      this.release();
      this.bits = 0;
      this.byte = 0;
      if (this.phase === 'address') this.phase = this.acked ? 'data' : 'idle';
    }
  }

  hold(low) {
    this.chipHoldsSda = low;
    this.drive();
  }

  release() {
    this.hold(false);
  }
}
