import type { CliIo } from '../cli-io.js';
import { resolveProgressMode, type ProgressRequest } from './mode.js';
import { createProgressReporter, progressIntervalMs, type ProgressReporter } from './reporter.js';

/** The reporter a command uses: stderr of `io`, the mode `--progress` asked for (auto by default). */
export function progressForIo(io: CliIo, request: ProgressRequest | 'json' = 'auto'): ProgressReporter {
  const mode = resolveProgressMode(request, io.isTty, io.env);
  return createProgressReporter({
    mode,
    write: io.err,
    intervalMs: progressIntervalMs(io.env),
    columns: process.stderr.columns || 80,
  });
}
