// End to end through the real detectors: fixture images (built from a plain description, keys
// generated now with openpgp) in every on-disk format, read by scanTarget and the CLI.
import test from 'ava';
import { readFile, readdir, rm, truncate, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import * as openpgp from 'openpgp';
import { EicBuildError } from '../../src/errors.js';
import { deriveKeyIdentity } from '../../src/pgp/key-identity.js';
import { formatReport, scanTarget, type ScanReport } from '../../src/scan/index.js';
import { runCli } from '../helpers/cli.js';
import { buildTar, makeFixtureDir, writeFixture, type FixtureFormat, type ImageSpec } from '../helpers/image-fixture.js';

let dir = '';
let cleanup = async () => {};
let armoredSecret = '';
let armoredPublic = '';
let binarySecret: Uint8Array = new Uint8Array();
let otherPublic = '';

test.before(async () => {
  ({ dir, cleanup } = await makeFixtureDir('eic-scan-e2e'));
  const key = await openpgp.generateKey({ userIDs: [{ name: 'Scan Test', email: 'scan@example.org' }], format: 'object' });
  armoredSecret = key.privateKey.armor();
  armoredPublic = key.publicKey.armor();
  binarySecret = key.privateKey.write();
  const other = await openpgp.generateKey({ userIDs: [{ name: 'Other', email: 'other@example.org' }], format: 'armored' });
  otherPublic = other.publicKey;
  await writeFile(join(dir, 'public.asc'), armoredPublic);
  await writeFile(join(dir, 'other.asc'), otherPublic);
});
test.after.always(() => cleanup());

let counter = 0;
async function image(spec: ImageSpec | ImageSpec[], format: FixtureFormat, options: { index?: boolean; attestations?: boolean } = {}) {
  const path = join(dir, `img-${counter++}${format === 'oci-dir' ? '' : '.tar'}`);
  const written = await writeFixture(spec, format, path, options);
  return written;
}

const leakSpec = (): ImageSpec => ({
  layers: [{ files: { 'etc/os-release': 'ID=test', 'root/signing.asc': armoredSecret } }, { files: { 'usr/share/doc/readme': 'nothing here' }, compression: 'zstd' }],
  history: [{ created_by: 'COPY signing.asc /root/ # buildkit' }, { created_by: 'RUN echo hi' }],
});

/** Every 16-character run of the armor body, and of the binary key, must be absent from a report. */
function assertNoKeyBytes(t: import('ava').ExecutionContext, text: string) {
  const body = armoredSecret
    .split('\n')
    .filter((line) => line && !line.startsWith('-----') && !line.includes(':'))
    .join('');
  for (let i = 0; i + 16 <= body.length; i += 8) {
    if (text.includes(body.slice(i, i + 16))) return t.fail(`report holds armor text at ${i}`);
  }
  const binary = Buffer.from(binarySecret).toString('latin1');
  const latin = Buffer.from(text, 'utf8').toString('latin1');
  for (let i = 0; i + 16 <= binary.length; i += 16) {
    if (latin.includes(binary.slice(i, i + 16))) return t.fail(`report holds binary key bytes at ${i}`);
  }
  const base64 = Buffer.from(binarySecret).toString('base64');
  for (let i = 0; i + 16 <= base64.length; i += 8) {
    if (text.includes(base64.slice(i, i + 16))) return t.fail(`report holds base64 key bytes at ${i}`);
  }
  t.pass();
}

for (const format of ['docker-legacy', 'docker-oci', 'oci-dir', 'oci-archive'] as const) {
  test(`[integration] ${format}: a key in a layer is found, located, and matched to --public-key`, async (t) => {
    const written = await image(leakSpec(), format);
    const report = await scanTarget(written.path, { publicKeys: [deriveKeyIdentity(armoredPublic)] });
    t.true(report.leaked);
    t.is(report.findings.length, 1);
    const finding = report.findings[0]!;
    t.like(finding, {
      detector: 'pgp-armored-private-key',
      source: 'layer',
      layer: { index: 0, digest: written.layerDigests[0] },
      path: 'root/signing.asc',
      nestedPath: null,
      field: null,
      visibleInFinalImage: true,
      matchesPublicKey: true,
      createdBy: 'COPY signing.asc /root/ # buildkit',
    });
    t.is(report.stats.layers, 2);
    t.true(report.stats.bytesScanned > 0);
  });
}

test('a clean image scans clean; an empty secret-mount stub is a note, not a finding', async (t) => {
  const written = await image({ layers: [{ files: { 'run/secrets/key': '', 'etc/passwd': 'root:x:0:0', 'pub.asc': armoredPublic } }] }, 'oci-dir');
  const report = await scanTarget(written.path);
  t.false(report.leaked);
  t.deepEqual(report.findings, []);
  t.true(report.notes.some((note) => note.kind === 'secret-mount-stub'));
});

test('deleted (whiteout), hidden (opaque dir) and overwritten keys are found and say which layer hid them', async (t) => {
  const written = await image(
    {
      layers: [
        { files: { 'root/.gnupg/a.asc': armoredSecret, 'home/u/b.gpg': binarySecret, 'etc/c.asc': armoredSecret } },
        { whiteouts: ['root/.gnupg'], compression: 'none' },
        { opaque: ['home/u'], files: { 'etc/c.asc': 'replaced' } },
      ],
    },
    'oci-archive',
  );
  const report = await scanTarget(`oci-archive:${written.path}`);
  const byPath = new Map(report.findings.map((f) => [f.path, f]));
  t.deepEqual(byPath.get('root/.gnupg/a.asc')?.hiddenBy, { index: 1, digest: written.layerDigests[1], how: 'whiteout' });
  t.deepEqual(byPath.get('home/u/b.gpg')?.hiddenBy, { index: 2, digest: written.layerDigests[2], how: 'opaque-directory' });
  t.deepEqual(byPath.get('etc/c.asc')?.hiddenBy, { index: 2, digest: written.layerDigests[2], how: 'overwritten' });
  t.is(byPath.get('home/u/b.gpg')?.detector, 'pgp-binary-secret-key');
  t.true(report.findings.every((f) => f.visibleInFinalImage === false));
});

test('a key inside a tar.gz inside a layer is reported with its nested path', async (t) => {
  const inner = await buildTar([{ name: 'gnupg/key.asc', content: Buffer.from(armoredSecret) }]);
  const written = await image({ layers: [{ files: { 'opt/backup.tgz': gzipSync(inner) } }] }, 'docker-oci');
  const report = await scanTarget(written.path);
  t.true(
    report.findings.some((f) => f.path === 'opt/backup.tgz' && f.nestedPath === 'backup.tar/gnupg/key.asc'),
    JSON.stringify(report.findings.map((f) => [f.path, f.nestedPath])),
  );
});

test('keys in the config (Env base64, build-arg in history) are found; the instruction is not echoed', async (t) => {
  const written = await image(
    {
      layers: [{ files: { a: 'a' } }],
      config: { Env: ['PATH=/bin', `GPG_KEY_B64=${Buffer.from(armoredSecret).toString('base64')}`], Labels: { ok: 'yes' } },
      history: [{ created_by: `|1 SIGNING_KEY=${armoredSecret} /bin/sh -c spack gpg trust $SIGNING_KEY` }, { created_by: 'ENV X=1', empty_layer: true }],
    },
    'oci-dir',
  );
  const report = await scanTarget(written.path);
  const fields = report.findings.map((f) => f.field).sort();
  t.deepEqual(fields, ['config.Env[1]', 'history[0].created_by']);
  t.true(report.findings.every((f) => f.source === 'config' && f.layer === null));
  const history = report.findings.find((f) => f.field === 'history[0].created_by')!;
  t.regex(history.createdBy ?? '', /redacted/);
  for (const format of ['text', 'json', 'sarif'] as const) assertNoKeyBytes(t, formatReport(report, format));
});

test('an index with two platforms and attestations: every manifest scanned, the leaking platform named', async (t) => {
  const written = await image(
    [
      { layers: [{ files: { a: 'clean' } }], platform: { os: 'linux', architecture: 'amd64' } },
      { layers: [{ files: { 'root/k.asc': armoredSecret } }], platform: { os: 'linux', architecture: 'arm64' } },
    ],
    'oci-dir',
    { index: true, attestations: true },
  );
  const report = await scanTarget(`oci:${written.path}`);
  t.is(report.images.length, 4);
  t.deepEqual(report.images.map((i) => i.kind).sort(), ['attestation', 'attestation', 'image', 'image']);
  t.is(report.findings.length, 1);
  t.is(report.findings[0]!.image.platform, 'linux/arm64');
});

test('[integration] worker threads and concurrent main-thread lanes give the same report as one layer at a time', async (t) => {
  const spec = leakSpec();
  spec.layers.push({ files: { 'x/y.gpg': binarySecret } }, { files: { z: 'z' }, compression: 'none' });
  const written = await image(spec, 'oci-dir');
  const strip = (report: ScanReport) => ({ ...report, stats: { ...report.stats, seconds: 0 } });
  const main = await scanTarget(written.path, { env: { EIC_BUILD_SCAN_WORKERS: '0', EIC_BUILD_SCAN_CONCURRENCY: '1' } });
  const lanes = await scanTarget(written.path, { env: { EIC_BUILD_SCAN_WORKERS: '0', EIC_BUILD_SCAN_CONCURRENCY: '4' } });
  const pooled = await scanTarget(written.path, { env: { EIC_BUILD_SCAN_WORKERS: '2' } });
  t.deepEqual(strip(pooled), strip(main));
  t.deepEqual(strip(lanes), strip(main));
  t.deepEqual([...new Set(main.findings.map((f) => f.path))].sort(), ['root/signing.asc', 'x/y.gpg']);
});

test('[integration] damaged images: wrong digest, missing blob, truncated archive all throw and name the blob', async (t) => {
  const written = await image(leakSpec(), 'oci-dir');
  const layerName = written.blobNames.get(written.layerDigests[1]!)!;
  const layerPath = join(written.path, layerName);
  const original = await readFile(layerPath);
  const flipped = Buffer.from(original);
  flipped[flipped.length - 10] ^= 0x01;
  await writeFile(layerPath, flipped);
  const mismatch = await t.throwsAsync(scanTarget(written.path));
  t.true(mismatch instanceof EicBuildError);
  t.true(['digest-mismatch', 'input-corrupt'].includes((mismatch as EicBuildError).code), mismatch!.message);
  t.true(mismatch!.message.includes(written.layerDigests[1]!), mismatch!.message);
  await rm(layerPath);
  const missing = await t.throwsAsync(scanTarget(written.path));
  t.regex(missing!.message, new RegExp(`${written.layerDigests[1]}.*missing`));

  const archive = await image(leakSpec(), 'docker-legacy');
  const size = (await readFile(archive.path)).length;
  await truncate(archive.path, size - 3000);
  const truncated = await t.throwsAsync(scanTarget(archive.path));
  t.is((truncated as EicBuildError).code, 'input-corrupt');
});

test('[integration] CLI: exit 0 clean, 1 leak, 2 unreadable; every format free of key bytes; --output is written whole', async (t) => {
  const leak = await image(leakSpec(), 'docker-legacy');
  const clean = await image({ layers: [{ files: { a: 'a' } }] }, 'docker-legacy');
  const broken = join(dir, 'broken.tar');
  await writeFile(broken, Buffer.alloc(700, 7));
  const [json, text, sarif, ok, bad, missing] = await Promise.all([
    runCli(['scan', leak.path, '--format', 'json', '--public-key', join(dir, 'public.asc'), '--public-key', join(dir, 'other.asc')]),
    runCli(['scan', `docker-archive:${leak.path}`]),
    runCli(['scan', leak.path, '--format', 'sarif', '--output', join(dir, 'report.sarif')]),
    runCli(['scan', clean.path]),
    runCli(['scan', broken]),
    runCli(['scan', join(dir, 'nope.tar')]),
  ]);
  t.is(json.exitCode, 1, String(json.stderr));
  const report = JSON.parse(String(json.stdout)) as ScanReport;
  t.true(report.leaked);
  t.true(report.findings[0]!.matchesPublicKey);
  t.is(text.exitCode, 1);
  t.regex(String(text.stdout), /LEAK/);
  t.regex(String(text.stdout), /RUN --mount=type=secret/);
  t.is(sarif.exitCode, 1);
  t.is(String(sarif.stdout), '');
  const sarifText = await readFile(join(dir, 'report.sarif'), 'utf8');
  const log = JSON.parse(sarifText) as { version: string; runs: { results: { ruleId: string }[]; tool: { driver: { rules: unknown[] } } }[] };
  t.is(log.version, '2.1.0');
  t.is(log.runs[0]!.results[0]!.ruleId, 'pgp-armored-private-key');
  t.true(log.runs[0]!.tool.driver.rules.length >= 5);
  t.false(
    (await readdir(dir)).some((name) => name.endsWith('.tmp')),
    'no temp file left',
  );
  for (const output of [String(json.stdout), String(text.stdout), sarifText, String(json.stderr), String(text.stderr)]) assertNoKeyBytes(t, output);
  t.is(ok.exitCode, 0, String(ok.stderr));
  t.regex(String(ok.stdout), /no private key material found/);
  t.is(bad.exitCode, 2);
  t.regex(String(bad.stderr), /broken\.tar/);
  t.is(missing.exitCode, 2);
  t.regex(String(missing.stderr), /nope\.tar.*does not exist/);
});

test('[integration] skopeo-converted copies (docker-archive, zstd OCI) scan the same', async (t) => {
  const spec = leakSpec();
  spec.layers[1]!.compression = 'gzip';
  const written = await image(spec, 'oci-dir');
  const { execa } = await import('execa');
  const zstdDir = join(dir, 'skopeo-zstd');
  const archive = join(dir, 'skopeo.tar');
  await execa('skopeo', ['copy', '--quiet', `oci:${written.path}`, `docker-archive:${archive}:fixture/x:1`]);
  await execa('skopeo', ['copy', '--quiet', '--dest-compress-format', 'zstd', `oci:${written.path}`, `oci:${zstdDir}`]);
  for (const target of [archive, `oci:${zstdDir}`]) {
    const report = await scanTarget(target);
    t.is(report.findings.length, 1, target);
    t.like(report.findings[0], { path: 'root/signing.asc', layer: { index: 0 } });
  }
});
