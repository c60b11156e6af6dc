// The build's central promise without Docker: when the scan finds a leak, nothing is tagged, loaded or
// pushed. The docker client is the injected process runner (a recorder that answers like a client
// would), the scan is injected too; the key layer, the plan and the gate are the real ones.
import test from 'ava';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { memoryIo } from '../../src/cli-io.js';
import { parseBuildOptions } from '../../src/commands/build.js';
import { runBuildPipeline, type PipelineDeps, type PipelineScanReport } from '../../src/build/pipeline.js';
import type { ProbeResult } from '../../src/build/probe.js';
import type { ProcessRunner } from '../../src/build/run-client.js';
import { resolveSigningKey } from '../../src/keys/index.js';

const probe: ProbeResult = { client: { kind: 'builtin', docker: '/recorded/docker', clientVersion: '20.10.24', serverVersion: '20.10.24' }, candidates: [] };

/** A recorder standing in for the docker client: writes the --iidfile a build asks for, answers 0. */
function recorder(): { calls: string[][]; run: ProcessRunner } {
  const calls: string[][] = [];
  const run: ProcessRunner = async (_command, args) => {
    calls.push(args);
    const iid = args.indexOf('--iidfile');
    if (iid >= 0) await writeFile(args[iid + 1]!, 'sha256:5dbf9a39e6f795a1685ed459cde4394db12faa37bef88be3be2a68a812f90f9e\n');
    // `image inspect` of the base: unknown here, so every finding counts as this build's.
    return { exitCode: args[0] === 'image' ? 1 : 0, log: '', stdout: '' };
  };
  return { calls, run };
}

function report(leaked: boolean): PipelineScanReport {
  const finding = { detector: 'pgp-armored-private-key', kind: 'armored', path: 'root/key.asc', layer: { index: 1, digest: 'sha256:' + '1'.repeat(64) } };
  return {
    leaked,
    findings: leaked ? [finding] : [],
    notes: [],
    images: [{ configDigest: 'sha256:5dbf9a39e6f795a1685ed459cde4394db12faa37bef88be3be2a68a812f90f9e' }],
    stats: { layers: 2, bytesScanned: 1024, seconds: 0.1 },
  } as unknown as PipelineScanReport;
}

async function build(t: { teardown: (fn: () => Promise<void>) => void }, leaked: boolean, destination: string[]) {
  const dir = await mkdtemp(join(tmpdir(), 'eic-build-gate-'));
  t.teardown(() => rm(dir, { recursive: true, force: true }));
  await writeFile(join(dir, 'Dockerfile'), 'FROM busybox\nRUN true\n');
  const { calls, run } = recorder();
  const deps: PipelineDeps = {
    resolveKey: (options) => resolveSigningKey(options),
    scan: async () => report(leaked),
    formatScan: () => '',
    runProcess: run,
  };
  const result = await runBuildPipeline(parseBuildOptions([dir, '--ephemeral-key', '--tag', 'eic-build-test/leak-gate:1', ...destination]), memoryIo({ CI: 'true' }), deps, probe);
  return { result, verbs: calls.map((args) => args[0]) };
}

for (const destination of [['--push'], ['--load']]) {
  test(`a leak found by the scan: nothing is tagged, loaded or pushed (${destination[0]})`, async (t) => {
    const { result, verbs } = await build(t, true, destination);
    t.is(result.kind, 'leak');
    t.true(verbs.includes('build'), verbs.join(' '));
    t.false(
      verbs.some((verb) => verb === 'tag' || verb === 'push' || verb === 'load'),
      verbs.join(' '),
    );
    // the private scan tag is removed again
    t.true(verbs.includes('rmi'), verbs.join(' '));
  });
}

// (--load: a push would read the manifest back from the registry, which is not here.)
test('the control: a clean scan tags exactly the scanned image', async (t) => {
  const { result, verbs } = await build(t, false, ['--load']);
  t.is(result.kind, 'published');
  t.true(verbs.includes('tag'), verbs.join(' '));
});
