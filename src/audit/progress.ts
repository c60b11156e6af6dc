// Audit progress for people, on stderr only: tags resolved and blobs done out of those known so
// far, bytes, ETA. One rewritten line on a terminal, a plain line every interval otherwise, nothing
// when quiet. The figures are pure (formatProgress); only the reporter touches a clock and a timer.

/** `--progress`: auto (a live line on a terminal, periodic lines otherwise), plain, or quiet. */
export type ProgressMode = 'auto' | 'plain' | 'quiet';

/** Counters of a running audit. */
export interface ProgressCounts {
  tagsDone: number;
  tagsTotal: number;
  blobsDone: number;
  blobsTotal: number;
  /** Blobs whose facts came from --state (included in blobsDone). */
  blobsFromState: number;
  bytesDone: number;
  bytesTotal: number;
  /** True once every tag is resolved (blobsTotal and bytesTotal are final). */
  totalsFinal: boolean;
}

function mib(bytes: number): string {
  return `${(bytes / 1024 / 1024).toFixed(1)} MiB`;
}

function duration(seconds: number): string {
  if (seconds < 60) return `${Math.ceil(seconds)} s`;
  const minutes = Math.floor(seconds / 60);
  if (minutes < 60) return `${minutes} min ${Math.round(seconds % 60)} s`;
  return `${Math.floor(minutes / 60)} h ${minutes % 60} min`;
}

/** One progress line; the ETA appears once the totals are final and some bytes were read. Pure. */
export function formatProgress(counts: ProgressCounts, elapsedSeconds: number): string {
  const more = counts.totalsFinal ? '' : '+';
  const fromState = counts.blobsFromState > 0 ? ` (${counts.blobsFromState} from --state)` : '';
  let eta = '';
  const downloaded = counts.bytesDone;
  if (counts.totalsFinal && downloaded > 0 && elapsedSeconds > 0) {
    const rate = downloaded / elapsedSeconds;
    eta = `, ETA ${duration(Math.max(0, counts.bytesTotal - counts.bytesDone) / rate)}`;
  }
  return `audit: tags ${counts.tagsDone}/${counts.tagsTotal}, blobs ${counts.blobsDone}/${counts.blobsTotal}${more}${fromState}, ${mib(counts.bytesDone)}/${mib(counts.bytesTotal)}${more}${eta}`;
}

/** Parse --progress. */
export function parseProgressMode(value: string): ProgressMode | undefined {
  return value === 'auto' || value === 'plain' || value === 'quiet' ? value : undefined;
}

/** A running reporter: `update` whenever counts change, `finish` at the end. */
export interface ProgressReporter {
  update(counts: ProgressCounts): void;
  finish(counts: ProgressCounts): void;
}

/** A reporter writing to `write` (stderr): live on a TTY in auto mode, else a line every `intervalMs`. */
export function createProgressReporter(mode: ProgressMode, write: (text: string) => void, isTty: boolean, intervalMs = 10_000): ProgressReporter {
  if (mode === 'quiet') return { update: () => undefined, finish: () => undefined };
  const started = Date.now();
  const live = mode === 'auto' && isTty;
  const every = live ? 200 : intervalMs;
  let last = 0;
  const elapsed = () => (Date.now() - started) / 1000;
  return {
    update(counts) {
      const now = Date.now();
      if (now - last < every) return;
      last = now;
      const line = formatProgress(counts, elapsed());
      write(live ? `\r\x1b[K${line}` : `${line}\n`);
    },
    finish(counts) {
      const line = formatProgress(counts, elapsed());
      write(live ? `\r\x1b[K${line}\n` : `${line}\n`);
    },
  };
}
