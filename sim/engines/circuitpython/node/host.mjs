// The RP2040 running the official CircuitPython UF2, in lockstep with the Python side.
//
// Usage: node host.mjs CONFIG.json   (the Python launcher writes CONFIG and opens the
// link's pipes as file descriptors `fdIn` / `fdOut`). The emulated clock is the master:
// the CPU runs until Python's deadline or until something it did must reach Python
// (a UART byte arriving at the module, an output pin change, an I2C question), then
// syncs. While the CPU waits for an interrupt (WFI), time jumps to the next alarm.
import fs from 'node:fs';
import { ConsoleLogger, GPIOPinState, LogLevel, RP2040, USBCDC } from 'rp2040js';
import { bridgeBootsel, bridgeCdcOut, bridgeFlashWrites, bridgeI2CAbort, bridgeI2CReset, setIdleInputs } from './gaps.mjs';
import { BitBangBridge, I2CBlockBridge, localChips } from './i2c.mjs';
import { Link, toHex } from './link.mjs';
import { UARTBridge } from './uart.mjs';
import { loadUF2 } from './uf2.mjs';
import { IdleSkip } from './idle.mjs';

const CYCLE_NANOS = 1e9 / 125e6;
const DRIVE_OFFSET = 0x100000;
const DRIVE_BYTES = 0x100000;

class Host {
  constructor(config) {
    this.config = config;
    const mcu = (this.mcu = new RP2040());
    mcu.logger = new ConsoleLogger(LogLevel.Error, false);
    mcu.loadBootrom(new Uint32Array(new Uint8Array(fs.readFileSync(config.bootrom)).buffer));
    loadUF2(fs.readFileSync(config.uf2), mcu.flash);
    mcu.flash.set(fs.readFileSync(config.image), DRIVE_OFFSET);
    this.deadline = 0;
    this.syncAt = Infinity;
    this.stopping = false;
    this.instructions = 0;
    this.idleNanos = 0;
    this.stats = { transactions: 0, flashWrites: 0 };
    this.link = new Link(config.fdIn, config.fdOut, mcu.clock);
    this.link.onReply = (reply) => this.apply(reply);
    this.uart = new UARTBridge(mcu, mcu.uart[0], this.link, this);
    const call = this.link.call.bind(this.link);
    this.link.call = (req) => {
      this.uart.flush();
      this.syncAt = Infinity;
      return call(req);
    };
    bridgeFlashWrites(mcu, () => {
      this.stats.flashWrites += 1;
    });
    bridgeI2CAbort(mcu.i2c[0]);
    bridgeI2CReset(mcu);
    bridgeBootsel(mcu);
    setIdleInputs(mcu, config.idle || {});
    const ask = config.localChips ? localChips(config.localChips) : (request) => this.link.call(request);
    this.i2c = new I2CBlockBridge(mcu, mcu.i2c[0], ask, this.stats);
    this.bitbang = new BitBangBridge(mcu, config.sda, config.scl, ask, this.stats);
    this.uart.local = !!config.localChips;
    this.watchOutputs(config.outputs || []);
    this.startConsole();
    this.idle = config.idleLoop ? new IdleSkip(mcu, config.idleLoop) : null;
    mcu.core.PC = 0x10000000;
  }

  /** Sync no later than `nanos` (a UART byte arriving, an output changing). */
  syncBy(nanos) {
    if (nanos < this.syncAt) this.syncAt = nanos;
  }

  watchOutputs(indexes) {
    const mcu = this.mcu;
    this.outputLevels = {};
    for (const index of indexes) {
      const pin = mcu.gpio[index];
      const level = () => (pin.value === GPIOPinState.Low || pin.value === GPIOPinState.InputPullDown ? 0 : 1);
      this.outputLevels[index] = level();
      pin.addListener(() => {
        const now = level();
        if (now === this.outputLevels[index]) return;
        this.outputLevels[index] = now;
        this.link.event(['pin', index, now]);
        this.syncBy(mcu.clock.nanos);
      });
    }
  }

  startConsole() {
    const cdc = (this.cdc = new USBCDC(this.mcu.usbCtrl));
    this.typeKeys = bridgeCdcOut(this.mcu.usbCtrl, cdc);
    cdc.onDeviceConnected = () => {
      this.link.event(['usb']);
      this.syncBy(this.mcu.clock.nanos);
    };
    cdc.onSerialData = (buffer) => {
      this.link.event(['con', toHex(buffer), Math.round(this.mcu.clock.nanos)]);
      this.syncBy(this.mcu.clock.nanos); // scripts act on console lines at their time
    };
  }

  apply(reply) {
    this.deadline = reply.dl;
    if (reply.rx) {
      for (const [first, step, hex] of reply.rx) this.uart.receive(first, step, hex);
    }
    if (reply.pins) {
      for (const [index, level] of reply.pins) {
        if (index === this.config.sda || index === this.config.scl) continue;
        this.mcu.gpio[index].setInputValue(!!level);
      }
    }
    if (reply.keys) this.typeKeys(Buffer.from(reply.keys, 'hex'));
    if (reply.stop) this.stopping = true;
  }

  run() {
    const { core, clock } = this.mcu;
    const idle = this.idle;
    let trace = this.config.trace || null;
    this.link.call({ op: 'hello' });
    while (!this.stopping) {
      let limit = Math.min(this.deadline, this.syncAt);
      while (clock.nanosCounter < limit) {
        if (core.waiting) {
          const next = clock.nextAlarm ? clock.nextAlarm.nanos : Infinity;
          const wait = Math.min(next, limit) - clock.nanosCounter;
          this.idleNanos += wait;
          clock.tick(wait);
        } else {
          if (idle !== null && core.PC === idle.head && !core.IPSR) idle.visit(limit);
          if (trace !== null && clock.nanosCounter >= trace.at) this.record(trace);
          clock.tick(core.executeInstruction() * CYCLE_NANOS);
          this.instructions += 1;
        }
        limit = Math.min(this.deadline, this.syncAt);
      }
      this.link.call(null);
    }
    this.finish();
  }

  /** Keep [pc, sp, ipsr] of `trace.count` instructions, then write them to `trace.path`. */
  record(trace) {
    const core = this.mcu.core;
    const traced = (this.traced = this.traced || []);
    if (traced.length >= trace.count) return;
    traced.push([core.PC, core.SP, core.IPSR]);
    if (traced.length === trace.count) {
      fs.writeFileSync(trace.path, JSON.stringify(traced));
      this.stopping = true;
      this.deadline = 0; // ends the run at once
    }
  }

  finish() {
    if (this.config.imageOut) {
      fs.writeFileSync(this.config.imageOut, this.mcu.flash.subarray(DRIVE_OFFSET, DRIVE_OFFSET + DRIVE_BYTES));
    }
    this.link.event(['stats', { ...this.stats, syncs: this.link.syncs, instructions: this.instructions, idleNanos: Math.round(this.idleNanos), skippedNanos: this.idle ? Math.round(this.idle.skippedNanos) : 0, skips: this.idle ? this.idle.skips : 0, uartSent: this.uart.bytesSent, uartReceived: this.uart.bytesReceived }]);
    this.link.call({ op: 'bye' });
  }
}

const config = JSON.parse(fs.readFileSync(process.argv[2], 'utf8'));
try {
  new Host(config).run();
} catch (error) {
  process.stderr.write(`circuitpython engine: ${error.stack || error}\n`);
  process.exit(1);
}
