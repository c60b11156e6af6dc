import { formatBytes, formatDuration } from './format.js';
import type { ProgressReporter } from './reporter.js';

/** How far a scan is (structurally src/scan's ScanProgress; the progress module does not import the scanner). */
export interface ScanCounts {
  layersDone: number;
  layersTotal: number | undefined;
  bytesDone: number;
  bytesTotal: number | undefined;
}

/**
 * A progress task for one image scan: bytes as the bar, layers beside it; when it ends, one line with
 * what was read. `announce: false` when the caller said the step already.
 */
export function startScanProgress(
  progress: ProgressReporter,
  label: string,
  options: { announce?: boolean } = {},
): { onProgress: (counts: ScanCounts) => void; finish: (ok: boolean) => void } {
  const started = Date.now();
  const task = progress.start(label, { unit: 'bytes', items: { noun: 'layers' }, ...(options.announce === false ? { announce: false } : {}) });
  let last: ScanCounts = { layersDone: 0, layersTotal: undefined, bytesDone: 0, bytesTotal: undefined };
  return {
    onProgress: (counts) => {
      last = counts;
      // An engine image's save stream runs a little past the image size it reports: grow the total.
      const total = counts.bytesTotal === undefined ? undefined : Math.max(counts.bytesTotal, counts.bytesDone);
      task.update(counts.bytesDone, total, { done: counts.layersDone, ...(counts.layersTotal === undefined ? {} : { total: counts.layersTotal }) });
    },
    finish: (ok) => task.finish(ok ? `${label}: done, ${last.layersDone} layers, ${formatBytes(last.bytesDone)} in ${formatDuration(Date.now() - started)}` : undefined),
  };
}
