// UART0 to the Python ExpressLink emulator, with 8N1 wire time at the configured baud rate.
//
// What the RP2040 sends leaves its pin at once in rp2040js; here each byte arrives at the
// module one byte time after the previous one finished, and the host syncs with Python
// no later than the first unsent byte's arrival. What the module sends comes back with
// its arrival times and is fed to the RP2040's receive FIFO by an alarm at each time.

export class UARTBridge {
  constructor(mcu, uart, link, host) {
    this.clock = mcu.clock;
    this.uart = uart;
    this.link = link;
    this.host = host;
    this.baud = 115200;
    this.txFree = 0; // ns: when the transmitter finishes its last byte
    this.tx = []; // [arrival ns, byte] not yet sent to Python
    this.rx = []; // [arrival ns, byte] to feed, in order
    this.rxHead = 0;
    this.bytesSent = 0;
    this.bytesReceived = 0;
    this.local = false;
    uart.onBaudRateChange = (baud) => {
      if (baud > 0) this.baud = baud;
    };
    uart.onByte = (value) => this.send(value);
    this.rxAlarm = this.clock.createAlarm(() => this.feedDue());
  }

  get byteNanos() {
    return Math.round(10e9 / this.baud);
  }

  send(value) {
    const now = this.clock.nanos;
    const start = Math.max(now, this.txFree);
    this.txFree = start + this.byteNanos;
    this.bytesSent += 1;
    if (this.local) return; // the bench's baseline: nobody listens
    this.tx.push([this.txFree, value]);
    this.host.syncBy(this.tx[0][0]);
  }

  /** Move unsent bytes into the link's events as [ "tx", first ns, step ns, hex ] runs. */
  flush() {
    const tx = this.tx;
    if (!tx.length) return;
    const step = this.byteNanos;
    let first = 0;
    for (let i = 1; i <= tx.length; i++) {
      if (i === tx.length || Math.round(tx[i][0] - tx[i - 1][0]) !== step) {
        const run = tx.slice(first, i);
        this.link.event(['tx', Math.round(run[0][0]), step, Buffer.from(run.map((b) => b[1])).toString('hex')]);
        first = i;
      }
    }
    this.tx = [];
  }

  /** Queue bytes from Python: `first` ns for the first byte, `step` ns apart. */
  receive(first, step, hex) {
    const data = Buffer.from(hex, 'hex');
    if (this.rxHead > 1024) {
      this.rx = this.rx.slice(this.rxHead);
      this.rxHead = 0;
    }
    for (let i = 0; i < data.length; i++) this.rx.push([first + i * step, data[i]]);
    this.scheduleNext();
  }

  scheduleNext() {
    if (this.rxHead >= this.rx.length) return;
    const delay = Math.max(0, this.rx[this.rxHead][0] - this.clock.nanos);
    this.rxAlarm.schedule(delay);
  }

  feedDue() {
    const now = this.clock.nanos;
    while (this.rxHead < this.rx.length && this.rx[this.rxHead][0] <= now + 0.5) {
      this.uart.feedByte(this.rx[this.rxHead][1]);
      this.rxHead += 1;
      this.bytesReceived += 1;
    }
    this.scheduleNext();
  }
}
