// The lockstep link to the Python side: one JSON line out, one JSON line back, blocking.
//
// Every message is a sync at the RP2040's current emulated time `t` (integer ns): it
// carries what the RP2040 did since the last sync (`ev`) and an optional request (`req`,
// an I2C question that needs its answer now). Python runs its own loop up to `t`, applies
// the events, answers, and says until when the RP2040 may run before the next sync
// (`dl`), plus UART bytes to feed (`rx`), input pin levels (`pins`) and console keys.
import fs from 'node:fs';

export class Link {
  /** fdIn / fdOut: pipe file descriptors shared with the Python process. */
  constructor(fdIn, fdOut, clock) {
    this.fdIn = fdIn;
    this.fdOut = fdOut;
    this.clock = clock;
    this.events = [];
    this.buffer = Buffer.alloc(1 << 16);
    this.pending = '';
    this.onReply = null; // function(reply), set by the host
    this.syncs = 0;
    this.wallNanos = 0n; // wall time spent blocked in calls: the bridge's cost
  }

  /** Queue an event for the next sync: [kind, ...fields]. */
  event(item) {
    this.events.push(item);
  }

  /** Sync now; returns the reply's answer to `req` (or undefined). */
  call(req) {
    const started = process.hrtime.bigint();
    const message = { t: Math.round(this.clock.nanos), w: Number(this.wallNanos), ev: this.events };
    if (req) message.req = req;
    this.events = [];
    this.syncs += 1;
    writeAll(this.fdOut, JSON.stringify(message) + '\n');
    const reply = JSON.parse(this.readLine());
    this.wallNanos += process.hrtime.bigint() - started;
    this.onReply(reply);
    return reply.ans;
  }

  readLine() {
    for (;;) {
      const newline = this.pending.indexOf('\n');
      if (newline >= 0) {
        const line = this.pending.slice(0, newline);
        this.pending = this.pending.slice(newline + 1);
        return line;
      }
      let count;
      try {
        count = fs.readSync(this.fdIn, this.buffer, 0, this.buffer.length, null);
      } catch (error) {
        if (error.code === 'EAGAIN') continue;
        throw error;
      }
      if (count === 0) {
        throw new Error('the Python side closed the link');
      }
      this.pending += this.buffer.toString('latin1', 0, count);
    }
  }
}

function writeAll(fd, text) {
  const data = Buffer.from(text, 'latin1');
  let offset = 0;
  while (offset < data.length) {
    try {
      offset += fs.writeSync(fd, data, offset, data.length - offset);
    } catch (error) {
      if (error.code !== 'EAGAIN') throw error;
    }
  }
}

export function toHex(bytes) {
  return Buffer.from(bytes).toString('hex');
}

export function fromHex(text) {
  return Buffer.from(text, 'hex');
}
