/**
 * Puts the violation stream back in time order before it is printed. Sources report with their
 * own clocks and delays (the kernel's timestamp of a syscall arrives a moment after a proxy's
 * decision made later), so each event waits `windowMs` for earlier ones; flush() at exit prints
 * the rest. An event older than one already printed (later than the window) is printed at once.
 */
import type { Violation } from '@fence/core';

export class TimeOrder {
  #pending: Violation[] = [];
  #timer: NodeJS.Timeout | undefined;

  constructor(
    private readonly print: (v: Violation) => void,
    private readonly windowMs = 100,
    private readonly now: () => number = Date.now,
  ) {}

  push(v: Violation): void {
    // Inserted in order: the stream is nearly sorted, so this is a short walk from the end.
    let i = this.#pending.length;
    while (i > 0 && this.#pending[i - 1]!.time > v.time) i--;
    this.#pending.splice(i, 0, v);
    this.#schedule();
  }

  /** Prints every event that has waited its window. */
  release(): void {
    const due = this.now() - this.windowMs;
    let n = 0;
    while (n < this.#pending.length && this.#pending[n]!.time <= due) n++;
    for (const v of this.#pending.splice(0, n)) this.print(v);
    this.#schedule();
  }

  /** Prints everything still waiting, in order (at exit). */
  flush(): void {
    clearTimeout(this.#timer);
    this.#timer = undefined;
    for (const v of this.#pending.splice(0)) this.print(v);
  }

  #schedule(): void {
    if (this.#timer || this.#pending.length === 0) return;
    const wait = Math.max(0, this.#pending[0]!.time + this.windowMs - this.now());
    this.#timer = setTimeout(() => {
      this.#timer = undefined;
      this.release();
    }, wait);
    this.#timer.unref();
  }
}
