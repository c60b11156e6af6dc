// `buildcache verify --spack-lock` against OCI buildcaches on a real loopback registry, with real gpg keys:
// the lock's entries this mirror holds must verify, those it lacks are 'absent' (not a failure), externals
// and build-only dependencies are not selected, and --copy-to copies exactly the present verified entries.
import test from 'ava';
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { signOciMirror } from '../../src/buildcache/sign/sign-oci.js';
import { parseSpackLockSelection } from '../../src/buildcache/spack-lock.js';
import { verifyOciMirror } from '../../src/buildcache/verify/verify-oci.js';
import { RegistryClient } from '../../src/registry/client.js';
import { runCli } from '../helpers/cli.js';
import { startFront } from '../helpers/http-fronts.js';
import { fakeHash, pushOciEntry, pushOciEntryWithDeps, spackLockFile, specTarball, startSigningWorld, type FixtureSpec, type SigningWorld } from './fixtures.js';

// Made in a before hook, not at import: `npm run test:unit` loads this file and must not start gpg.
let registry!: SigningWorld['registry'],
  client!: SigningWorld['client'],
  work!: SigningWorld['work'],
  alice!: SigningWorld['alice'],
  signingKey!: SigningWorld['signingKey'],
  trusted!: SigningWorld['trusted'],
  stop!: SigningWorld['stop'];
test.before(async () => ({ registry, client, work, alice, signingKey, trusted, stop } = await startSigningWorld()));
test.after.always(() => stop?.());

const idOf = (spec: FixtureSpec) => `${spec.name}-${spec.version}-${spec.hash}`;

/**
 * The mirror holds zlib, app (layers: zlib's tarball, then its own) and gcc; `unsigned` entries are pushed
 * after signing. The lock: root app links zlib and (external) gcc, runs python (in no mirror here) and builds
 * with cmake (build-only; in the mirror only when `withCmake`).
 */
async function seed(repo: string, options: { unsigned?: boolean; withCmake?: boolean } = {}) {
  const specs = {
    zlib: { name: 'zlib', version: '1.3.1', hash: fakeHash() },
    app: { name: 'app', version: '2.0', hash: fakeHash() },
    gcc: { name: 'gcc', version: '12.2.0', hash: fakeHash() },
    python: { name: 'python', version: '3.12.5', hash: fakeHash() },
    cmake: { name: 'cmake', version: '3.31.2', hash: fakeHash() },
  } satisfies Record<string, FixtureSpec>;
  const zlibTarball = await specTarball(specs.zlib);
  const zlib = await pushOciEntry(client, repo, specs.zlib, zlibTarball);
  await pushOciEntryWithDeps(client, repo, specs.app, [{ digest: zlib.layerDigest, size: zlibTarball.length }]);
  await pushOciEntry(client, repo, specs.gcc);
  if (options.withCmake) await pushOciEntry(client, repo, specs.cmake);
  // `unsigned`: zlib is left out of the signing run.
  const signed = [specs.app, specs.gcc, ...(options.unsigned ? [] : [specs.zlib]), ...(options.withCmake ? [specs.cmake] : [])];
  await signOciMirror(client, { repository: repo, signingKey, specs: signed.map(idOf) });
  const lock = await spackLockFile(join(work, `${repo.replace(/\W/g, '_')}.spack.lock`), {
    roots: [specs.app],
    nodes: [
      {
        spec: specs.app,
        deps: [
          { spec: specs.zlib, types: ['build', 'link'] },
          { spec: specs.gcc, types: ['build', 'link'] },
          { spec: specs.python, types: ['run'] },
          { spec: specs.cmake, types: ['build'] },
        ],
      },
      { spec: specs.zlib },
      { spec: specs.gcc, external: true },
      { spec: specs.python },
      { spec: specs.cmake },
    ],
  });
  return { specs, lock };
}

async function listFiles(dir: string): Promise<string[]> {
  const entries = await readdir(dir, { recursive: true, withFileTypes: true });
  return entries
    .filter((e) => e.isFile())
    .map((e) => join(e.parentPath, e.name).slice(dir.length + 1))
    .sort();
}

interface JsonReport {
  ok: boolean;
  entries: { kind: string; id: string; detail: string }[];
  summary: Record<string, number>;
  lock: { file: string; lockfileVersion: number; selected: number; present: number; verified: number; absent: number; skipped: { external: number; buildOnly: number } };
  copy?: { kind: string; entries: number };
}

test("[integration] OCI: the lock's 2 present entries verify, 1 is absent, the external is not selected: exit 0 (CLI, json)", async (t) => {
  const repo = 'eic/lock-basic';
  const { specs, lock } = await seed(repo);
  const run = await runCli(['buildcache', 'verify', `oci+http://${registry.host}/${repo}`, '--public-key', alice.publicFile, '--spack-lock', lock, '--format', 'json']);
  t.is(run.exitCode, 0, `${run.stdout}\n${run.stderr}`);
  const report = JSON.parse(String(run.stdout)) as JsonReport;
  t.true(report.ok);
  const kinds = Object.fromEntries(report.entries.map((e) => [e.id, e.kind]));
  t.deepEqual(kinds, { [idOf(specs.app)]: 'verified', [idOf(specs.zlib)]: 'verified', [idOf(specs.python)]: 'absent' });
  t.false(idOf(specs.gcc) in kinds, 'the external gcc is in the mirror but not selected');
  t.false(idOf(specs.cmake) in kinds, 'the build-only cmake is not selected');
  t.deepEqual(report.summary, { verified: 2, absent: 1 });
  t.deepEqual(report.lock, {
    file: lock,
    lockfileVersion: 6,
    includeBuildDeps: false,
    selected: 3,
    present: 2,
    verified: 2,
    absent: 1,
    skipped: { external: 1, buildOnly: 1, unreachable: 0 },
  } as JsonReport['lock']);
  t.regex(report.entries.find((e) => e.kind === 'absent')!.detail, /not in this mirror; another mirror must provide it, or spack install fails/);

  const text = await runCli(['buildcache', 'verify', `oci+http://${registry.host}/${repo}`, '--public-key', alice.publicFile, '--spack-lock', lock]);
  t.is(text.exitCode, 0);
  t.regex(
    String(text.stdout),
    new RegExp(`lock: ${lock} \\(lockfile v6\\): 3 entries selected \\(1 external, 1 build-only not selected\\); 2 in this mirror, 2 verified; 1 absent`),
  );
  t.regex(String(text.stdout), new RegExp(`^absent\\s+${idOf(specs.python)}\\s+not in this mirror`, 'm'));
});

test('[integration] OCI --copy-to with a lock: the copy holds exactly the 2 present verified entries', async (t) => {
  const repo = 'eic/lock-copy';
  const { specs, lock } = await seed(repo);
  const dir = join(work, 'lock-copy');
  const run = await runCli([
    'buildcache',
    'verify',
    `oci+http://${registry.host}/${repo}`,
    '--public-key',
    alice.publicFile,
    '--spack-lock',
    lock,
    '--copy-to',
    dir,
    '--format',
    'json',
  ]);
  t.is(run.exitCode, 0, `${run.stdout}\n${run.stderr}`);
  const report = JSON.parse(String(run.stdout)) as JsonReport;
  t.like(report, { ok: true, copy: { kind: 'written', entries: 2 }, lock: { verified: 2, absent: 1 } });
  const manifests = (await listFiles(dir)).filter((f) => f.startsWith('v3/manifests/spec/'));
  t.deepEqual(
    manifests,
    [specs.app, specs.zlib].map((s) => `v3/manifests/spec/${s.name}/${idOf(s)}.spec.manifest.json`),
  );
  // The index Spack reads names exactly the two as well.
  const indexManifest = JSON.parse(await readFile(join(dir, 'v3/manifests/index/index.manifest.json'), 'utf8')) as { data: { checksum: string }[] };
  const sum = indexManifest.data[0]!.checksum;
  const database = JSON.parse(await readFile(join(dir, 'blobs/sha256', sum.slice(0, 2), sum), 'utf8')) as { database: { installs: Record<string, unknown> } };
  t.deepEqual(Object.keys(database.database.installs).sort(), [specs.app.hash, specs.zlib.hash].sort());
});

test('[integration] OCI: a present lock entry that is unsigned fails the run (exit 1) and nothing is copied', async (t) => {
  const repo = 'eic/lock-unsigned';
  const { specs, lock } = await seed(repo, { unsigned: true });
  const dir = join(work, 'lock-unsigned-copy');
  const run = await runCli(['buildcache', 'verify', `oci+http://${registry.host}/${repo}`, '--public-key', alice.publicFile, '--spack-lock', lock, '--copy-to', dir]);
  t.is(run.exitCode, 1, `${run.stdout}\n${run.stderr}`);
  const out = String(run.stdout);
  t.regex(out, new RegExp(`^unsigned\\s+${idOf(specs.zlib)}`, 'm'));
  t.regex(out, new RegExp(`^absent\\s+${idOf(specs.python)}`, 'm'));
  t.regex(out, /copy: nothing written to .*: 1 of 2 requested entries did not verify/);
  t.false(
    (await readdir(work)).some((name) => name.includes('lock-unsigned-copy')),
    'no DIR and no staging directory',
  );
});

test('[integration] OCI: absent entries cost no request beyond the one tag listing; --include-build-deps selects cmake', async (t) => {
  const repo = 'eic/lock-requests';
  const { specs, lock } = await seed(repo, { withCmake: true });
  const seen: string[] = [];
  const front = await startFront(registry.url, { onRequest: (req) => seen.push(`${req.method} ${req.url}`) });
  t.teardown(front.close);
  const proxied = new RegistryClient({ registry: front.host, insecure: true });
  const selection = parseSpackLockSelection(await readFile(lock, 'utf8'), lock);
  const report = await verifyOciMirror(proxied, { mirror: repo, repository: repo, trusted, lock: selection });
  t.deepEqual(report.entries.map((e) => e.kind).sort(), ['absent', 'verified', 'verified']);
  t.is(seen.filter((r) => r.includes('/tags/list')).length, 1, 'one tag listing');
  t.deepEqual(
    seen.filter((r) => r.includes(specs.python.hash)),
    [],
    'no request for the absent entry',
  );
  t.deepEqual(
    seen.filter((r) => r.includes(specs.gcc.hash) || r.includes(specs.cmake.hash)),
    [],
    'none for the external or the build-only entry',
  );

  const withBuild = parseSpackLockSelection(await readFile(lock, 'utf8'), lock, { includeBuildDeps: true });
  const full = await verifyOciMirror(client, { mirror: repo, repository: repo, trusted, lock: withBuild });
  t.deepEqual(Object.fromEntries(full.entries.map((e) => [e.id, e.kind])), {
    [idOf(specs.app)]: 'verified',
    [idOf(specs.cmake)]: 'verified',
    [idOf(specs.zlib)]: 'verified',
    [idOf(specs.python)]: 'absent',
  });
  t.like(full.lock, { includeBuildDeps: true, selected: 4, skipped: { external: 1, buildOnly: 0 } });
});
