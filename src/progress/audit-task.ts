import { formatBytes, formatDuration } from './format.js';
import type { ProgressReporter } from './reporter.js';

/** How far an audit is (src/audit reports these; the progress module does not import the audit). */
export interface AuditCounts {
  tagsDone: number;
  tagsTotal: number;
  /** Blobs done (scanned, failed or taken from --state) of those known so far. */
  blobsDone: number;
  blobsTotal: number;
  /** Blobs whose facts came from --state (included in blobsDone). */
  blobsFromState: number;
  /** Bytes downloaded of those to download (blobs not in --state). */
  bytesDone: number;
  bytesTotal: number;
  /** True once every tag is resolved: blobsTotal and bytesTotal are final. */
  totalsFinal: boolean;
}

/** Tags resolved and blobs from --state, said beside the byte and blob counters. Pure. */
export function formatAuditStatus(counts: AuditCounts): string {
  const fromState = counts.blobsFromState > 0 ? `, ${counts.blobsFromState} blobs from --state` : '';
  return `tags ${counts.tagsDone}/${counts.tagsTotal} resolved${fromState}`;
}

/**
 * A progress task for one audit: bytes as the bar, blobs beside it, both marked `+` while tags are still
 * being resolved (more blobs may come), the ETA once they are all known; when it ends, one line with
 * what was done.
 */
export function startAuditProgress(progress: ProgressReporter, label = 'audit'): { onProgress: (counts: AuditCounts) => void; finish: (ok: boolean) => void } {
  const started = Date.now();
  const task = progress.start(label, { unit: 'bytes', items: { noun: 'blobs' } });
  let last: AuditCounts = { tagsDone: 0, tagsTotal: 0, blobsDone: 0, blobsTotal: 0, blobsFromState: 0, bytesDone: 0, bytesTotal: 0, totalsFinal: false };
  return {
    onProgress: (counts) => {
      last = { ...counts };
      task.update(counts.bytesDone, Math.max(counts.bytesTotal, counts.bytesDone), { done: counts.blobsDone, total: counts.blobsTotal }, !counts.totalsFinal);
      task.status(formatAuditStatus(counts));
    },
    finish: (ok) => {
      const fromState = last.blobsFromState > 0 ? ` (${last.blobsFromState} from --state)` : '';
      task.finish(
        ok
          ? `${label}: tags ${last.tagsDone}/${last.tagsTotal}, blobs ${last.blobsDone}/${last.blobsTotal}${fromState}, ${formatBytes(last.bytesDone)} downloaded in ${formatDuration(Date.now() - started)}`
          : undefined,
      );
    },
  };
}
