import { EicBuildError } from '../errors.js';
import { diagnoseBuildFailure, type MirrorEndpoint } from './build-failure.js';
import type { NetworkMode } from './flags.js';
import { buildInvocation, type InvocationInput, type InvocationOutput } from './plan.js';
import { hintsForLog, lastLines, type ClientRun } from './run-client.js';
import type { Run } from './run.js';

/** The docker client calls of a build, through the run's process runner; a failure is a named EicBuildError. */

/** Pure: the error for a failed build invocation: a known problem with its fix, else the log's tail and hints. */
export function buildFailureError(result: ClientRun, what: string, context: { mirrors: MirrorEndpoint[]; network: NetworkMode | undefined }): EicBuildError {
  const diagnosis = diagnoseBuildFailure(result.log, context);
  if (diagnosis) return new EicBuildError('build-failed', `${what} failed (exit ${result.exitCode}): ${diagnosis.message}\n${lastLines(result.log, 6)}`, { hint: diagnosis.hint });
  const hints = hintsForLog(result.log).map((h) => h.hint);
  return new EicBuildError('build-failed', `${what} failed (exit ${result.exitCode}):\n${lastLines(result.log)}`, {
    hint: hints.join(' ') || 'read the BuildKit log above; run with --progress plain for the full log.',
  });
}

/** One build invocation (`docker build` / `docker buildx build`) of `target` into `output`, streamed as --progress asks. */
export async function runBuild(run: Run, target: string | undefined, output: InvocationOutput, what: string, cacheTo: InvocationInput['cacheTo'] = []): Promise<void> {
  // A second build after the scan (--output, the cache export) must reuse the scanned steps from the
  // cache the first build filled: with --no-cache it would run them again, and a step that downloads
  // or stamps a date would publish bytes that were never scanned.
  const afterScan = output.kind === 'user' || output.kind === 'cache-only';
  const invocation = buildInvocation({ ...run.base, noCache: run.base.noCache && !afterScan, target, output, cacheTo });
  const result = await run.runProcess(invocation.command, invocation.args, { env: invocation.env, baseEnv: run.io.env, mode: run.streamMode, err: run.io.err });
  if (result.exitCode !== 0) throw buildFailureError(result, what, { mirrors: run.mirrors, network: run.options.network });
}

/** A short docker command (tag, load …), silent; its stdout. */
export async function runDocker(run: Run, args: string[], code: 'build-failed' | 'push-failed'): Promise<string> {
  const result = await run.runProcess(run.client.docker, args, { baseEnv: run.io.env, mode: 'silent' });
  if (result.exitCode !== 0)
    throw new EicBuildError(code, `docker ${args[0]} failed: ${lastLines(result.log, 5)}`, {
      hint:
        hintsForLog(result.log)
          .map((h) => h.hint)
          .join(' ') || undefined,
    });
  return result.stdout;
}
