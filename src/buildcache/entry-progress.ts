/** Hears how many of a run's entries are done (verify, sign, copy of hundreds of entries): for a progress bar. */
export type EntryProgress = (done: number, total: number) => void;

/** Wrap a per-entry function so that `onProgress` hears of each entry it finishes (failed ones too). */
export function countingEntries<T, R>(total: number, onProgress: EntryProgress | undefined, fn: (item: T) => Promise<R>): (item: T) => Promise<R> {
  if (!onProgress) return fn;
  let done = 0;
  onProgress(0, total);
  return async (item) => {
    try {
      return await fn(item);
    } finally {
      onProgress(++done, total);
    }
  };
}
