// Scans many layer blobs on all cores: a pool of worker threads, each reading its blobs straight
// from the file by (offset, size). One blob or one core: the main thread does it, no worker start-up.
import { availableParallelism } from 'node:os';
import type { Worker } from 'node:worker_threads';
import { EicBuildError, type ErrorCode } from '../errors.js';
import { createContentScanner } from './detector-api.js';
import { parseScanTuning } from './scan-tuning.js';
import { scanLayerBlob, type BlobLocation, type LayerScanJob, type LayerScanResult } from './layer-scan.js';
import type { WorkerRequest, WorkerResponse } from './layer-worker.js';
import { startScanWorker } from './start-worker.js';

/** One blob to scan. */
export interface LayerTask {
  location: BlobLocation;
  job: LayerScanJob;
}

/** Each worker costs its own V8 heap (~30-60 MiB); past four the memory bound matters more than speed. */
const MAX_DEFAULT_WORKERS = 4;

/** Below this many blob bytes in all, starting workers costs more than it saves. */
const PARALLEL_THRESHOLD = 32 * 1024 * 1024;

/**
 * How many workers for blobs of these sizes: EIC_BUILD_SCAN_WORKERS overrides (0 = main thread only;
 * a malformed value throws, see parseScanTuning).
 */
export function workerCount(sizes: number[], env: NodeJS.ProcessEnv = process.env): number {
  const forced = parseScanTuning(env).workers;
  if (forced !== undefined) return Math.min(forced, sizes.length);
  // One worker per core: measured on 2 cores (npm run bench -- scan, 4 layers of 256 MiB), two
  // workers scan 1.3-1.6x faster than concurrent layers on the main thread, within the memory bound.
  const cores = availableParallelism();
  const total = sizes.reduce((sum, size) => sum + size, 0);
  if (sizes.length <= 1 || cores <= 1 || total < PARALLEL_THRESHOLD) return 0;
  return Math.min(cores, sizes.length, MAX_DEFAULT_WORKERS);
}

function rebuildError(error: { code: string | null; message: string; hint: string | null }): Error {
  if (error.code) return new EicBuildError(error.code as ErrorCode, error.message, error.hint ? { hint: error.hint } : {});
  return new Error(error.message);
}

/**
 * How many layers the main thread scans at once. Decompression runs on the libuv pool (4 threads
 * unless UV_THREADPOOL_SIZE says otherwise) while the JS per chunk is small, so several layers
 * overlap on one thread. EIC_BUILD_SCAN_CONCURRENCY overrides (a malformed value throws).
 */
export function mainThreadConcurrency(tasks: number, env: NodeJS.ProcessEnv = process.env): number {
  const forced = parseScanTuning(env).concurrency;
  if (forced !== undefined) return Math.min(forced, Math.max(tasks, 1));
  const pool = Number(process.env.UV_THREADPOOL_SIZE) || 4;
  return Math.max(1, Math.min(availableParallelism(), pool, tasks));
}

/**
 * Young-generation size of a layer worker's heap (V8's default is up to 48 MiB). Nearly every chunk
 * and nested member dies young; a smaller nursery is swept more often, which also frees the
 * buffers that died with it sooner: measured on four layers of the EIC image (bench scan-eic with
 * EIC_BUILD_BENCH_EIC_LAYERS=3,5,6,8), peak RSS 490-504 → 424-441 MiB at the same CPU seconds.
 */
const WORKER_YOUNG_GENERATION_MB = 12;

/** Blobs this large get a decode thread (start-up ~ tens of ms; pays off past a few seconds of work). */
const DECODE_THREAD_BYTES = 64 * 1024 * 1024;
/** Decode threads at once unless EIC_BUILD_SCAN_DECODE_THREADS says otherwise: each costs an isolate's memory. */
const MAX_DECODE_THREADS = 1;

async function scanOnMainThread(tasks: LayerTask[], concurrency: number, maxDecodeThreads: number, onDone?: (index: number) => void): Promise<LayerScanResult[]> {
  let decodeThreads = 0;
  const results = new Array<LayerScanResult>(tasks.length);
  const order = tasks.map((_, i) => i).sort((a, b) => tasks[b]!.location.size - tasks[a]!.location.size);
  let next = 0;
  let failure: unknown = null;
  const lane = async () => {
    while (failure === null && next < order.length) {
      const id = order[next++]!;
      const task = tasks[id]!;
      const offThread = task.location.size >= DECODE_THREAD_BYTES && decodeThreads < maxDecodeThreads && availableParallelism() > 1;
      if (offThread) decodeThreads++;
      try {
        results[id] = await scanLayerBlob(task.location, { ...task.job, decodeOffThread: offThread }, createContentScanner);
        onDone?.(id);
      } catch (error) {
        failure ??= error;
      } finally {
        if (offThread) decodeThreads--;
      }
    }
  };
  await Promise.all(Array.from({ length: concurrency }, lane));
  if (failure !== null) throw failure;
  return results;
}

/** Scan every task; results in task order. The first failure rejects (and stops the pool). `onDone` hears of each finished task (progress). */
export async function scanLayers(tasks: LayerTask[], env: NodeJS.ProcessEnv = process.env, onDone?: (index: number) => void): Promise<LayerScanResult[]> {
  const count = workerCount(
    tasks.map((task) => task.location.size),
    env,
  );
  if (count === 0) return scanOnMainThread(tasks, mainThreadConcurrency(tasks.length, env), parseScanTuning(env).decodeThreads ?? MAX_DECODE_THREADS, onDone);
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
        const worker = startScanWorker('layer-worker', { resourceLimits: { maxYoungGenerationSizeMb: WORKER_YOUNG_GENERATION_MB } });
        workers.push(worker);
        worker.on('message', (response: WorkerResponse) => {
          if (failed) return;
          if (!response.ok) {
            failed = true;
            reject(rebuildError(response.error));
            return;
          }
          results[response.id] = response.result;
          onDone?.(response.id);
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
