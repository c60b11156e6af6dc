import type { CliIo } from '../cli-io.js';
import { BUILD_HELP, parseBuildOptions } from '../build/build-options.js';
import { defaultPipelineDeps } from '../build/default-deps.js';
import { runBuildPipeline, type PipelineDeps } from '../build/pipeline.js';
import { formatSummary, summaryJson } from '../build/summary.js';

/** `eic-build build`: resolve key, render, build with BuildKit, scan, then publish only what was scanned. */
export async function buildCommand(argv: string[], io: CliIo, deps?: PipelineDeps): Promise<number> {
  const options = parseBuildOptions(argv);
  if (options.help) {
    io.out(BUILD_HELP);
    return 0;
  }
  const resolved = deps ?? (await defaultPipelineDeps());
  const result = await runBuildPipeline(options, io, resolved);
  if (options.progress === 'json') {
    const json = summaryJson(result, (i) => JSON.parse(resolved.formatScan(result.scanned[i]!.report, 'json')) as unknown);
    io.out(`${JSON.stringify(json, null, 2)}\n`);
  } else {
    if (result.kind === 'leak') {
      // The report is the data of a failed build: on stdout, like `eic-build scan`.
      for (const s of result.scanned.filter((x) => x.report.leaked)) io.out(resolved.formatScan(s.report, 'text'));
    }
    io.err(formatSummary(result));
  }
  return result.kind === 'leak' ? 1 : 0;
}
