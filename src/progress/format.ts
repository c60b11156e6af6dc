// Pure formatting of progress state: the same numbers render as a TTY bar or a plain log line.

/** What one long step has done so far. `total` undefined: not measurable (only elapsed time is shown). */
export interface ProgressState {
  label: string;
  unit: 'bytes' | 'items';
  /** What is counted when the unit is items (`entries`). */
  noun?: string;
  done: number;
  total: number | undefined;
  /** Second counter shown beside the main one, e.g. layers beside bytes. */
  items?: { done: number; total: number | undefined; noun: string };
  elapsedMs: number;
  /** What the step is at now (e.g. debootstrap's last `I:` line). */
  status?: string;
  /** The totals may still grow (work is still being found): shown as `9+`, no percentage or ETA yet. */
  growing?: boolean;
}

const UNITS = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];

/** `1536` → `1.5 KiB`. */
export function formatBytes(bytes: number): string {
  let value = bytes;
  let unit = 0;
  while (value >= 1024 && unit < UNITS.length - 1) {
    value /= 1024;
    unit++;
  }
  return unit === 0 ? `${value} B` : `${value.toFixed(value < 10 ? 1 : 0)} ${UNITS[unit]}`;
}

/** `83_000` ms → `1m23s`; under a minute `42s`. */
export function formatDuration(ms: number): string {
  const seconds = Math.max(0, Math.round(ms / 1000));
  if (seconds < 60) return `${seconds}s`;
  const minutes = Math.floor(seconds / 60);
  if (minutes < 60) return `${minutes}m${String(seconds % 60).padStart(2, '0')}s`;
  return `${Math.floor(minutes / 60)}h${String(minutes % 60).padStart(2, '0')}m`;
}

/**
 * Time left at the average rate so far; undefined until there is a rate worth extrapolating
 * (a second of work and some progress) or when the total is unknown.
 */
export function estimateRemainingMs(state: Pick<ProgressState, 'done' | 'total' | 'elapsedMs' | 'growing'>): number | undefined {
  if (state.growing || state.total === undefined || state.done <= 0 || state.elapsedMs < 1000) return undefined;
  if (state.done >= state.total) return 0;
  return (state.elapsedMs / state.done) * (state.total - state.done);
}

function amount(state: ProgressState): string {
  const show = (n: number) => (state.unit === 'bytes' ? formatBytes(n) : String(n));
  const more = state.growing ? '+' : '';
  const counted = state.total === undefined ? show(state.done) : `${show(state.done)}/${show(state.total)}${more}`;
  return state.noun ? `${counted} ${state.noun}` : counted;
}

function details(state: ProgressState): string[] {
  const parts: string[] = [];
  if (state.total !== undefined || state.done > 0) parts.push(amount(state));
  if (state.items) parts.push(`${state.items.done}${state.items.total === undefined ? '' : `/${state.items.total}${state.growing ? '+' : ''}`} ${state.items.noun}`);
  parts.push(`${formatDuration(state.elapsedMs)} elapsed`);
  if (state.status) parts.push(state.status);
  const eta = estimateRemainingMs(state);
  if (eta !== undefined && eta >= 1000) parts.push(`about ${formatDuration(eta)} left`);
  return parts;
}

/** One line for a log: `scanning image: 40%, 120 MiB/300 MiB, 3/7 layers, 12s elapsed, about 18s left`. */
export function formatPlainLine(state: ProgressState): string {
  const percent = state.total && !state.growing ? `${Math.floor((Math.min(state.done, state.total) / state.total) * 100)}%, ` : '';
  return `${state.label}: ${percent}${details(state).join(', ')}`;
}

/** A bar for a terminal line of `width` columns (the text is cut to fit, never wrapped). */
export function formatTtyLine(state: ProgressState, width: number, tick = 0): string {
  const info = details(state).join(', ');
  let bar: string;
  if (state.total && !state.growing) {
    const cells = 20;
    const filled = Math.round((Math.min(state.done, state.total) / state.total) * cells);
    bar = `[${'#'.repeat(filled)}${'.'.repeat(cells - filled)}] ${String(Math.floor((Math.min(state.done, state.total) / state.total) * 100)).padStart(3)}%`;
  } else {
    bar = `[${'|/-\\'[tick % 4]}]`;
  }
  const line = `${state.label} ${bar} ${info}`;
  return line.length > width ? `${line.slice(0, Math.max(0, width - 1))}…` : line;
}
