/**
 * What `eic-build scan` prints and how it exits, on real images: no report format ever carries a piece of
 * the leaked key, `--output` writes the report, exit codes are 0 clean / 1 leak / 2 unreadable, and a
 * corrupted `docker save` archive is an error that names what is broken, never a pass.
 */
import test from 'ava';
import { open, readFile, stat, truncate, copyFile } from 'node:fs/promises';
import { join } from 'node:path';
import { ensureBusyboxImage } from '../helpers/images.js';
import { scanTarget } from '../../src/scan/index.js';
import { deriveKeyIdentity } from '../../src/pgp/key-identity.js';
import { isEicBuildError } from '../../src/errors.js';
import {
  armorBody,
  comparableFindings,
  scanJson,
  type JsonReport,
  buildImage,
  generateGpgKey,
  makeTempDir,
  removeImages,
  runsOf,
  scan,
  stopAgent,
  type BuiltImage,
  type GpgKey,
} from './harness.js';

let dir = '';
let cleanup: () => Promise<void> = async () => undefined;
let busybox = '';
let key: GpgKey;
const built: Promise<BuiltImage>[] = [];
/** A marker unique to this run, so the corruption test can find a file's bytes inside the archive. */
const MARKER = `eic-build-marker-${process.pid}-${Date.now()}-`.padEnd(64, 'x');

test.before(async () => {
  ({ dir, cleanup } = await makeTempDir('scan-report'));
  busybox = await ensureBusyboxImage();
  key = await generateGpgKey(dir, 'rept');
});

test.after.always(async () => {
  const images = await Promise.all(built.map((p) => p.catch(() => undefined)));
  await removeImages(images);
  if (key) await stopAgent(key);
  await cleanup();
});

const memo = new Map<string, Promise<BuiltImage>>();
function image(name: string, make: () => Omit<Parameters<typeof buildImage>[1], 'name'>): Promise<BuiltImage> {
  let promise = memo.get(name);
  if (!promise) {
    promise = Promise.resolve().then(() => buildImage(dir, { name, ...make() }));
    promise.catch(() => undefined);
    memo.set(name, promise);
    built.push(promise);
  }
  return promise;
}

/** Leaks in a file, in Env, base64 in a LABEL and as a build arg in history: every place a report might echo. */
const leaky = () =>
  image('report-leaky', () => ({
    dockerfile: [
      `FROM ${busybox}`,
      'ARG SIGNING_KEY',
      'ARG KEY_B64',
      'COPY key.asc /key.asc',
      'COPY key.gpg /usr/share/key.gpg',
      'RUN test -n "$SIGNING_KEY" && echo ok > /ok',
      'ENV GPG_PRIVATE_KEY="$SIGNING_KEY"',
      'LABEL org.example.key=$KEY_B64',
      '',
    ].join('\n'),
    context: { 'key.asc': { from: key.files.secretAsc }, 'key.gpg': { from: key.files.secretGpg } },
    buildArgsFromEnv: { SIGNING_KEY: key.armoredSecret, KEY_B64: Buffer.from(key.armoredSecret).toString('base64') },
  }));

const clean = () =>
  image('report-clean', () => ({
    dockerfile: [`FROM ${busybox}`, 'COPY marker.txt /srv/marker.txt', ''].join('\n'),
    context: { 'marker.txt': `${MARKER}\n` },
  }));

/** Every 16-character run of the key's armor body (and of its base64 re-encoding) and every 16-byte run of its binary form. */
function keyPieces(): { text: string[]; bytes: Buffer[] } {
  const body = armorBody(key.armoredSecret);
  const b64 = Buffer.from(key.armoredSecret).toString('base64');
  const text = [...new Set([...runsOf(body, 16), ...runsOf(b64, 16)])];
  const bytes: Buffer[] = [];
  for (let i = 0; i + 16 <= key.binarySecret.length; i++) bytes.push(key.binarySecret.subarray(i, i + 16));
  return { text, bytes };
}

function assertNoKeyBytes(t: import('ava').ExecutionContext, output: Buffer, what: string) {
  const { text, bytes } = keyPieces();
  const asText = output.toString('utf8');
  const textHits = text.filter((run) => asText.includes(run));
  t.deepEqual(textHits.slice(0, 3), [], `${what} contains ${textHits.length} 16-char runs of the key's armor`);
  const byteHits = bytes.filter((run) => output.includes(run));
  t.is(byteHits.length, 0, `${what} contains ${byteHits.length} 16-byte runs of the binary key`);
}

for (const format of ['json', 'sarif', 'text'] as const) {
  test(`[integration] --format ${format} of a leaking image carries no piece of the key (stdout, stderr and --output)`, async (t) => {
    const img = await leaky();
    const output = join(dir, `report.${format}`);
    const result = await scan(`docker-archive:${img.archive}`, ['--format', format, '--public-key', key.files.publicAsc, '--output', output]);
    t.is(result.exitCode, 1, result.stderr);
    const written = await readFile(output);
    t.true(written.length > 0, '--output file written');
    assertNoKeyBytes(t, written, `--output ${format}`);
    assertNoKeyBytes(t, Buffer.from(result.stdout), `stdout ${format}`);
    assertNoKeyBytes(t, Buffer.from(result.stderr), `stderr ${format}`);
    if (format === 'json') {
      const report = JSON.parse(written.toString('utf8'));
      t.true(report.leaked);
      // The file, the binary export, the Env, the LABEL and the build arg in history are all reported.
      t.true(report.findings.some((f: { path: string | null }) => f.path === 'key.asc'));
      t.true(report.findings.some((f: { path: string | null }) => f.path === 'usr/share/key.gpg'));
      t.true(report.findings.some((f: { field: string | null }) => /Env/.test(f.field ?? '')));
      t.true(report.findings.some((f: { field: string | null }) => /Labels/.test(f.field ?? '')));
      t.true(report.findings.some((f: { field: string | null }) => /^history\[\d+\]\.created_by$/.test(f.field ?? '')));
    }
    if (format === 'sarif') {
      const sarif = JSON.parse(written.toString('utf8'));
      t.is(sarif.version, '2.1.0');
      t.true(Array.isArray(sarif.runs) && sarif.runs[0].results.length >= 1);
    }
    if (format === 'text') {
      // For people: what leaked, where, the Dockerfile instruction that added it, and how to fix it.
      const text = written.toString('utf8');
      t.regex(text, /key\.asc/);
      t.regex(text, /COPY key\.asc \/key\.asc/);
      t.regex(text, /fix/i);
    }
  });
}

test('[integration] exit 0 on a clean image, 1 on a leaking one, from archive and engine', async (t) => {
  const [leak, ok] = await Promise.all([leaky(), clean()]);
  const results = await Promise.all([
    scan(`docker-archive:${ok.archive}`),
    scan(`docker-daemon:${ok.tag}`),
    scan(`docker-archive:${leak.archive}`),
    scan(`docker-daemon:${leak.tag}`),
  ]);
  t.deepEqual(
    results.map((r) => r.exitCode),
    [0, 0, 1, 1],
    results.map((r) => r.stderr).join('\n'),
  );
});

test('[integration] exit 2 on a target that cannot be read: missing file, missing image', async (t) => {
  const missingFile = await scan(`docker-archive:${join(dir, 'nope.tar')}`);
  t.is(missingFile.exitCode, 2);
  t.regex(missingFile.stderr, /nope\.tar/);
  const missingImage = await scan('docker-daemon:eic-build-test/does-not-exist:never');
  t.is(missingImage.exitCode, 2);
  t.regex(missingImage.stderr, /does-not-exist/);
});

test('[integration] a truncated docker save archive is exit 2 naming the archive, never a pass', async (t) => {
  const img = await clean();
  const size = (await stat(img.archive)).size;
  for (const fraction of [0.3, 0.7, 0.95]) {
    const cut = join(dir, `truncated-${fraction}.tar`);
    await copyFile(img.archive, cut);
    // Cut at a non-block boundary so the damage is inside whatever entry is there.
    await truncate(cut, Math.floor((size * fraction) / 512) * 512 + 100);
    const result = await scan(`docker-archive:${cut}`, ['--format', 'json']);
    t.is(result.exitCode, 2, `cut at ${fraction}: ${result.stderr}`);
    t.regex(result.stderr, new RegExp(`truncated-${fraction}\\.tar|sha256:[0-9a-f]{12}|layer\\.tar`), `cut at ${fraction}: error names the archive or blob`);
  }
});

test('[integration] one flipped byte inside a layer blob is exit 2 naming the blob (digest mismatch)', async (t) => {
  const img = await clean();
  const flipped = join(dir, 'flipped.tar');
  await copyFile(img.archive, flipped);
  const bytes = await readFile(flipped);
  const at = bytes.indexOf(MARKER);
  t.true(at > 0, 'marker found in the archive');
  const handle = await open(flipped, 'r+');
  try {
    // 'e' -> 'E' in the marker: the layer tar still parses, only its digest is wrong.
    await handle.write(Buffer.from([bytes[at]! ^ 0x20]), 0, 1, at);
  } finally {
    await handle.close();
  }
  const layerDigest = img.diffIds.at(-1)!;
  const output = join(dir, 'flipped-report.json');
  const result = await scan(`docker-archive:${flipped}`, ['--format', 'json', '--output', output]);
  t.is(result.exitCode, 2, result.stderr);
  // No partial output: an unreadable target leaves no report that a later CI step could mistake for a verdict.
  await t.throwsAsync(stat(output), { code: 'ENOENT' });
  t.is(result.stdout, '');
  t.true(
    result.stderr.includes(layerDigest.slice('sha256:'.length, 'sha256:'.length + 12)) || /[0-9a-f]{64}\/layer\.tar/.test(result.stderr),
    `error names the blob ${layerDigest}: ${result.stderr}`,
  );
  t.regex(result.stderr, /digest|sha256/i);
});

test('[integration] the library scanTarget (what build calls) gives the same findings as the CLI, and throws on a damaged archive', async (t) => {
  const img = await leaky();
  const publicKeys = [deriveKeyIdentity(Buffer.from(key.armoredPublic))];
  const [library, cli] = await Promise.all([
    scanTarget(`docker-daemon:${img.tag}`, { publicKeys }),
    scanJson(`docker-archive:${img.archive}`, ['--public-key', key.files.publicAsc]),
  ]);
  t.true(library.leaked);
  t.deepEqual(comparableFindings(library as unknown as JsonReport), comparableFindings(cli.report));

  const cut = join(dir, 'library-truncated.tar');
  await copyFile(img.archive, cut);
  await truncate(cut, Math.floor((await stat(cut)).size / 2));
  const error = await t.throwsAsync(scanTarget(`docker-archive:${cut}`, { publicKeys }));
  t.true(isEicBuildError(error), String(error));
});
