import test from 'ava';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { memoryIo } from '../../src/cli-io.js';
import { EicBuildError } from '../../src/errors.js';
import { parseBuildOptions } from '../../src/commands/build.js';
import { runBuildPipeline, type PipelineDeps } from '../../src/build/pipeline.js';
import type { ProbeResult } from '../../src/build/probe.js';

// No Docker needed: the check runs before the client is used or the key resolved (a probe result
// for a client that is never started is handed in).
const probe: ProbeResult = { client: { kind: 'builtin', docker: '/nonexistent/docker', clientVersion: '20.10.24', serverVersion: '20.10.24' }, candidates: [] };

const deps: PipelineDeps = {
  resolveKey: async () => {
    throw new Error('must not resolve the key');
  },
  scan: async () => {
    throw new Error('must not scan');
  },
  formatScan: () => '',
};

async function context(t: { teardown: (fn: () => Promise<void>) => void }): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'eic-build-early-'));
  t.teardown(() => rm(dir, { recursive: true, force: true }));
  await writeFile(join(dir, 'Dockerfile'), 'FROM scratch\n');
  return dir;
}

test('build refuses a malformed EIC_BUILD_SCAN_* variable before anything is built, not at the scan after it', async (t) => {
  const dir = await context(t);
  const error = await t.throwsAsync(runBuildPipeline(parseBuildOptions([dir]), memoryIo({ EIC_BUILD_SCAN_CONCURRENCY: 'lots' }), deps, probe), { instanceOf: EicBuildError });
  t.is(error!.code, 'usage');
  t.regex(error!.message, /EIC_BUILD_SCAN_CONCURRENCY="lots" is not an integer from 1 to 64/);
});

test('build refuses a --metadata-file it could not write before anything is built, not after the push', async (t) => {
  const dir = await context(t);
  const target = join(dir, 'no-such-dir', 'metadata.json');
  const error = await t.throwsAsync(runBuildPipeline(parseBuildOptions([dir, '--metadata-file', target]), memoryIo({}), deps, probe), { instanceOf: EicBuildError });
  t.is(error!.code, 'output-unwritable');
  t.regex(error!.message, /--metadata-file .*no-such-dir\/metadata\.json: cannot write it: directory .* does not exist/);
});
