// Skipping the spin of CircuitPython's `select.poll` wait, which its asyncio sleeps in.
//
// CircuitPython never lets the CPU sleep while asyncio waits: `poll.ipoll(timeout)`
// (extmod/modselect.c, poll_set_poll_until_ready_or_timeout) loops over "poll the
// objects, read ticks_ms, run the background tasks" until something is ready or the
// timeout has passed (MICROPY_INTERNAL_WFE is not defined, so mp_event_wait_ms only runs
// the background tasks). On a Pico that loop turns about half a million times a second.
//
// An iteration that changed nothing leaves the machine as it found it, so every later
// iteration does the same until something outside the loop changes: an interrupt (a
// timer alarm, a UART byte, USB, a pin: all of them come from the emulated clock's
// alarms or from a sync with Python) or the value of the ticks the loop compares. The
// host then moves the clock straight to the earliest of those instants and lets the loop
// run on from there, as the hardware would have arrived there after its idle turns.
//
// "Changed nothing" is checked, not assumed, at the loop's head (its address is a fact of
// each UF2, in parts.py): the stack pointer is the same as at the previous visit, no
// exception was taken since, and no store outside the running functions' stack frames
// changed memory (a write to a peripheral counts as a change).

const SRAM_END = 0x20042000;
const PERIPHERALS = 0x40000000;
const SIO_MATH = 0xd0000060; // SIO's hardware divider, then its two interpolators
const SIO_MATH_END = 0xd0000100;
const PUSH_REACH = 64; // PUSH and exception entry store below SP before moving it

/** CircuitPython's raw 1/1024 s tick count at `micros` (port_get_raw_ticks). */
export function rawTicks(formula, micros) {
  if (formula === '9.2') return 1024 * Math.floor(micros / 1e6) + Math.floor((micros % 1e6) / 977);
  return Math.floor((micros * 1024) / 1e6); // 10.x: us * 512 / 15625 / 32
}

/** The first whole microsecond after `micros` at which the raw tick count changes. */
export function nextTickMicros(formula, micros) {
  const tick = rawTicks(formula, micros);
  let step = 1024;
  let at = micros;
  while (step >= 1) { // the count only grows: find the last microsecond of this tick
    if (rawTicks(formula, at + step) === tick) at += step;
    else step >>= 1;
  }
  return at + 1;
}

export class IdleSkip {
  /** `loop`: {head: address of the wait loop's first instruction, ticks: '9.2' | '10'}. */
  constructor(mcu, loop) {
    this.mcu = mcu;
    this.head = loop.head;
    this.ticks = loop.ticks;
    this.skippedNanos = 0;
    this.skips = 0;
    this.changes = 0; // stores that changed memory, exceptions taken
    this.lastSp = -1;
    this.lastChanges = -1;
    this.lastTick = -1; // raw tick at the previous visit
    this.sameTickVisits = 0;
    const core = mcu.core;
    const entry = core.exceptionEntry.bind(core);
    core.exceptionEntry = (number) => {
      this.changes += 1;
      entry(number);
    };
    for (const [name, read] of [['writeUint32', 'readUint32'], ['writeUint16', 'readUint16'], ['writeUint8', 'readUint8']]) {
      const write = mcu[name].bind(mcu);
      const readBack = mcu[read].bind(mcu);
      mcu[name] = (address, value) => {
        if (address >= SIO_MATH && address < SIO_MATH_END) {
          // the divider and interpolators only compute: nothing outside the iteration sees them
        } else if (address >= PERIPHERALS) {
          this.changes += 1;
        } else if ((address < core.SP - PUSH_REACH || address >= SRAM_END) && readBack(address) !== value) {
          this.changes += 1;
        }
        write(address, value);
      };
    }
  }

  /** Called with the CPU at the loop's head (thread mode). When the loop's last turn
   *  changed nothing and its last two turns saw the same tick count (so its timeout test
   *  has seen the current ticks whichever side of the head it sits), moves the clock to
   *  the next tick, the next alarm or `limitNanos`, whichever comes first. */
  visit(limitNanos) {
    const { core, clock } = this.mcu;
    const now = clock.nanosCounter;
    const micros = Math.floor(now / 1000);
    const tick = rawTicks(this.ticks, micros);
    const sp = core.SP;
    this.sameTickVisits = tick === this.lastTick ? this.sameTickVisits + 1 : 0;
    if (sp === this.lastSp && this.changes === this.lastChanges && this.sameTickVisits >= 2) {
      const boundary = nextTickMicros(this.ticks, micros) * 1000;
      const alarm = clock.nextAlarm ? clock.nextAlarm.nanos : Infinity;
      const target = Math.min(boundary, alarm, limitNanos);
      if (target > now) {
        clock.tick(target - now);
        this.skippedNanos += target - now;
        this.skips += 1;
      }
    }
    this.lastSp = sp;
    this.lastChanges = this.changes;
    this.lastTick = tick;
  }
}
