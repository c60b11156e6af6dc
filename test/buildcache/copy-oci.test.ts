// `buildcache verify --copy-to` from an OCI buildcache on a real loopback registry: the copy is an
// unsigned Spack layout-v3 mirror holding exactly the verified bytes, or nothing at all.
import test from 'ava';
import { createHash } from 'node:crypto';
import { mkdir, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { copyOciEntry } from '../../src/buildcache/copy/copy-oci.js';
import { openCopyTarget } from '../../src/buildcache/copy/copy-target.js';
import { verifyOciMirrorToCopy } from '../../src/buildcache/copy/copy-mirror.js';
import { directoryMirrorFiles } from '../../src/buildcache/mirror-files.js';
import { signOciMirror } from '../../src/buildcache/sign/sign-oci.js';
import { verifyFileMirror } from '../../src/buildcache/verify/verify-file.js';
import { verifyOciMirror } from '../../src/buildcache/verify/verify-oci.js';
import { MediaTypes, RegistryClient } from '../../src/registry/client.js';
import { runCli } from '../helpers/cli.js';
import { flipLastByte, listenLoopback, startFront } from '../helpers/http-fronts.js';
import {
  fakeHash,
  freshDir,
  listFiles,
  ociManifest,
  pushOciEntry,
  pushOciEntryWithDeps,
  pushOciRawEntry,
  specDocument,
  specTarball,
  startSigningWorld,
  type FixtureSpec,
  type SigningWorld,
} from './fixtures.js';

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

const sha256 = (bytes: Uint8Array) => createHash('sha256').update(bytes).digest('hex');
const blobPath = (hex: string) => `blobs/sha256/${hex.slice(0, 2)}/${hex}`;
const idOf = (spec: FixtureSpec) => `${spec.name}-${spec.version}-${spec.hash}`;

const parentDir = (name: string) => freshDir(work, name);

/** zlib (a dependency) and app (layers: zlib's tarball, then its own), both signed by alice. */
async function seedSigned(repo: string) {
  const zlib: FixtureSpec = { name: 'zlib', version: '1.3.1', hash: fakeHash() };
  const app: FixtureSpec = { name: 'app', version: '2.0', hash: fakeHash() };
  const zlibTarball = await specTarball(zlib);
  const zlibPushed = await pushOciEntry(client, repo, zlib, zlibTarball);
  const appPushed = await pushOciEntryWithDeps(client, repo, app, [{ digest: zlibPushed.layerDigest, size: zlibTarball.length }]);
  await signOciMirror(client, { repository: repo, signingKey });
  return { zlib, app, zlibTarball, appTarball: appPushed.tarball, zlibPushed, appPushed };
}

test('[integration] OCI --copy-to writes an unsigned layout-v3 mirror of exactly the verified entries (CLI)', async (t) => {
  const repo = 'eic/copy-basic';
  const { zlib, app, zlibTarball, appTarball } = await seedSigned(repo);
  const parent = await parentDir('basic');
  const dir = join(parent, 'verified');
  const run = await runCli(['buildcache', 'verify', `oci+http://${registry.host}/${repo}`, '--public-key', alice.publicFile, '--all', '--copy-to', dir]);
  t.is(run.exitCode, 0, `${run.stdout}\n${run.stderr}`);
  t.regex(String(run.stdout), new RegExp(`copy: wrote 2 verified entries \\(\\d+ files, \\d+ bytes\\) to ${dir} as a layout-v3 mirror; unsigned`));
  t.deepEqual(await readdir(parent), ['verified'], 'no staging directory left beside the copy');

  const files = await listFiles(dir);
  const spec = (s: FixtureSpec) => `v3/manifests/spec/${s.name}/${idOf(s)}.spec.manifest.json`;
  t.deepEqual(
    files.filter((f) => !f.startsWith('blobs/')),
    ['v3/layout.json', 'v3/manifests/index/index.manifest.json', spec(app), spec(zlib)].sort(),
  );
  t.is(await readFile(join(dir, 'v3/layout.json'), 'utf8'), '{"signing": "gpg"}');
  // Every blob sits at the path its sha256 names.
  const blobs = files.filter((f) => f.startsWith('blobs/'));
  t.is(blobs.length, 5, 'two tarballs, two spec blobs, one index');
  for (const path of blobs) t.is(blobPath(sha256(await readFile(join(dir, path)))), path);

  for (const [s, tarball] of [
    [zlib, zlibTarball],
    [app, appTarball],
  ] as const) {
    const text = await readFile(join(dir, spec(s)), 'utf8');
    t.false(text.includes('PGP'), 'the copy is unsigned');
    const manifest = JSON.parse(text) as {
      version: number;
      data: { contentLength: number; mediaType: string; compression: string; checksumAlgorithm: string; checksum: string }[];
    };
    t.is(manifest.version, 3);
    t.deepEqual(Object.keys(manifest.data[0]!), ['contentLength', 'mediaType', 'compression', 'checksumAlgorithm', 'checksum']);
    const [tarballRecord, specRecord] = manifest.data;
    // The entry's own tarball is the LAST layer: app's copy holds app's bytes, not zlib's.
    t.like(tarballRecord, { mediaType: 'application/vnd.spack.install.v2.tar+gzip', compression: 'gzip', checksum: sha256(tarball), contentLength: tarball.length });
    t.deepEqual(await readFile(join(dir, blobPath(tarballRecord!.checksum))), tarball);
    t.like(specRecord, { mediaType: 'application/vnd.spack.spec.v5+json', compression: 'gzip' });
    const specBlob = await readFile(join(dir, blobPath(specRecord!.checksum)));
    t.is(specBlob.length, specRecord!.contentLength);
    // The OCI config fields beside the spec are dropped.
    t.deepEqual(JSON.parse(gunzipSync(specBlob).toString('utf8')), specDocument(s));
  }

  const indexManifest = JSON.parse(await readFile(join(dir, 'v3/manifests/index/index.manifest.json'), 'utf8')) as {
    data: { mediaType: string; compression: string; checksum: string }[];
  };
  t.like(indexManifest.data[0], { mediaType: 'application/vnd.spack.db.v8+json', compression: 'none' });
  const db = JSON.parse(await readFile(join(dir, blobPath(indexManifest.data[0]!.checksum)), 'utf8')) as { database: { version: string; installs: Record<string, unknown> } };
  t.is(db.database.version, '8');
  t.deepEqual(db.database.installs[app.hash], { spec: specDocument(app).spec.nodes[0], ref_count: 0, in_buildcache: true });
  t.deepEqual(Object.keys(db.database.installs).sort(), [app.hash, zlib.hash].sort());

  // eic-build's own v3 reader sees both entries, intact but unsigned (Spack must read it with signed: false).
  const reread = await verifyFileMirror(directoryMirrorFiles(dir), { mirror: dir, trusted });
  t.deepEqual(reread.entries.map((e) => [e.id, e.kind]).sort(), [
    [idOf(app), 'unsigned'],
    [idOf(zlib), 'unsigned'],
  ]);
});

test('[integration] OCI --copy-to with --spec copies only the named entry; the JSON report has a copy field', async (t) => {
  const repo = 'eic/copy-select';
  const { app, zlib } = await seedSigned(repo);
  const parent = await parentDir('select');
  const dir = join(parent, 'verified');
  // An existing empty directory (a mount point in a build step) is filled in place.
  await mkdir(dir);
  const run = await runCli([
    'buildcache',
    'verify',
    `oci+http://${registry.host}/${repo}`,
    '--public-key',
    alice.publicFile,
    '--spec',
    idOf(app),
    '--copy-to',
    dir,
    '--format',
    'json',
  ]);
  t.is(run.exitCode, 0, String(run.stderr));
  const report = JSON.parse(String(run.stdout)) as { ok: boolean; copy: { kind: string; dir: string; layout: string; signed: boolean; entries: number; bytes: number } };
  t.true(report.ok);
  t.like(report.copy, { kind: 'written', dir, layout: 'v3', signed: false, entries: 1 });
  t.true(report.copy.bytes > 0);
  const files = await listFiles(dir);
  t.true(files.includes(`v3/manifests/spec/app/${idOf(app)}.spec.manifest.json`));
  t.false(files.some((f) => f.includes('zlib')));
  t.deepEqual((await readdir(dir)).sort(), ['blobs', 'v3'], 'the staging directory inside DIR is gone');
  t.not(zlib.hash, app.hash);
});

test('[integration] a tag moved to an unsigned manifest: exit 1, no DIR', async (t) => {
  const repo = 'eic/copy-moved';
  const { app } = await seedSigned(repo);
  const evil = await specTarball({ ...app, name: 'app-evil' });
  const config = Buffer.from(JSON.stringify(specDocument(app)));
  const manifest = ociManifest({ digest: await client.putBlob(repo, config), size: config.length }, [{ digest: await client.putBlob(repo, evil), size: evil.length }]);
  await client.putManifest(repo, `${idOf(app)}.spack`, manifest, MediaTypes.ociManifest);
  const parent = await parentDir('moved');
  const dir = join(parent, 'verified');
  const run = await runCli(['buildcache', 'verify', `oci+http://${registry.host}/${repo}`, '--public-key', alice.publicFile, '--all', '--copy-to', dir]);
  t.is(run.exitCode, 1);
  t.regex(String(run.stdout), /unsigned\s+app-2\.0-/);
  t.regex(String(run.stdout), new RegExp(`copy: nothing written to ${dir}: 1 of 2 requested entries did not verify`));
  t.deepEqual(await readdir(parent), [], 'no DIR and no staging directory');
});

test('[integration] a tag moved after verification does not change the copy: entries are re-read by the verified digest', async (t) => {
  const repo = 'eic/copy-race';
  const { app, appTarball } = await seedSigned(repo);
  const report = await verifyOciMirror(client, { mirror: repo, repository: repo, trusted, specs: [idOf(app)] });
  t.is(report.entries[0]!.kind, 'verified');
  // Between verification and copy, the tag moves to other bytes.
  const evil = await specTarball({ ...app, name: 'app-evil' });
  const config = Buffer.from(JSON.stringify(specDocument(app)));
  const manifest = ociManifest({ digest: await client.putBlob(repo, config), size: config.length }, [{ digest: await client.putBlob(repo, evil), size: evil.length }]);
  await client.putManifest(repo, `${idOf(app)}.spack`, manifest, MediaTypes.ociManifest);
  const target = await openCopyTarget(join(work, 'race-copy'));
  t.teardown(() => target.discard());
  const copied = await copyOciEntry(client, repo, report.entries[0]!, target);
  t.is(copied.result.kind, 'verified');
  t.deepEqual(await readFile(join(target.staging, blobPath(sha256(appTarball)))), appTarball);
  await t.throwsAsync(readFile(join(target.staging, blobPath(sha256(evil)))));
});

test('[integration] a registry serving changed tarball bytes: exit 1, no DIR, nothing left in the parent', async (t) => {
  const repo = 'eic/copy-flip';
  const { appPushed } = await seedSigned(repo);
  // A loopback front flips a byte of app's tarball: a registry cannot be made to serve wrong bytes otherwise (mock).
  const front = await startFront(registry.url, { rewrite: (req, body) => (req.method === 'GET' && req.url?.endsWith(appPushed.layerDigest) ? flipLastByte(body) : body) });
  t.teardown(front.close);
  const { host } = front;
  const parent = await parentDir('flip');
  const dir = join(parent, 'verified');
  const run = await runCli(['buildcache', 'verify', `oci+http://${host}/${repo}`, '--public-key', alice.publicFile, '--all', '--copy-to', dir, '--format', 'json']);
  t.is(run.exitCode, 1, String(run.stderr));
  const report = JSON.parse(String(run.stdout)) as { ok: boolean; entries: { id: string; kind: string; detail: string }[]; copy: { kind: string } };
  const app = report.entries.find((e) => e.id.startsWith('app-'))!;
  t.is(app.kind, 'checksum-mismatch');
  t.regex(app.detail, /not copied: .*hashes to/);
  t.false(report.ok);
  t.is(report.copy.kind, 'not-written');
  t.deepEqual(await readdir(parent), []);

  // The same through the library, into an existing empty DIR: it stays empty.
  await mkdir(dir);
  const proxied = new RegistryClient({ registry: host, insecure: true });
  const target = await openCopyTarget(dir);
  const outcome = await verifyOciMirrorToCopy(proxied, { mirror: repo, repository: repo, trusted }, target);
  t.is(outcome.copy.kind, 'not-written');
  t.deepEqual(await readdir(dir), []);
});

test('[integration] a non-empty DIR is refused (exit 2) before any request', async (t) => {
  let requests = 0;
  const { host, close } = await listenLoopback((_req, res) => {
    requests += 1;
    res.writeHead(404).end();
  });
  t.teardown(close);
  const dir = join(work, 'not-empty');
  await mkdir(dir);
  await writeFile(join(dir, 'leftover'), 'x');
  const run = await runCli(['buildcache', 'verify', `oci+http://${host}/eic/any`, '--public-key', alice.publicFile, '--all', '--copy-to', dir]);
  t.is(run.exitCode, 2);
  t.regex(String(run.stderr), new RegExp(`--copy-to ${dir} is not empty`));
  t.regex(String(run.stderr), /hint: .*remove/);
  t.is(requests, 0);
  t.deepEqual(await readdir(dir), ['leftover']);
  const file = await runCli(['buildcache', 'verify', `oci+http://${host}/eic/any`, '--public-key', alice.publicFile, '--copy-to', join(dir, 'leftover')]);
  t.is(file.exitCode, 2);
  t.regex(String(file.stderr), /exists and is not a directory/);
  const orphan = await runCli(['buildcache', 'verify', `oci+http://${host}/eic/any`, '--public-key', alice.publicFile, '--copy-to', join(work, 'no-such-parent', 'copy')]);
  t.is(orphan.exitCode, 2);
  t.regex(String(orphan.stderr), /parent directory .* does not exist/);
  t.is(requests, 0);
});

test("[integration] a signed config whose root node is another package (the entry's dependent): the entry fails, no copy", async (t) => {
  const repo = 'eic/copy-root';
  const d: FixtureSpec = { name: 'zlib', version: '1.3.1', hash: fakeHash() };
  const p: FixtureSpec = { name: 'app', version: '2.0', hash: fakeHash(), deps: [d] };
  // P's spec (which lists D as its second node) and P's tarball, under D's tag.
  await pushOciRawEntry(client, repo, `${idOf(d)}.spack`, Buffer.from(JSON.stringify(specDocument(p))), await specTarball(p));
  await signOciMirror(client, { repository: repo, signingKey });
  const parent = await parentDir('root');
  const run = await runCli([
    'buildcache',
    'verify',
    `oci+http://${registry.host}/${repo}`,
    '--public-key',
    alice.publicFile,
    '--spec',
    idOf(d),
    '--copy-to',
    join(parent, 'verified'),
    '--format',
    'json',
  ]);
  t.is(run.exitCode, 1, String(run.stderr));
  const report = JSON.parse(String(run.stdout)) as { entries: { kind: string; detail: string }[]; copy: { kind: string } };
  t.regex(report.entries[0]!.detail, /the signed spec is app-2\.0-/);
  t.is(report.copy.kind, 'not-written');
  t.deepEqual(await readdir(parent), []);
});

test('[integration] a signed config naming the package "x/../…/tmp/NAME" (tag sanitised to match): the entry fails and nothing is written outside DIR', async (t) => {
  const repo = 'eic/copy-traversal';
  const marker = `eicpwn${fakeHash().slice(0, 8)}`;
  // Enough '..' to reach / from any depth, then /tmp/<marker>: both the spec directory and the manifest file would land there.
  const evil: FixtureSpec = { name: `x/${'../'.repeat(16)}tmp/${marker}`, version: '1', hash: fakeHash() };
  const escaped = [join('/tmp', marker), join('/tmp', `${marker}-1-${evil.hash}.spec.manifest.json`)];
  t.teardown(() => Promise.all(escaped.map((p) => rm(p, { recursive: true, force: true }))));
  const tag = `${idOf(evil)}.spack`.replace(/[^\w.-]/g, '_');
  t.true(tag.length <= 128);
  await pushOciRawEntry(client, repo, tag, Buffer.from(JSON.stringify(specDocument(evil))), await specTarball({ ...evil, name: 'x' }));
  await signOciMirror(client, { repository: repo, signingKey });
  const parent = await parentDir('traversal');
  const run = await runCli([
    'buildcache',
    'verify',
    `oci+http://${registry.host}/${repo}`,
    '--public-key',
    alice.publicFile,
    '--all',
    '--copy-to',
    join(parent, 'verified'),
    '--format',
    'json',
  ]);
  t.is(run.exitCode, 1, `${run.stdout}\n${run.stderr}`);
  const report = JSON.parse(String(run.stdout)) as { entries: { kind: string; detail: string }[]; copy: { kind: string } };
  t.regex(report.entries[0]!.detail, /not a Spack package name/);
  t.is(report.copy.kind, 'not-written');
  t.deepEqual(await readdir(parent), []);
  for (const path of escaped) await t.throwsAsync(stat(path), { code: 'ENOENT' }, `${path} was not written`);
});

test('[integration] a registry serving a longer tarball than the descriptor size: the download stops at the size, exit 1, no copy', async (t) => {
  const repo = 'eic/copy-long';
  const { appPushed } = await seedSigned(repo);
  // A loopback front appends 4 MiB to app's tarball (a registry cannot be made to serve that otherwise: mock).
  const front = await startFront(registry.url, {
    rewrite: (req, body) => (req.method === 'GET' && req.url?.endsWith(appPushed.layerDigest) ? Buffer.concat([body, Buffer.alloc(4 << 20)]) : body),
  });
  t.teardown(front.close);
  const parent = await parentDir('long');
  const run = await runCli([
    'buildcache',
    'verify',
    `oci+http://${front.host}/${repo}`,
    '--public-key',
    alice.publicFile,
    '--all',
    '--copy-to',
    join(parent, 'verified'),
    '--format',
    'json',
  ]);
  t.is(run.exitCode, 1, String(run.stderr));
  const report = JSON.parse(String(run.stdout)) as { entries: { id: string; kind: string; detail: string }[]; copy: { kind: string } };
  const app = report.entries.find((e) => e.id.startsWith('app-'))!;
  t.is(app.kind, 'checksum-mismatch');
  t.regex(app.detail, /more than the \d+ bytes the signed manifest names arrived \(download stopped\)/);
  t.is(report.copy.kind, 'not-written');
  t.deepEqual(await readdir(parent), []);
});

test('[integration] copyOciEntry fails (closed) a verified entry that has no manifest digest', async (t) => {
  const target = await openCopyTarget(join(work, 'no-digest-copy'));
  t.teardown(() => target.discard());
  const copied = await copyOciEntry(client, 'eic/any', { kind: 'verified', id: `zlib-1.3.1-${fakeHash()}`, location: 'x', detail: 'signed' }, target);
  t.is(copied.result.kind, 'checksum-mismatch');
  t.regex(copied.result.detail, /no manifest digest/);
  t.is(copied.node, undefined);
});
