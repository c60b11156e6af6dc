// `buildcache verify --spack-lock` against file-layout mirrors: the real Spack v1.1 signed mirror, an
// HTTP-served v3 mirror with no index (entries found at their exact path), and a layout-v2 directory.
import test from 'ava';
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { runCli } from '../helpers/cli.js';
import { serveDirectory } from '../helpers/http-fronts.js';
import { fakeHash, SPACK_FIXTURE, SPACK_FIXTURE_KEY, spackLockFile, startKeyWorld, writeV2Mirror, writeV3Mirror, type FixtureSpec, type KeyWorld } from './fixtures.js';

const FIXTURE = SPACK_FIXTURE;
const FIXTURE_KEY = SPACK_FIXTURE_KEY;
const HELLO: FixtureSpec = { name: 'hello-file', version: '1.0', hash: 'p6rjdomocw4krnmuwavwdbae56jxt3vo' };
const FIXTURE_MANIFEST = `v3/manifests/spec/hello-file/hello-file-1.0-${HELLO.hash}.spec.manifest.json`;

// Made in a before hook, not at import: `npm run test:unit` loads this file and must not start gpg.
let work!: KeyWorld['work'], alice!: KeyWorld['alice'], stop!: KeyWorld['stop'];
test.before(async () => ({ work, alice, stop } = await startKeyWorld()));
test.after.always(() => stop?.());

const idOf = (spec: FixtureSpec) => `${spec.name}-${spec.version}-${spec.hash}`;

interface JsonReport {
  ok: boolean;
  layout: string;
  entries: { kind: string; id: string }[];
  lock: { selected: number; present: number; verified: number; absent: number };
  copy?: { kind: string; entries: number };
}

test('[integration] the real Spack v1.1 v3 mirror: a lock naming hello-file verifies it (exit 0); --copy-to copies it byte for byte', async (t) => {
  const absent: FixtureSpec = { name: 'zlib', version: '1.3.1', hash: fakeHash() };
  const lock = await spackLockFile(join(work, 'hello.spack.lock'), {
    roots: [HELLO],
    nodes: [{ spec: HELLO, deps: [{ spec: absent, types: ['link'] }] }, { spec: absent }],
  });
  const run = await runCli(['buildcache', 'verify', `file://${FIXTURE}`, '--public-key', FIXTURE_KEY, '--spack-lock', lock, '--format', 'json']);
  t.is(run.exitCode, 0, `${run.stdout}\n${run.stderr}`);
  const report = JSON.parse(String(run.stdout)) as JsonReport;
  t.like(report, { ok: true, layout: 'v3', lock: { selected: 2, present: 1, verified: 1, absent: 1 } });
  t.deepEqual(Object.fromEntries(report.entries.map((e) => [e.id, e.kind])), { [idOf(HELLO)]: 'verified', [idOf(absent)]: 'absent' });

  const dir = join(work, 'hello-copy');
  const copied = await runCli(['buildcache', 'verify', FIXTURE, '--public-key', FIXTURE_KEY, '--spack-lock', lock, '--copy-to', dir]);
  t.is(copied.exitCode, 0, `${copied.stdout}\n${copied.stderr}`);
  t.regex(String(copied.stdout), /copy: wrote 1 verified entries/);
  t.deepEqual(await readFile(join(dir, FIXTURE_MANIFEST)), await readFile(join(FIXTURE, FIXTURE_MANIFEST)));
  t.deepEqual(await readdir(join(dir, 'v3/manifests/spec')), ['hello-file']);
});

test('[integration] a lock none of whose entries the mirror holds: exit 0, nothing to verify, an empty copy', async (t) => {
  const other: FixtureSpec = { name: 'zlib', version: '1.3.1', hash: fakeHash() };
  const lock = await spackLockFile(join(work, 'none.spack.lock'), { roots: [other], nodes: [{ spec: other }] });
  const dir = join(work, 'none-copy');
  const run = await runCli(['buildcache', 'verify', FIXTURE, '--public-key', FIXTURE_KEY, '--spack-lock', lock, '--copy-to', dir]);
  t.is(run.exitCode, 0, `${run.stdout}\n${run.stderr}`);
  t.regex(String(run.stdout), /1 entries selected \(0 external, 0 build-only not selected\); none is in this mirror: nothing to verify \(1 absent/);
  t.regex(String(run.stdout), /copy: wrote 0 verified entries/);
  t.deepEqual(await readdir(join(dir, 'v3')), ['layout.json', 'manifests'], 'an empty mirror Spack can read');
});

test('[integration] HTTP v3 mirror without an index: lock entries are found at their exact path, one request per absent entry; an unsigned one fails', async (t) => {
  const source = join(work, 'http-lock');
  const zlib: FixtureSpec = { name: 'zlib', version: '1.3.1', hash: fakeHash() };
  const hdf5: FixtureSpec = { name: 'hdf5', version: '1.14.5', hash: fakeHash() };
  const gone: FixtureSpec = { name: 'python', version: '3.12.5', hash: fakeHash() };
  await writeV3Mirror(source, [zlib, hdf5], alice);
  const seen: string[] = [];
  const server = await serveDirectory(source, { onRequest: (path) => seen.push(path) });
  t.teardown(server.close);
  const url = `${server.url}/`;
  const lock = await spackLockFile(join(work, 'http.spack.lock'), {
    roots: [hdf5],
    nodes: [
      {
        spec: hdf5,
        deps: [
          { spec: zlib, types: ['build', 'link'] },
          { spec: gone, types: ['run'] },
        ],
      },
      { spec: zlib },
      { spec: gone },
    ],
  });
  const run = await runCli(['buildcache', 'verify', url, '--public-key', alice.publicFile, '--spack-lock', lock, '--format', 'json']);
  t.is(run.exitCode, 0, `${run.stdout}\n${run.stderr}`);
  const report = JSON.parse(String(run.stdout)) as JsonReport;
  t.deepEqual(Object.fromEntries(report.entries.map((e) => [e.id, e.kind])), { [idOf(zlib)]: 'verified', [idOf(hdf5)]: 'verified', [idOf(gone)]: 'absent' });
  t.deepEqual(
    seen.filter((p) => p.includes(gone.hash)),
    [`/v3/manifests/spec/python/${idOf(gone)}.spec.manifest.json`],
  );

  // Unsigned mirror: the present entries fail.
  const unsignedRoot = join(work, 'http-unsigned');
  await writeV3Mirror(unsignedRoot, [zlib], undefined);
  const unsigned = await runCli(['buildcache', 'verify', `file://${unsignedRoot}`, '--public-key', alice.publicFile, '--spack-lock', lock]);
  t.is(unsigned.exitCode, 1, String(unsigned.stdout));
  t.regex(String(unsigned.stdout), new RegExp(`^unsigned\\s+${idOf(zlib)}`, 'm'));
});

test('[integration] layout v2 directory: the lock selects the signed spec files (exit 0)', async (t) => {
  const root = join(work, 'v2-lock');
  const zlib: FixtureSpec = { name: 'zlib', version: '1.2.13', hash: fakeHash() };
  const cmake: FixtureSpec = { name: 'cmake', version: '3.27.9', hash: fakeHash() };
  await writeV2Mirror(root, [zlib, cmake], alice);
  const lock = await spackLockFile(join(work, 'v2.spack.lock'), { version: 5, roots: [zlib], nodes: [{ spec: zlib, deps: [{ spec: cmake, types: ['build'] }] }, { spec: cmake }] });
  const run = await runCli(['buildcache', 'verify', root, '--public-key', alice.publicFile, '--spack-lock', lock, '--format', 'json']);
  t.is(run.exitCode, 0, `${run.stdout}\n${run.stderr}`);
  const report = JSON.parse(String(run.stdout)) as JsonReport;
  t.like(report, { layout: 'v2', lock: { selected: 1, present: 1, verified: 1, absent: 0 } });
  t.deepEqual(
    report.entries.map((e) => e.id),
    [idOf(zlib)],
    'cmake (build-only) is not selected',
  );
});
