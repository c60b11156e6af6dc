// --allow-key end to end: a fixture image carrying a private key generated now (never stored) is a
// leak; allowing that key's identity turns every finding (layer, nested archive, config) into a note,
// on the main thread, in worker threads and through the Docker engine, unless it is also a --public-key.
import test from 'ava';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { execa } from 'execa';
import * as openpgp from 'openpgp';
import { EicBuildError } from '../../src/errors.js';
import { deriveKeyIdentity } from '../../src/pgp/key-identity.js';
import { scanTarget, type ScanReport } from '../../src/scan/index.js';
import { runCli } from '../helpers/cli.js';
import { buildTar, makeFixtureDir, writeFixture, type ImageSpec } from '../helpers/image-fixture.js';
import { loadFixtureArchive } from '../helpers/images.js';

const DOCKER = '/usr/bin/docker';

let dir = '';
let cleanup = async () => {};
/** A primary key only: its fingerprint is its whole identity. */
let fingerprint = '';
let keygrip = '';
let archive = '';
/** The same image with uncompressed layers (docker load takes no zstd in a legacy archive). */
let loadableArchive = '';
/** A key with an encryption subkey: both keys must be allowed. */
let pairFingerprints: string[] = [];
let pairArchive = '';

/** The engine name of loadableArchive, this file's own: another file may load a fixture at the same time. */
const LOADED_TAG = `eic-build-test/scan-allow-key:${process.pid}`;

const ALLOWED_NOTE = /^allowed key \(([0-9A-F]{40}), given in allowKeys\) in .*: not a leak$/;

test.before(async () => {
  ({ dir, cleanup } = await makeFixtureDir('eic-scan-allow-key'));
  const key = await openpgp.generateKey({ userIDs: [{ name: 'Allow Test', email: 'allow@example.org' }], subkeys: [], format: 'object' });
  const identity = deriveKeyIdentity(key.publicKey.write());
  fingerprint = identity.primaryFingerprint;
  keygrip = identity.keygrips[0]!;
  await writeFile(join(dir, 'public.asc'), key.publicKey.armor());
  const secret = key.privateKey.armor();
  const nested = gzipSync(await buildTar([{ name: 'keys/test.asc', content: Buffer.from(secret) }]));
  // Two layers, so EIC_BUILD_SCAN_WORKERS=2 really starts two workers.
  const spec = (compression: 'zstd' | 'none'): ImageSpec => ({
    layers: [
      { files: { 'etc/os-release': 'ID=test', 'usr/share/test-keys/signing.asc': secret }, compression },
      { files: { 'opt/fixtures.tar.gz': nested }, compression },
    ],
    config: { Env: ['PATH=/usr/bin', `TEST_KEY=${secret}`] },
    history: [{ created_by: 'COPY signing.asc /usr/share/test-keys/' }, { created_by: 'COPY fixtures.tar.gz /opt/' }],
  });
  archive = join(dir, 'leak.tar');
  await writeFixture(spec('zstd'), 'docker-legacy', archive);
  loadableArchive = join(dir, 'leak-plain.tar');
  // `docker load` tags it with this file's own name (the default fixture name is every file's).
  await writeFixture(spec('none'), 'docker-legacy', loadableArchive, { repoTags: [LOADED_TAG] });
  const pair = await openpgp.generateKey({ userIDs: [{ name: 'Pair Test', email: 'pair@example.org' }], format: 'object' });
  pairFingerprints = deriveKeyIdentity(pair.publicKey.write()).fingerprints;
  pairArchive = join(dir, 'pair.tar');
  await writeFixture({ layers: [{ files: { 'root/pair.asc': pair.privateKey.armor() } }] }, 'oci-archive', pairArchive);
});
test.after.always(() => cleanup());

/** The three places the key is: a layer file, a file in a tar.gz in a layer, and the config Env. */
function assertAllowed(t: import('ava').ExecutionContext, report: ScanReport, identity = fingerprint) {
  t.false(report.leaked);
  t.is(report.findings.length, 0);
  const allowed = report.notes.filter((note) => ALLOWED_NOTE.test(note.message));
  t.deepEqual([...new Set(allowed.map((note) => ALLOWED_NOTE.exec(note.message)![1]))], [identity]);
  t.true(
    allowed.some((note) => note.source === 'layer' && note.path === 'usr/share/test-keys/signing.asc'),
    JSON.stringify(allowed),
  );
  t.true(
    allowed.some((note) => note.source === 'layer' && note.path === 'opt/fixtures.tar.gz' && note.nestedPath !== null),
    JSON.stringify(allowed),
  );
  t.true(
    allowed.some((note) => note.source === 'config' && note.field === 'config.Env[1]'),
    JSON.stringify(allowed),
  );
}

test('[integration] scanTarget: the key is a leak; allowed by fingerprint or keygrip (any case, spaced) it is a note everywhere, on the main thread and in workers', async (t) => {
  const spaced = fingerprint
    .toLowerCase()
    .replace(/(.{4})/g, '$1 ')
    .trim();
  const [leak, main, workers, byKeygrip] = await Promise.all([
    scanTarget(archive, { env: { EIC_BUILD_SCAN_WORKERS: '0' } }),
    scanTarget(archive, { allowKeys: [spaced], env: { EIC_BUILD_SCAN_WORKERS: '0' } }),
    scanTarget(archive, { allowKeys: [fingerprint], env: { EIC_BUILD_SCAN_WORKERS: '2' } }),
    scanTarget(archive, { allowKeys: [keygrip], env: { EIC_BUILD_SCAN_WORKERS: '2' } }),
  ]);
  t.true(leak.leaked);
  t.deepEqual([...new Set(leak.findings.map((f) => f.source))].sort(), ['config', 'layer']);
  t.true(leak.findings.some((f) => f.path === 'opt/fixtures.tar.gz' && f.nestedPath === 'fixtures.tar/keys/test.asc'));
  assertAllowed(t, main);
  assertAllowed(t, workers);
  assertAllowed(t, byKeygrip, keygrip);
  const strip = (report: ScanReport) => ({ ...report, stats: { ...report.stats, seconds: 0 } });
  t.deepEqual(strip(workers), strip(main));
});

test('[integration] scanTarget: a --public-key wins over an allowed key; a key with a subkey needs both allowed', async (t) => {
  const identity = deriveKeyIdentity(await readFile(join(dir, 'public.asc')));
  const both = await scanTarget(archive, { publicKeys: [identity], allowKeys: [fingerprint], env: { EIC_BUILD_SCAN_WORKERS: '2' } });
  t.true(both.leaked);
  t.true(both.findings.every((f) => f.matchesPublicKey));
  t.deepEqual([...new Set(both.findings.map((f) => f.path ?? f.field))].sort(), ['config.Env[1]', 'opt/fixtures.tar.gz', 'usr/share/test-keys/signing.asc']);

  const [primaryOnly, all] = await Promise.all([scanTarget(pairArchive, { allowKeys: [pairFingerprints[0]!] }), scanTarget(pairArchive, { allowKeys: pairFingerprints })]);
  t.true(primaryOnly.leaked);
  t.false(all.leaked);
  t.true(all.notes.some((note) => note.path === 'root/pair.asc' && /^allowed key/.test(note.message)));
});

test('[integration] scanTarget: a malformed allowKeys entry is a usage error before anything is read', async (t) => {
  const error = await t.throwsAsync(scanTarget(join(dir, 'does-not-exist.tar'), { allowKeys: [fingerprint, 'DEADBEEF'] }));
  t.true(error instanceof EicBuildError);
  t.is((error as EicBuildError).code, 'usage');
  t.regex(error!.message, /allowKeys: allowed key "DEADBEEF" is not a public key identity/);
});

test('[integration] CLI: exit 1 for the leak; --allow-key FINGERPRINT exit 0 (main thread and workers); a bad --allow-key exit 2 naming it and the accepted forms', async (t) => {
  const workers = { env: { ...process.env, EIC_BUILD_SCAN_WORKERS: '2' } };
  const [leak, allowed, allowedWorkers, text, bad, help] = await Promise.all([
    runCli(['scan', archive, '--format', 'json']),
    runCli(['scan', archive, '--format', 'json', '--allow-key', fingerprint]),
    runCli(['scan', archive, '--format', 'json', '--allow-key', fingerprint], workers),
    runCli(['scan', archive, '--allow-key', fingerprint]),
    runCli(['scan', archive, '--allow-key', fingerprint, '--allow-key', 'not-a-key']),
    runCli(['scan', '--help']),
  ]);
  t.is(leak.exitCode, 1, String(leak.stderr));
  t.true((JSON.parse(String(leak.stdout)) as ScanReport).findings.length >= 3);
  for (const run of [allowed, allowedWorkers]) {
    t.is(run.exitCode, 0, String(run.stderr));
    assertAllowed(t, JSON.parse(String(run.stdout)) as ScanReport);
  }
  t.is(text.exitCode, 0, String(text.stderr));
  t.regex(String(text.stdout), /no private key material found/);
  t.regex(String(text.stdout), new RegExp(`allowed key \\(${fingerprint}, given in allowKeys\\)`));
  t.is(bad.exitCode, 2);
  t.is(String(bad.stdout), '');
  const message = String(bad.stderr);
  t.regex(message, /--allow-key: allowed key "not-a-key" is not a public key identity/);
  for (const form of ['keygrip', 'fingerprint', 'SHA256:<base64>', 'SPKI-SHA256:<base64>']) t.true(message.includes(form), message);
  t.is(help.exitCode, 0);
  t.regex(String(help.stdout), /--allow-key IDENTITY/);
});

test('[integration] docker-daemon: an allowed key streamed from the engine is a note, not a finding', async (t) => {
  const tag = LOADED_TAG;
  t.teardown(async () => {
    await execa(DOCKER, ['rmi', '-f', tag], { reject: false });
  });
  await loadFixtureArchive(loadableArchive, tag);
  const [leak, allowed] = await Promise.all([scanTarget(`docker-daemon:${tag}`), scanTarget(`docker-daemon:${tag}`, { allowKeys: [fingerprint] })]);
  t.true(leak.leaked);
  assertAllowed(t, allowed);
});
