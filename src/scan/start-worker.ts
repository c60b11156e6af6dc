// Start one of the scanner's worker threads. Under tsx (tests, CLI from source) this module is a
// .ts file and so is the worker entry: Node 20 workers inherit execArgv but do not run its
// `--import tsx` hooks, so a .ts entry first registers tsx itself; compiled (dist/*.js) it loads directly.
import { Worker, type WorkerOptions } from 'node:worker_threads';

const fromSource = import.meta.url.endsWith('.ts');

/** Start the worker entry `./<name>.ts` (from source) or `./<name>.js` (compiled) of this directory. */
export function startScanWorker(name: 'layer-worker' | 'blob-decode-worker', options: WorkerOptions = {}): Worker {
  const url = new URL(`./${name}${fromSource ? '.ts' : '.js'}`, import.meta.url);
  if (!fromSource) return new Worker(url, options);
  const tsxApi = import.meta.resolve('tsx/esm/api');
  const bootstrap = `import(${JSON.stringify(tsxApi)}).then((tsx) => { tsx.register(); return import(${JSON.stringify(url.href)}); })`;
  return new Worker(bootstrap, { ...options, eval: true });
}
