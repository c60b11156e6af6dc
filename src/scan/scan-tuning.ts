// The scanner's tuning variables. A malformed one is a usage error before anything is scanned: a
// typo (EIC_BUILD_SCAN_WORKERS=two) silently running the defaults would be measured as the default.
import { EicBuildError } from '../errors.js';

/** Overrides of the scanner's parallelism; each unset when its variable is unset or empty. */
export interface ScanTuning {
  /** Worker threads (0 = main thread only). */
  workers?: number;
  /** Layers scanned at once on the main thread. */
  concurrency?: number;
  /** Decode helper threads at once on the main-thread route (0 = none). */
  decodeThreads?: number;
  /** 1: decompress with igzip / zstd when on PATH (the default); 0: Node's decoders only. */
  decodeTools?: number;
}

/** One tuning variable: its name, the field it sets and the integers it accepts. */
export interface TuningVariable {
  name: string;
  field: keyof ScanTuning;
  min: number;
  max: number;
  meaning: string;
}

/** Every tuning variable, with its accepted range (each worker or decode thread costs a V8 isolate's memory). */
export const SCAN_TUNING_VARIABLES: readonly TuningVariable[] = [
  { name: 'EIC_BUILD_SCAN_WORKERS', field: 'workers', min: 0, max: 64, meaning: 'worker threads, 0 = main thread only' },
  { name: 'EIC_BUILD_SCAN_CONCURRENCY', field: 'concurrency', min: 1, max: 64, meaning: 'layers at once on the main thread' },
  { name: 'EIC_BUILD_SCAN_DECODE_THREADS', field: 'decodeThreads', min: 0, max: 4, meaning: 'decode threads at once, 0 = none' },
  { name: 'EIC_BUILD_SCAN_DECODE_TOOLS', field: 'decodeTools', min: 0, max: 1, meaning: '1 = igzip / zstd when on PATH, 0 = Node decoders only' },
];

/**
 * Pure: the tuning variables of `env`. Unset or empty means the default; anything but a decimal
 * integer in range (surrounding spaces allowed) throws a 'usage' EicBuildError naming the variable,
 * its value and the accepted range.
 */
export function parseScanTuning(env: NodeJS.ProcessEnv): ScanTuning {
  const tuning: ScanTuning = {};
  for (const variable of SCAN_TUNING_VARIABLES) {
    const raw = env[variable.name];
    if (raw === undefined || raw.trim() === '') continue;
    const text = raw.trim();
    const value = /^\d{1,9}$/.test(text) ? Number(text) : Number.NaN;
    if (!(value >= variable.min && value <= variable.max)) {
      throw new EicBuildError('usage', `${variable.name}=${JSON.stringify(raw)} is not an integer from ${variable.min} to ${variable.max} (${variable.meaning})`, {
        hint: `set ${variable.name} to an integer from ${variable.min} to ${variable.max}, or unset it for the default.`,
      });
    }
    tuning[variable.field] = value;
  }
  return tuning;
}

/** Whether the scan may decompress with igzip / zstd (EIC_BUILD_SCAN_DECODE_TOOLS; malformed values throw). */
export function decodeToolsEnabled(env: NodeJS.ProcessEnv = process.env): boolean {
  return parseScanTuning(env).decodeTools !== 0;
}
