// `buildcache verify --copy-to` from file-layout mirrors (a directory, or HTTP): the copy keeps Spack's
// clearsigned documents byte for byte, so it verifies on its own; a tampered source leaves no copy.
import test from 'ava';
import { execa } from 'execa';
import { cp, readdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { repoRoot, runCli } from '../helpers/cli.js';
import {
  fakeHash,
  freshDir,
  listFiles,
  SPACK_FIXTURE,
  SPACK_FIXTURE_KEY,
  specDocument,
  startKeyWorld,
  v2Prefix,
  v2TarballRelPath,
  writeV2Mirror,
  writeV3Mirror,
  type FixtureSpec,
  type KeyWorld,
} from './fixtures.js';
import { serveDirectory } from '../helpers/http-fronts.js';

const FIXTURE = SPACK_FIXTURE;
const FIXTURE_KEY = SPACK_FIXTURE_KEY;
const FIXTURE_ID = 'hello-file-1.0-p6rjdomocw4krnmuwavwdbae56jxt3vo';
const FIXTURE_MANIFEST = `v3/manifests/spec/hello-file/${FIXTURE_ID}.spec.manifest.json`;
const FIXTURE_TARBALL = 'blobs/sha256/ff/ff64ac68af157756bdb6b8b4ef3950d64ad920bc8290853f94637f6369ddb52b';
const FIXTURE_SPEC_BLOB = 'blobs/sha256/81/81133f45bf7cec0d4c5030123285b0435cc6f05716d0102c7ccf5354bac7ba73';
const FIXTURE_INDEX_BLOB = 'blobs/sha256/63/63ee3d3c2d05f193cab58128b93c657e3fef2c53cefed5fc6506fb61bc93f61f';

// Made in a before hook, not at import: `npm run test:unit` loads this file and must not start gpg.
let work!: KeyWorld['work'], alice!: KeyWorld['alice'], stop!: KeyWorld['stop'];
test.before(async () => ({ work, alice, stop } = await startKeyWorld()));
test.after.always(() => stop?.());

const parentDir = (name: string) => freshDir(work, name);

test('[integration] the real Spack v1.1 mirror copies with its clearsigned manifest byte for byte, and the copy verifies on its own', async (t) => {
  const parent = await parentDir('fixture');
  const dir = join(parent, 'verified');
  const run = await runCli(['buildcache', 'verify', `file://${FIXTURE}`, '--public-key', FIXTURE_KEY, '--copy-to', dir]);
  t.is(run.exitCode, 0, `${run.stdout}\n${run.stderr}`);
  t.regex(String(run.stdout), new RegExp(`copy: wrote 1 verified entries \\(6 files, \\d+ bytes\\) to ${dir} as a layout-v3 mirror; clearsigned manifests kept`));
  t.deepEqual(await readdir(parent), ['verified']);
  // Key manifests are left out: trust comes from the pinned key, never from the mirror.
  t.deepEqual(await listFiles(dir), [FIXTURE_INDEX_BLOB, FIXTURE_SPEC_BLOB, FIXTURE_TARBALL, 'v3/layout.json', 'v3/manifests/index/index.manifest.json', FIXTURE_MANIFEST].sort());
  for (const path of [FIXTURE_MANIFEST, FIXTURE_TARBALL, FIXTURE_SPEC_BLOB, 'v3/layout.json', 'v3/manifests/index/index.manifest.json', FIXTURE_INDEX_BLOB]) {
    t.deepEqual(await readFile(join(dir, path)), await readFile(join(FIXTURE, path)), `${path} is byte-identical to what Spack wrote`);
  }
  const again = await runCli(['buildcache', 'verify', `file://${dir}`, '--public-key', FIXTURE_KEY, '--format', 'json']);
  t.is(again.exitCode, 0, String(again.stdout));
  t.like(JSON.parse(String(again.stdout)), { layout: 'v3', ok: true, summary: { verified: 1 } });
});

test('[integration] a swapped blob in the source: exit 1, no copy, nothing left beside it', async (t) => {
  const source = join(work, 'swapped-source');
  await cp(FIXTURE, source, { recursive: true });
  await execa('chmod', ['-R', 'u+w', source]);
  const tarball = await readFile(join(source, FIXTURE_TARBALL));
  tarball[100] = tarball[100]! ^ 0xff;
  await writeFile(join(source, FIXTURE_TARBALL), tarball);
  const parent = await parentDir('swapped');
  const dir = join(parent, 'verified');
  const run = await runCli(['buildcache', 'verify', source, '--public-key', FIXTURE_KEY, '--copy-to', dir, '--format', 'json']);
  t.is(run.exitCode, 1);
  const report = JSON.parse(String(run.stdout)) as { entries: { kind: string }[]; copy: { kind: string; reason: string } };
  t.is(report.entries[0]!.kind, 'checksum-mismatch');
  t.like(report.copy, { kind: 'not-written', reason: '1 of 1 requested entries did not verify' });
  t.deepEqual(await readdir(parent), []);
});

test('[integration] layout v2: the .spec.json.sig and the .spack tarball are copied to their v2 paths, and the copy verifies', async (t) => {
  const source = join(work, 'v2-source');
  const specs: FixtureSpec[] = [
    { name: 'zlib', version: '1.3.1', hash: fakeHash() },
    { name: 'cmake', version: '3.30.0', hash: fakeHash() },
  ];
  await writeV2Mirror(source, specs, alice);
  const dir = join(work, 'v2-copy');
  const pick = specs[0]!;
  const run = await runCli(['buildcache', 'verify', source, '--public-key', alice.publicFile, '--spec', `${pick.name}-${pick.version}-${pick.hash}`, '--copy-to', dir]);
  t.is(run.exitCode, 0, `${run.stdout}\n${run.stderr}`);
  t.regex(String(run.stdout), /as a layout-v2 mirror/);
  const sig = `build_cache/${v2Prefix(pick)}.spec.json.sig`;
  t.deepEqual(await listFiles(dir), [sig, v2TarballRelPath(pick)].sort());
  t.deepEqual(await readFile(join(dir, sig)), await readFile(join(source, sig)));
  t.deepEqual(await readFile(join(dir, v2TarballRelPath(pick))), await readFile(join(source, v2TarballRelPath(pick))));
  const again = await runCli(['buildcache', 'verify', dir, '--public-key', alice.publicFile]);
  t.is(again.exitCode, 0, String(again.stdout));
});

test('[integration] an HTTP-served v3 mirror copies to a directory that verifies', async (t) => {
  const source = join(work, 'http-source');
  const specs: FixtureSpec[] = [
    { name: 'zlib', version: '1.3.1', hash: fakeHash() },
    { name: 'hdf5', version: '1.14.5', hash: fakeHash() },
  ];
  await writeV3Mirror(source, specs, alice);
  const server = await serveDirectory(source);
  t.teardown(server.close);
  const url = `${server.url}/`;
  const dir = join(work, 'http-copy');
  const ids = specs.map((s) => `${s.name}-${s.version}-${s.hash}`);
  const run = await runCli(['buildcache', 'verify', url, '--public-key', alice.publicFile, ...ids.flatMap((id) => ['--spec', id]), '--copy-to', dir]);
  t.is(run.exitCode, 0, `${run.stdout}\n${run.stderr}`);
  const again = await runCli(['buildcache', 'verify', dir, '--public-key', alice.publicFile, '--format', 'json']);
  t.is(again.exitCode, 0, String(again.stdout));
  const report = JSON.parse(String(again.stdout)) as { entries: { id: string; kind: string }[] };
  t.deepEqual(report.entries.map((e) => e.id).sort(), [...ids].sort());
  // The copy's index names both entries (the source had none): Spack can list it.
  const index = await runCli(['buildcache', 'verify', `file://${dir}`, '--public-key', alice.publicFile]);
  t.regex(String(index.stdout), /2 entries: 2 verified/);
});

test('[integration] an entry signed by an unpinned key: exit 1 and no copy', async (t) => {
  const source = join(work, 'unpinned-source');
  await writeV3Mirror(source, [{ name: 'zlib', version: '1.3.1', hash: fakeHash() }], alice);
  const parent = await parentDir('unpinned');
  const run = await runCli(['buildcache', 'verify', source, '--public-key', FIXTURE_KEY, '--copy-to', join(parent, 'verified')]);
  t.is(run.exitCode, 1);
  t.regex(String(run.stdout), /untrusted-signer/);
  t.regex(String(run.stdout), /copy: nothing written/);
  t.deepEqual(await readdir(parent), []);
});

test('[integration] interrupted mid-download (SIGINT): no DIR and no staging directory remain', async (t) => {
  const source = join(work, 'stall-source');
  const spec: FixtureSpec = { name: 'zlib', version: '1.3.1', hash: fakeHash() };
  await writeV3Mirror(source, [spec], alice);
  let stalled = 0;
  // Serves the mirror, but a tarball only half: the copy is caught in the middle of receiving it.
  const server = await serveDirectory(source, {
    serve: (path, body, res) => {
      if (!(path.startsWith('/blobs/') && body[0] === 0x1f && body[1] === 0x8b)) return false;
      stalled += 1;
      res.writeHead(200, { 'content-length': String(body.length) });
      res.write(body.subarray(0, body.length >> 1));
      return true;
    },
  });
  t.teardown(server.close);
  const parent = await parentDir('interrupted');
  const url = `${server.url}/`;
  const child = execa(
    process.execPath,
    [
      '--import',
      'tsx',
      join(repoRoot, 'src/cli.ts'),
      'buildcache',
      'verify',
      url,
      '--public-key',
      alice.publicFile,
      '--spec',
      `${spec.name}-${spec.version}-${spec.hash}`,
      '--copy-to',
      join(parent, 'verified'),
    ],
    { cwd: repoRoot, reject: false },
  );
  // Only a wait (it ends once the download stalls): wide, as the CLI from source starts slowly on a loaded machine.
  const deadline = Date.now() + 180_000;
  while (stalled === 0 && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 50));
  const during = await readdir(parent);
  t.is(during.length, 1);
  t.regex(during[0]!, /^\.verified\.eic-build-/, 'the copy is built in a hidden sibling');
  child.kill('SIGINT');
  const result = await child;
  t.not(result.exitCode, 0);
  t.deepEqual(await readdir(parent), []);
});

test('[integration] a mirror that cannot be read: exit 2, no DIR, no staging directory', async (t) => {
  const parent = await parentDir('unreadable');
  const run = await runCli(['buildcache', 'verify', join(work, 'no-such-mirror'), '--public-key', FIXTURE_KEY, '--copy-to', join(parent, 'verified')]);
  t.is(run.exitCode, 2);
  t.regex(String(run.stderr), /is not a Spack buildcache/);
  t.deepEqual(await readdir(parent), []);
});

test("[integration] P's validly signed manifest placed at its dependency D's path: D is not copied (exit 1)", async (t) => {
  const source = join(work, 'swapped-entry-source');
  const d: FixtureSpec = { name: 'zlib', version: '1.3.1', hash: fakeHash() };
  const p: FixtureSpec = { name: 'app', version: '2.0', hash: fakeHash(), deps: [d] };
  await writeV3Mirror(source, [p, d], alice);
  const manifestPath = (s: FixtureSpec) => join(source, `v3/manifests/spec/${s.name}/${s.name}-${s.version}-${s.hash}.spec.manifest.json`);
  await writeFile(manifestPath(d), await readFile(manifestPath(p)));
  const parent = await parentDir('swapped-entry');
  const run = await runCli([
    'buildcache',
    'verify',
    source,
    '--public-key',
    alice.publicFile,
    '--spec',
    `${d.name}-${d.version}-${d.hash}`,
    '--copy-to',
    join(parent, 'verified'),
    '--format',
    'json',
  ]);
  t.is(run.exitCode, 1, String(run.stdout));
  const report = JSON.parse(String(run.stdout)) as { entries: { kind: string; detail: string }[]; copy: { kind: string } };
  t.regex(report.entries[0]!.detail, new RegExp(`the signed spec is app-2\\.0-${p.hash}, not zlib-1\\.3\\.1-${d.hash}`));
  t.is(report.copy.kind, 'not-written');
  t.deepEqual(await readdir(parent), []);
});

test("[integration] layout v2: C's validly signed .spec.json.sig placed at B's path: B is not copied (exit 1)", async (t) => {
  const source = join(work, 'v2-swapped-source');
  const b: FixtureSpec = { name: 'zlib', version: '1.3.1', hash: fakeHash() };
  const c: FixtureSpec = { name: 'cmake', version: '3.30.0', hash: fakeHash() };
  await writeV2Mirror(source, [b, c], alice);
  const sigPath = (s: FixtureSpec) => join(source, `build_cache/${v2Prefix(s)}.spec.json.sig`);
  await writeFile(sigPath(b), await readFile(sigPath(c)));
  // Served over HTTP, the entries come from the index, which names B at its own path (a directory
  // listing would name the file by the spec inside it).
  const installs = Object.fromEntries([b, c].map((s) => [s.hash, { spec: specDocument(s).spec.nodes[0], ref_count: 0, in_buildcache: true }]));
  await writeFile(join(source, 'build_cache/index.json'), JSON.stringify({ database: { version: '6', installs } }));
  const server = await serveDirectory(source);
  t.teardown(server.close);
  const parent = await parentDir('v2-swapped');
  const run = await runCli([
    'buildcache',
    'verify',
    `${server.url}/`,
    '--public-key',
    alice.publicFile,
    '--spec',
    `${b.name}-${b.version}-${b.hash}`,
    '--copy-to',
    join(parent, 'verified'),
    '--format',
    'json',
  ]);
  t.is(run.exitCode, 1, String(run.stdout));
  const report = JSON.parse(String(run.stdout)) as { entries: { kind: string; detail: string }[]; copy: { kind: string } };
  t.regex(report.entries[0]!.detail, new RegExp(`the signed spec is cmake-3\\.30\\.0-${c.hash}, not zlib-1\\.3\\.1-${b.hash}`));
  t.is(report.copy.kind, 'not-written');
  t.deepEqual(await readdir(parent), []);
});

test('[integration] a server sending more bytes than the signed contentLength: the download stops at once, exit 1, no copy', async (t) => {
  const source = join(work, 'endless-source');
  const spec: FixtureSpec = { name: 'zlib', version: '1.3.1', hash: fakeHash() };
  await writeV3Mirror(source, [spec], alice);
  const timers = new Set<NodeJS.Timeout>();
  t.teardown(() => timers.forEach(clearInterval));
  // The tarball (gzip magic) comes with no length and never ends: only the signed size can stop it.
  const server = await serveDirectory(source, {
    serve: (path, body, res) => {
      if (!(path.startsWith('/blobs/') && body[0] === 0x1f && body[1] === 0x8b)) return false;
      res.writeHead(200);
      res.write(body);
      const timer = setInterval(() => res.write(Buffer.alloc(64 * 1024)), 5);
      timers.add(timer);
      res.on('close', () => clearInterval(timer));
      return true;
    },
  });
  t.teardown(server.close);
  const parent = await parentDir('endless');
  // The timeout only ends a hang (the cap not holding: the body never ends); the verdict does not depend on
  // speed, and the CLI from source takes many seconds to start on a loaded machine.
  const run = await runCli(
    [
      'buildcache',
      'verify',
      `${server.url}/`,
      '--public-key',
      alice.publicFile,
      '--spec',
      `${spec.name}-${spec.version}-${spec.hash}`,
      '--copy-to',
      join(parent, 'verified'),
      '--format',
      'json',
    ],
    { timeout: 300_000 },
  );
  t.is(run.exitCode, 1, `${run.stdout}\n${run.stderr}`);
  const report = JSON.parse(String(run.stdout)) as { entries: { kind: string; detail: string }[]; copy: { kind: string } };
  t.like(report.entries[0], { kind: 'checksum-mismatch' });
  t.regex(report.entries[0]!.detail, /is larger than the \d+ bytes the manifest says \(download stopped\)/);
  t.is(report.copy.kind, 'not-written');
  t.deepEqual(await readdir(parent), []);
});

test('[integration] a mirror URL with user:token@ is refused (exit 2) and the token appears in neither stdout nor stderr', async (t) => {
  const token = `ghp_${fakeHash()}`;
  const parent = await parentDir('credentials');
  for (const url of [
    `https://builder:${token}@127.0.0.1:9/mirror`,
    `http://${token}@127.0.0.1:9/`,
    `oci://builder:${token}@127.0.0.1:9/eic/cache`,
    `oci+http://${token}@127.0.0.1:9/eic/cache`,
  ]) {
    const run = await runCli(['buildcache', 'verify', url, '--public-key', alice.publicFile, '--all', '--copy-to', join(parent, 'verified')]);
    t.is(run.exitCode, 2, url);
    t.regex(String(run.stderr), /credentials in a mirror URL are not supported/);
    t.regex(String(run.stderr), /@127\.0\.0\.1:9/, 'the host is named');
    t.false(String(run.stdout).includes(token), `stdout of ${url}`);
    t.false(String(run.stderr).includes(token), `stderr of ${url}`);
  }
  t.deepEqual(await readdir(parent), []);
});
