import type { PipelineDeps, RenderedFiles } from './run.js';

/**
 * The real key layer (src/keys), scanner (src/scan) and renderer (src/render), loaded lazily so
 * that `eic-build build --help` and `doctor` never pay for them.
 */
export async function defaultPipelineDeps(): Promise<PipelineDeps> {
  const [keys, scan, { renderForBuild }] = await Promise.all([import('../keys/index.js'), import('../scan/index.js'), import('./render-for-build.js')]);
  return {
    resolveKey: (options) => keys.resolveSigningKey(options),
    scan: (target, { publicKeys, allowKeys, env, dockerClient, onProgress, keyProvenance }) =>
      scan.scanTarget(target, {
        publicKeys,
        allowKeys,
        env,
        dockerClient,
        ...(onProgress ? { onProgress } : {}),
        ...(keyProvenance === undefined ? {} : { provenance: keyProvenance }),
      }),
    formatScan: (report, format) => scan.formatReport(report, format),
    render: (input): Promise<RenderedFiles> => renderForBuild(input),
  };
}
