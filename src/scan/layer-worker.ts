// Worker thread entry: scans the layer blobs it is sent, one at a time, and posts plain results.
import { parentPort } from 'node:worker_threads';
import { EicBuildError } from '../errors.js';
import { createContentScanner } from './detector-api.js';
import { scanLayerBlob, type BlobLocation, type LayerScanJob } from './layer-scan.js';

/** A request from the pool. */
export interface WorkerRequest {
  id: number;
  location: BlobLocation;
  job: LayerScanJob;
}

/** The answer: a result, or the error as plain data (errors do not survive structured clone intact). */
export type WorkerResponse =
  { id: number; ok: true; result: import('./layer-scan.js').LayerScanResult } | { id: number; ok: false; error: { code: string | null; message: string; hint: string | null } };

parentPort?.on('message', (request: WorkerRequest) => {
  // The location itself (not a stream of it): igzip / zstd may decode it, and a blob igzip cannot
  // judge is read again with zlib.
  scanLayerBlob(request.location, request.job, createContentScanner).then(
    (result) => parentPort!.postMessage({ id: request.id, ok: true, result } satisfies WorkerResponse),
    (error: unknown) =>
      parentPort!.postMessage({
        id: request.id,
        ok: false,
        error: {
          code: error instanceof EicBuildError ? error.code : null,
          message: error instanceof Error ? error.message : String(error),
          hint: error instanceof EicBuildError ? (error.hint ?? null) : null,
        },
      } satisfies WorkerResponse),
  );
});
