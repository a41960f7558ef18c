/**
 * Test only: moves a server process's clock (Date and Date.now) by an offset a test sets, so
 * "seven days later" happens without waiting. Loaded with NODE_OPTIONS=--import=<this file>;
 * on SIGUSR2 the process reads the offset in milliseconds from WXLOGIN_TEST_CLOCK_FILE and prints
 * `clock offset <ms>` once it applies. Timers are not moved: only what reads the time.
 */
import { readFileSync } from 'node:fs';
import process from 'node:process';

const RealDate = Date;
let offsetMs = 0;

class ShiftedDate extends RealDate {
  constructor(...args) {
    if (args.length === 0) super(RealDate.now() + offsetMs);
    else super(...args);
  }

  static now() {
    return RealDate.now() + offsetMs;
  }
}

globalThis.Date = ShiftedDate;

const file = process.env.WXLOGIN_TEST_CLOCK_FILE;
if (file) {
  process.on('SIGUSR2', () => {
    offsetMs = Number(readFileSync(file, 'utf8'));
    process.stdout.write(`clock offset ${offsetMs}\n`);
  });
}
