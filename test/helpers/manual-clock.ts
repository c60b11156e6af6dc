import type { TimerClock } from '../../src/registry/transport/send.js';

/**
 * A TimerClock that only moves when the test says so: a timing rule ("no progress for 1 s") is then
 * checked at its exact boundary, and a loaded machine that delays real timers cannot change the verdict.
 */
export interface ManualClock extends TimerClock {
  /** Move time forward, firing (in order) every timer that comes due. */
  advance(ms: number): void;
  /** Timers set and not yet fired or cleared. */
  readonly pending: number;
  /** Milliseconds until the next timer comes due (undefined: none pending). */
  readonly nextDueIn: number | undefined;
}

export function manualClock(): ManualClock {
  let now = 0;
  let nextId = 1;
  const timers = new Map<number, { at: number; callback: () => void }>();
  return {
    setTimeout(callback, ms) {
      const id = nextId++;
      timers.set(id, { at: now + ms, callback });
      return id;
    },
    clearTimeout(handle) {
      timers.delete(handle as number);
    },
    advance(ms) {
      const until = now + ms;
      for (;;) {
        const due = [...timers].filter(([, timer]) => timer.at <= until).sort((a, b) => a[1].at - b[1].at)[0];
        if (!due) break;
        timers.delete(due[0]);
        now = due[1].at;
        due[1].callback();
      }
      now = until;
    },
    get pending() {
      return timers.size;
    },
    get nextDueIn() {
      const due = [...timers.values()].map((timer) => timer.at);
      return due.length > 0 ? Math.min(...due) - now : undefined;
    },
  };
}
