import { EicBuildError } from '../errors.js';
import type { PipelineDeps, PipelineKey, PipelineScanReport } from './pipeline.js';

// The key layer, the scanner and the renderer are separate modules (issues 2-4). They are loaded
// lazily, by name, so that `eic-build build --help` and `doctor` never pay for them.
const KEYS_MODULE = '../keys/index.js';
const SCAN_MODULE = '../scan/index.js';
const RENDER_MODULE = '../render/index.js';

async function load(specifier: string, what: string): Promise<Record<string, unknown>> {
  try {
    return (await import(specifier)) as Record<string, unknown>;
  } catch (error) {
    throw new EicBuildError('internal', `eic-build build needs the ${what} module (${specifier}), which could not be loaded: ${(error as Error).message}`, {
      hint: 'reinstall eic-build (npm ci runs the TypeScript build).',
      cause: error,
    });
  }
}

function fn<T>(module: Record<string, unknown>, name: string, what: string): T {
  const value = module[name];
  if (typeof value !== 'function') throw new EicBuildError('internal', `the ${what} module has no ${name}()`, { hint: 'this eic-build installation is incomplete; reinstall it.' });
  return value as T;
}

/** The real key layer, scanner and renderer. */
export async function defaultPipelineDeps(): Promise<PipelineDeps> {
  const keys = await load(KEYS_MODULE, 'signing key');
  const scan = await load(SCAN_MODULE, 'scanner');
  const resolveSigningKey = fn<PipelineDeps['resolveKey']>(keys, 'resolveSigningKey', 'signing key');
  const scanTarget = fn<(target: string, options: { publicKeys?: unknown[] }) => Promise<PipelineScanReport>>(scan, 'scanTarget', 'scanner');
  const formatReport = fn<(report: PipelineScanReport, format: 'text' | 'json') => string>(scan, 'formatReport', 'scanner');
  const deps: PipelineDeps = {
    resolveKey: (options) => resolveSigningKey(options) as Promise<PipelineKey>,
    scan: (target, publicKeys) => scanTarget(target, { publicKeys }),
    formatScan: (report, format) => formatReport(report, format),
  };
  const render = await import(RENDER_MODULE).catch(() => undefined) as Record<string, unknown> | undefined;
  if (render && typeof render.renderForBuild === 'function') deps.render = render.renderForBuild as NonNullable<PipelineDeps['render']>;
  return deps;
}
