import { spawnSync } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { releaseOnExit, removeOnExit, runOnExit } from '../exit-cleanup.js';
import { killLiveClients, type ProcessRunner } from './run-client.js';

/** What one build leaves behind while it runs: a work dir and private scan tags in the engine. */
export interface RunScope {
  /** Private to the run (image IDs, exported layouts); nothing secret, but it must not outlive the run. */
  work: string;
  /** Private scan tags; the steps add to it (and take out a tag the user keeps). */
  scanTags: string[];
  /** Drop the scan tags and the work dir, and stop watching for an early exit. */
  close(): Promise<void>;
}

/**
 * Open the run's scope. Interrupted (signal or crash), the one shutdown path (exit-cleanup) stops
 * the docker client and drops the private scan tags, then removes the work dir and the temp secret
 * files and re-raises the signal.
 */
export async function openRunScope(docker: string, env: NodeJS.ProcessEnv, runProcess: ProcessRunner): Promise<RunScope> {
  const work = await mkdtemp(join(tmpdir(), 'eic-build-run-'));
  removeOnExit(work, 'build-work');
  const scanTags: string[] = [];
  const releaseExitAction = runOnExit((signal) => {
    killLiveClients(signal ?? 'SIGTERM');
    // Synchronous: exit handlers cannot wait for a promise.
    for (const tag of scanTags) spawnSync(docker, ['rmi', '--no-prune', tag], { stdio: 'ignore', env, timeout: 10_000 });
  });
  return {
    work,
    scanTags,
    async close() {
      for (const tag of scanTags) await runProcess(docker, ['rmi', '--no-prune', tag], { baseEnv: env, mode: 'silent' }).catch(() => undefined);
      releaseExitAction();
      await rm(work, { recursive: true, force: true });
      releaseOnExit(work);
    },
  };
}
