// The two scan routes of a BuildKit builder outside the engine (buildx docker-container driver),
// without Docker: the docker client is the injected process runner (a recorder that writes what a
// build would export), the scan is injected too. A leak publishes nothing; the clean control
// publishes exactly the scanned artifact.
import test from 'ava';
import { mkdir, mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { memoryIo } from '../../src/cli-io.js';
import { parseBuildOptions } from '../../src/commands/build.js';
import { runBuildPipeline, type PipelineDeps, type PipelineScanReport } from '../../src/build/pipeline.js';
import type { ProbeResult } from '../../src/build/probe.js';
import type { ProcessRunner } from '../../src/build/run-client.js';
import { resolveSigningKey } from '../../src/keys/index.js';

const IMAGE_ID = 'sha256:' + 'c'.repeat(64);
const MANIFEST = 'sha256:' + 'd'.repeat(64);
const probe: ProbeResult = {
  client: {
    kind: 'buildx',
    docker: '/recorded/docker',
    buildxVersion: '0.12.1',
    builder: 'recorded',
    driver: 'docker-container',
    buildkitVersion: 'v0.12.5',
    platforms: ['linux/amd64'],
    status: 'running',
  },
  candidates: [],
};

/** Answers like a buildx client: `--output type=oci,dest=D,tar=false` writes a layout, type=docker a tar. */
function recorder(): { calls: string[][]; run: ProcessRunner } {
  const calls: string[][] = [];
  const run: ProcessRunner = async (_command, args) => {
    calls.push(args);
    const output = args[args.indexOf('--output') + 1] ?? '';
    const dest = /dest=([^,]+)/.exec(output)?.[1];
    if (args[1] === 'build' && dest && output.startsWith('type=oci')) {
      await mkdir(dest, { recursive: true });
      await writeFile(
        join(dest, 'index.json'),
        JSON.stringify({ schemaVersion: 2, manifests: [{ mediaType: 'application/vnd.oci.image.manifest.v1+json', digest: MANIFEST, size: 2 }] }),
      );
    } else if (args[1] === 'build' && dest) await writeFile(dest, 'archive');
    return { exitCode: 0, log: '', stdout: '' };
  };
  return { calls, run };
}

function report(leaked: boolean): PipelineScanReport {
  const finding = { detector: 'pgp-armored-private-key', kind: 'armored', path: 'root/key.asc', layer: { index: 1, digest: 'sha256:' + '1'.repeat(64) } };
  return {
    leaked,
    findings: leaked ? [finding] : [],
    notes: [],
    images: [{ configDigest: IMAGE_ID }],
    stats: { layers: 1, bytesScanned: 10, seconds: 0 },
  } as unknown as PipelineScanReport;
}

async function build(t: { teardown: (fn: () => Promise<void>) => void }, leaked: boolean, flags: (dir: string) => string[]) {
  const dir = await mkdtemp(join(tmpdir(), 'eic-build-routes-'));
  t.teardown(() => rm(dir, { recursive: true, force: true }));
  await writeFile(join(dir, 'Dockerfile'), 'FROM scratch\nCOPY Dockerfile /\n');
  const { calls, run } = recorder();
  const scanned: string[] = [];
  const deps: PipelineDeps = {
    resolveKey: (options) => resolveSigningKey(options),
    scan: async (target) => {
      scanned.push(target);
      return report(leaked);
    },
    formatScan: () => '',
    runProcess: run,
  };
  const result = await runBuildPipeline(parseBuildOptions([dir, '--ephemeral-key', ...flags(dir)]), memoryIo({ CI: 'true' }), deps, probe);
  return { dir, result, calls, scanned };
}

test('docker-archive route (--load): the scanned tar is loaded and tagged by the scanned ID; a leak loads nothing', async (t) => {
  const clean = await build(t, false, () => ['--load', '--tag', 'eic-build-test/routes:1']);
  t.is(clean.result.kind, 'published');
  t.regex(clean.scanned[0]!, /^docker-archive:.*image-0\.tar$/);
  const archive = clean.scanned[0]!.slice('docker-archive:'.length);
  t.deepEqual(clean.calls.slice(1), [
    ['load', '-i', archive],
    ['tag', IMAGE_ID, 'eic-build-test/routes:1'],
  ]);
  const leak = await build(t, true, () => ['--load', '--tag', 'eic-build-test/routes:1']);
  t.is(leak.result.kind, 'leak');
  t.deepEqual(
    leak.calls.map((args) => args[1]),
    ['build'],
  );
});

test('oci-layout route (--output type=oci,tar=false): the scanned layout is what is copied; a leak writes nothing', async (t) => {
  const clean = await build(t, false, (dir) => ['--output', `type=oci,dest=${join(dir, 'out')},tar=false`]);
  t.is(clean.result.kind, 'published');
  t.regex(clean.scanned[0]!, /^oci:.*layout-0$/);
  const copied = JSON.parse(await readFile(join(clean.dir, 'out', 'index.json'), 'utf8')) as { manifests: { digest: string }[] };
  t.is(copied.manifests[0]!.digest, MANIFEST);
  t.like(clean.result, { manifestDigest: MANIFEST, configDigest: IMAGE_ID });
  // built once, into the private layout; the copy is not a second build
  t.is(clean.calls.length, 1);
  const leak = await build(t, true, (dir) => ['--output', `type=oci,dest=${join(dir, 'out')},tar=false`]);
  t.is(leak.result.kind, 'leak');
  await t.throwsAsync(stat(join(leak.dir, 'out')));
});

test('oci-layout route (--output type=local): written by a second build only after the scan passed', async (t) => {
  const clean = await build(t, false, (dir) => ['--output', `type=local,dest=${join(dir, 'out')}`]);
  t.is(clean.result.kind, 'published');
  t.is(clean.calls.length, 2);
  t.true(clean.calls[1]!.includes(`type=local,dest=${join(clean.dir, 'out')}`), clean.calls[1]!.join(' '));
  const leak = await build(t, true, (dir) => ['--output', `type=local,dest=${join(dir, 'out')}`]);
  t.is(leak.calls.length, 1);
});

test('--no-cache applies to the scanned build only: the second build that writes --output reuses the scanned steps from the cache', async (t) => {
  const clean = await build(t, false, (dir) => ['--no-cache', '--output', `type=local,dest=${join(dir, 'out')}`]);
  t.is(clean.result.kind, 'published');
  t.is(clean.calls.length, 2);
  t.true(clean.calls[0]!.includes('--no-cache'), clean.calls[0]!.join(' '));
  t.false(clean.calls[1]!.includes('--no-cache'), clean.calls[1]!.join(' '));
});
