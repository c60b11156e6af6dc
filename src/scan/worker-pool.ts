// Scans many layer blobs on all cores: a pool of worker threads, each reading its blobs straight
// from the file by (offset, size). One blob or one core: the main thread does it, no worker start-up.
import { availableParallelism } from 'node:os';
import { Worker } from 'node:worker_threads';
import { EicBuildError, type ErrorCode } from '../errors.js';
import { createContentScanner } from './detector-api.js';
import { openBlobLocation, scanLayerBlob, type BlobLocation, type LayerScanJob, type LayerScanResult } from './layer-scan.js';
import type { WorkerRequest, WorkerResponse } from './layer-worker.js';

/** One blob to scan. */
export interface LayerTask {
  location: BlobLocation;
  job: LayerScanJob;
}

/** How many workers: EIC_BUILD_SCAN_WORKERS overrides (0 = main thread only). */
export function workerCount(tasks: number, env: NodeJS.ProcessEnv = process.env): number {
  const forced = env.EIC_BUILD_SCAN_WORKERS;
  if (forced !== undefined && /^\d+$/.test(forced)) return Math.min(Number(forced), tasks);
  const cores = availableParallelism();
  if (tasks <= 1 || cores <= 1) return 0;
  return Math.min(cores, tasks);
}

// Under tsx (tests, CLI from source) this module is a .ts file and so is the worker; workers
// inherit execArgv (`--import tsx`), so the .ts entry loads there too.
const workerUrl = new URL(import.meta.url.endsWith('.ts') ? './layer-worker.ts' : './layer-worker.js', import.meta.url);

function rebuildError(error: { code: string | null; message: string; hint: string | null }): Error {
  if (error.code) return new EicBuildError(error.code as ErrorCode, error.message, error.hint ? { hint: error.hint } : {});
  return new Error(error.message);
}

/** Scan every task; results in task order. The first failure rejects (and stops the pool). */
export async function scanLayers(tasks: LayerTask[], env: NodeJS.ProcessEnv = process.env): Promise<LayerScanResult[]> {
  const count = workerCount(tasks.length, env);
  if (count === 0) {
    const results: LayerScanResult[] = [];
    for (const task of tasks) results.push(await scanLayerBlob(openBlobLocation(task.location), task.job, createContentScanner));
    return results;
  }
  // Largest first: the long pole starts early.
  const order = tasks.map((_, i) => i).sort((a, b) => tasks[b]!.location.size - tasks[a]!.location.size);
  const results = new Array<LayerScanResult>(tasks.length);
  const workers: Worker[] = [];
  try {
    await new Promise<void>((resolve, reject) => {
      let next = 0;
      let done = 0;
      let failed = false;
      const feed = (worker: Worker) => {
        if (failed) return;
        if (next >= order.length) return;
        const id = order[next++]!;
        worker.postMessage({ id, location: tasks[id]!.location, job: tasks[id]!.job } satisfies WorkerRequest);
      };
      for (let i = 0; i < count; i++) {
        const worker = new Worker(workerUrl);
        workers.push(worker);
        worker.on('message', (response: WorkerResponse) => {
          if (failed) return;
          if (!response.ok) {
            failed = true;
            reject(rebuildError(response.error));
            return;
          }
          results[response.id] = response.result;
          if (++done === tasks.length) resolve();
          else feed(worker);
        });
        worker.on('error', (error) => {
          if (failed) return;
          failed = true;
          reject(error);
        });
        worker.on('exit', (code) => {
          if (failed || done === tasks.length) return;
          failed = true;
          reject(new Error(`scan worker exited with code ${code} before finishing`));
        });
        feed(worker);
      }
    });
  } finally {
    await Promise.all(workers.map((worker) => worker.terminate()));
  }
  return results;
}
