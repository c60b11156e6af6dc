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

/** Below this many blob bytes in all, starting workers costs more than it saves. */
const PARALLEL_THRESHOLD = 32 * 1024 * 1024;

/** How many workers for blobs of these sizes: EIC_BUILD_SCAN_WORKERS overrides (0 = main thread only). */
export function workerCount(sizes: number[], env: NodeJS.ProcessEnv = process.env): number {
  const forced = env.EIC_BUILD_SCAN_WORKERS;
  if (forced !== undefined && /^\d+$/.test(forced)) return Math.min(Number(forced), sizes.length);
  // One layer scan already keeps two cores busy: its JS (tar walk, detectors) and zlib on the
  // libuv pool. So a pool only pays off with more than one pair of cores.
  const pairs = Math.floor(availableParallelism() / 2);
  const total = sizes.reduce((sum, size) => sum + size, 0);
  if (sizes.length <= 1 || pairs <= 1 || total < PARALLEL_THRESHOLD) return 0;
  return Math.min(pairs, sizes.length);
}

// Under tsx (tests, CLI from source) this module is a .ts file and so is the worker entry. Node 20
// workers inherit execArgv but do not run its `--import tsx` hooks, so a .ts worker first
// registers tsx itself; compiled (dist/*.js) the worker entry loads directly.
const fromSource = import.meta.url.endsWith('.ts');
const workerUrl = new URL(fromSource ? './layer-worker.ts' : './layer-worker.js', import.meta.url);

function startWorker(): Worker {
  if (!fromSource) return new Worker(workerUrl);
  const tsxApi = import.meta.resolve('tsx/esm/api');
  const bootstrap = `import(${JSON.stringify(tsxApi)}).then((tsx) => { tsx.register(); return import(${JSON.stringify(workerUrl.href)}); })`;
  return new Worker(bootstrap, { eval: true });
}

function rebuildError(error: { code: string | null; message: string; hint: string | null }): Error {
  if (error.code) return new EicBuildError(error.code as ErrorCode, error.message, error.hint ? { hint: error.hint } : {});
  return new Error(error.message);
}

/** Scan every task; results in task order. The first failure rejects (and stops the pool). */
export async function scanLayers(tasks: LayerTask[], env: NodeJS.ProcessEnv = process.env): Promise<LayerScanResult[]> {
  const count = workerCount(tasks.map((task) => task.location.size), env);
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
        const worker = startWorker();
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
