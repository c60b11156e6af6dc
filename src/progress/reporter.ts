// Says what a long step is doing before and while it runs: a live bar on a terminal, a plain line
// every few seconds in a log (CI), nothing when quiet. Writes only through `write` (stderr): stdout
// may carry JSON or SARIF.
import { EicBuildError } from '../errors.js';
import { formatPlainLine, formatTtyLine, type ProgressState } from './format.js';
import type { ProgressMode } from './mode.js';

/** One long step in progress. */
export interface ProgressTask {
  /**
   * New counts; `total` may become known late (undefined keeps the previous one). `growing`: the totals
   * may still grow (shown as `9+`, no percentage or ETA); undefined keeps the previous answer.
   */
  update(done: number, total?: number, items?: { done: number; total?: number }, growing?: boolean): void;
  /** What the step is at now, shown beside the counts (an unmeasurable step's only news). */
  status(text: string): void;
  /** The step ended: stop redrawing; `text` (if any) is said as its last line. */
  finish(text?: string): void;
}

/** Announces long steps and reports their progress. */
export interface ProgressReporter {
  readonly mode: ProgressMode;
  /** A line said before a long step starts, so nobody waits in silence (not in quiet mode). */
  announce(text: string): void;
  /**
   * Start reporting a step; `unit` says how `done`/`total` read, `items` adds a second counter (e.g. layers).
   * Plain mode says `label…` first (unless `announce: false`: the caller said it already).
   */
  start(label: string, options?: { unit?: 'bytes' | 'items'; noun?: string; total?: number; items?: { noun: string; total?: number }; announce?: boolean }): ProgressTask;
}

/** Options of createProgressReporter. */
export interface ReporterOptions {
  mode: ProgressMode;
  /** Where lines go (stderr, through the redactor). */
  write: (text: string) => void;
  /** Plain mode: one line per step this often (default 10 s, EIC_BUILD_PROGRESS_INTERVAL). */
  intervalMs?: number;
  /** Terminal width for the bar. */
  columns?: number;
  now?: () => number;
}

const TTY_REDRAW_MS = 200;
const DEFAULT_INTERVAL_MS = 10_000;
const PREFIX = 'eic-build: ';

/** EIC_BUILD_PROGRESS_INTERVAL (seconds, > 0) as milliseconds; a malformed value is a usage error. */
export function progressIntervalMs(env: NodeJS.ProcessEnv): number {
  const text = env.EIC_BUILD_PROGRESS_INTERVAL;
  if (text === undefined || text === '') return DEFAULT_INTERVAL_MS;
  const seconds = Number(text);
  if (!Number.isFinite(seconds) || seconds <= 0) {
    throw new EicBuildError('usage', `EIC_BUILD_PROGRESS_INTERVAL='${text}' is not a positive number of seconds`, {
      hint: 'set it to e.g. 10 (a progress line every 10 s in plain mode), or unset it.',
    });
  }
  return seconds * 1000;
}

/** A reporter that says nothing (library callers that did not ask for progress). */
export const SILENT_PROGRESS: ProgressReporter = {
  mode: 'quiet',
  announce: () => undefined,
  start: () => ({ update: () => undefined, status: () => undefined, finish: () => undefined }),
};

/** Make a reporter for one mode. Timers are unref'd: a forgotten task never keeps the process alive. */
export function createProgressReporter(options: ReporterOptions): ProgressReporter {
  const { mode, write } = options;
  if (mode === 'quiet') return SILENT_PROGRESS;
  const now = options.now ?? Date.now;
  const interval = mode === 'tty' ? TTY_REDRAW_MS : (options.intervalMs ?? DEFAULT_INTERVAL_MS);
  const columns = Math.max(20, options.columns ?? 80);
  // Only one bar is drawn at a time on a terminal: the step started last.
  let drawn: { clear(): void } | undefined;
  const clearLine = () => {
    if (drawn) write('\r\x1b[K');
    drawn = undefined;
  };
  return {
    mode,
    announce(text) {
      if (mode === 'tty') clearLine();
      write(`${PREFIX}${text}\n`);
    },
    start(label, startOptions = {}) {
      const started = now();
      const state: ProgressState = {
        label,
        unit: startOptions.unit ?? 'items',
        ...(startOptions.noun ? { noun: startOptions.noun } : {}),
        done: 0,
        total: startOptions.total,
        ...(startOptions.items ? { items: { noun: startOptions.items.noun, done: 0, total: startOptions.items.total } } : {}),
        elapsedMs: 0,
      };
      let tick = 0;
      let finished = false;
      const me = { clear: clearLine };
      const render = () => {
        state.elapsedMs = now() - started;
        if (mode === 'tty') {
          write(`\r\x1b[K${formatTtyLine(state, columns - 1, tick++)}`);
          drawn = me;
        } else write(`${PREFIX}${formatPlainLine(state)}\n`);
      };
      const timer = setInterval(render, interval);
      timer.unref();
      if (mode === 'tty') render();
      else if (startOptions.announce !== false) write(`${PREFIX}${label}…\n`);
      return {
        update(done, total, items, growing) {
          if (finished) return;
          state.done = done;
          if (growing !== undefined) state.growing = growing;
          if (total !== undefined) state.total = total;
          if (items && state.items) {
            state.items.done = items.done;
            if (items.total !== undefined) state.items.total = items.total;
          }
        },
        status(text) {
          state.status = text;
        },
        finish(text) {
          if (finished) return;
          finished = true;
          clearInterval(timer);
          if (mode === 'tty' && drawn === me) clearLine();
          if (text) write(`${PREFIX}${text}\n`);
        },
      };
    },
  };
}
