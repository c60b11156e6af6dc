import test from 'ava';
import { createHash, randomBytes } from 'node:crypto';
import { mkdtemp, rm, writeFile, mkdir } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { gzipSync } from 'node:zlib';
import { execa } from 'execa';
import { EicBuildError } from '../../src/errors.js';
import { createContentScanner } from '../../src/detectors/index.js';
import { NO_DETECTOR_KEYS } from '../../src/scan/detector-api.js';
import { scanLayerBlob, type LayerScanJob } from '../../src/scan/layer-scan.js';
import { RETAIN_LIMIT } from '../../src/scan/provenance/layer-collector.js';
import { digestLayerFiles } from '../../src/scan/range-digests.js';
import { buildTar, compress, layerTar } from '../helpers/image-fixture.js';
import { createRandom, fuzzSeed } from '../helpers/seeded-random.js';
import { MARKER, markerScanner } from './marker-scanner.js';

const sha = (bytes: Uint8Array) => `sha256:${createHash('sha256').update(bytes).digest('hex')}`;

function job(extra: Partial<LayerScanJob> = {}): LayerScanJob {
  return { label: 'layer 0 (test)', format: 'tar', check: null, expectedSize: null, keys: NO_DETECTOR_KEYS, ...extra };
}

/** Stream `bytes` in chunks of `size` (1 = the worst case for boundary handling). */
function chunked(bytes: Uint8Array, size: number): Readable {
  const pieces: Buffer[] = [];
  for (let i = 0; i < bytes.length; i += size) pieces.push(Buffer.from(bytes.subarray(i, i + size)));
  return Readable.from(pieces);
}

async function scan(bytes: Uint8Array, extra: Partial<LayerScanJob> = {}, chunk = 1 << 20) {
  const scanner = markerScanner();
  const result = await scanLayerBlob(chunked(bytes, chunk), job(extra), scanner.factory);
  return { result, opened: scanner.opened };
}

for (const compression of ['gzip', 'zstd', 'none'] as const) {
  test(`${compression === 'zstd' ? '[integration] ' : ''}a ${compression} layer: compression sniffed, every file scanned, blob digest checked`, async (t) => {
    const tar = await layerTar({ files: { 'etc/secret.txt': `before ${MARKER} after`, 'usr/bin/tool': randomBytes(70_000), empty: '' } });
    const blob = await compress(tar, compression);
    const { result, opened } = await scan(blob, { check: { kind: 'blob', digest: sha(blob) }, expectedSize: blob.length });
    t.is(result.compression, compression);
    t.is(result.blobDigest, sha(blob));
    t.is(result.bytesScanned, tar.length);
    t.deepEqual(opened.filter((p) => p !== null).sort(), ['etc/secret.txt', 'usr/bin/tool']);
    t.is(result.findings.length, 1);
    t.like(result.findings[0], { path: 'etc/secret.txt', nestedPath: null, offset: 7 });
  });
}

test('results do not depend on how the stream is chunked (1-byte chunks)', async (t) => {
  const tar = await layerTar({ files: { [`${'d'.repeat(150)}/${'n'.repeat(120)}.txt`]: `x${MARKER}`, 'b.bin': randomBytes(3000), c: MARKER } });
  const blob = gzipSync(tar);
  const whole = await scan(blob);
  const bytewise = await scan(blob, {}, 1);
  const plainBytewise = await scan(tar, {}, 7);
  t.deepEqual(bytewise.result.findings, whole.result.findings);
  t.deepEqual(plainBytewise.result.findings, whole.result.findings);
  t.is(whole.result.findings.length, 2);
  t.true(
    whole.result.findings.some((f) => f.path === `${'d'.repeat(150)}/${'n'.repeat(120)}.txt`),
    'long PAX name kept whole',
  );
});

test('GNU long names and links written by real GNU tar are read', async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'eic-scan-gnu-'));
  t.teardown(() => rm(dir, { recursive: true, force: true }));
  const longDir = `src/${'very-long-directory-name-'.repeat(6)}`;
  await mkdir(join(dir, 'root', longDir), { recursive: true });
  await writeFile(join(dir, 'root', longDir, `${'file-'.repeat(30)}.key`), `k ${MARKER}`);
  await execa('ln', ['-s', `${longDir}/${'file-'.repeat(30)}.key`, join(dir, 'root', 'link')]);
  await execa('tar', ['--format=gnu', '-C', join(dir, 'root'), '-cf', join(dir, 'l.tar'), '.']);
  const { readFile } = await import('node:fs/promises');
  const { result } = await scan(await readFile(join(dir, 'l.tar')));
  t.is(result.findings.length, 1);
  t.is(result.findings[0]!.path, `${longDir}/${'file-'.repeat(30)}.key`, 'no leading ./, full GNU long name');
  t.true(result.files.includes('link'));
});

test('whiteouts, opaque directories, links and secret-mount stubs are recorded, not scanned as content', async (t) => {
  const tar = await layerTar({
    files: { 'run/secrets/signing_key': '', 'a/hard': { link: 'a/file' }, 'a/sym': { symlink: '/etc/passwd' }, 'a/file': 'x', 'a/dir': { dir: true } },
    whiteouts: ['root/.gnupg/private-keys-v1.d/ABC.key'],
    opaque: ['home/user'],
  });
  const { result, opened } = await scan(tar);
  t.deepEqual(result.whiteouts, ['root/.gnupg/private-keys-v1.d/ABC.key']);
  t.deepEqual(result.opaqueDirs, ['home/user']);
  t.true(result.files.includes('a/hard') && result.files.includes('a/sym') && result.files.includes('a/file'));
  t.false(result.files.includes('a/dir'));
  t.deepEqual(
    opened.filter((p) => p !== null),
    ['a/file'],
  );
  t.true(result.notes.some((n) => n.kind === 'secret-mount-stub' && n.path === 'run/secrets/signing_key'));
});

test('entry names with .. or an absolute path are noted and still scanned', async (t) => {
  const tar = await buildTar([
    { name: '../../escape.txt', content: Buffer.from(MARKER) },
    { name: '/abs/path.txt', content: Buffer.from('plain') },
  ]);
  const { result } = await scan(tar);
  t.is(result.notes.filter((n) => n.kind === 'unsafe-name').length, 2);
  t.is(result.findings[0]!.path, '../../escape.txt');
});

test('[integration] archives inside a layer: tar.gz, zstd, tar in tar.gz; each key reported once, at the innermost path', async (t) => {
  const innerTar = await buildTar([{ name: 'inner/dir/key.txt', content: Buffer.from(`a ${MARKER}`) }]);
  const deeper = await buildTar([{ name: 'bundle.tar', content: innerTar }]);
  const tar = await layerTar({
    files: {
      'opt/backup.tar.gz': gzipSync(innerTar),
      'opt/backup.tar.zst': await compress(innerTar, 'zstd'),
      'opt/deeper.tgz': gzipSync(deeper),
      'opt/plain.txt.gz': gzipSync(Buffer.from(`z ${MARKER}`)),
      'opt/raw.tar': innerTar,
    },
  });
  const { result } = await scan(gzipSync(tar));
  const where = result.findings.map((f) => `${f.path} :: ${f.nestedPath}`).sort();
  // The raw bytes of each uncompressed tar hold the member's key too; it is not reported again at the container.
  t.deepEqual(where, [
    'opt/backup.tar.gz :: backup.tar/inner/dir/key.txt',
    'opt/backup.tar.zst :: backup.tar/inner/dir/key.txt',
    'opt/deeper.tgz :: deeper.tar/bundle.tar/inner/dir/key.txt',
    'opt/plain.txt.gz :: plain.txt',
    'opt/raw.tar :: inner/dir/key.txt',
  ]);
});

test('an inner tar is still scanned raw: a key outside its members (after the end marker, in a header) is reported at the container', async (t) => {
  const innerTar = await buildTar([{ name: 'inner/key.txt', content: Buffer.from(`a ${MARKER}`) }]);
  const appended = Buffer.concat([innerTar, Buffer.from(`tail ${MARKER}`)]);
  // A member name holding the marker: in the tar header, not in any member's body.
  const named = await buildTar([{ name: `${MARKER}.txt`, content: Buffer.from('plain') }]);
  const tar = await layerTar({ files: { 'opt/appended.tar.gz': gzipSync(appended), 'opt/named.tar': named, 'opt/both.tar': Buffer.concat([innerTar, Buffer.from(MARKER)]) } });
  const { result } = await scan(tar);
  const where = result.findings.map((f) => `${f.path} :: ${f.nestedPath} @${f.offset}`).sort();
  t.deepEqual(where, [
    `opt/appended.tar.gz :: appended.tar @${innerTar.length + 5}`,
    'opt/appended.tar.gz :: appended.tar/inner/key.txt @2',
    `opt/both.tar :: inner/key.txt @2`,
    `opt/both.tar :: null @${innerTar.length}`,
    'opt/named.tar :: null @0',
  ]);
});

test('[integration] zip: a stored member is reported once (at the member); a deflated one was never visible raw', async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'eic-scan-zip1-'));
  t.teardown(() => rm(dir, { recursive: true, force: true }));
  await mkdir(join(dir, 'src'), { recursive: true });
  await writeFile(join(dir, 'src', 'small.txt'), `x ${MARKER}`);
  await execa('zip', ['-q', '-0', join(dir, 'stored.zip'), 'small.txt'], { cwd: join(dir, 'src') });
  const { readFile } = await import('node:fs/promises');
  const { result } = await scan(await layerTar({ files: { 'opt/stored.zip': await readFile(join(dir, 'stored.zip')) } }));
  t.deepEqual(
    result.findings.map((f) => `${f.path} :: ${f.nestedPath}`),
    ['opt/stored.zip :: small.txt'],
  );
});

test('hard links: a link to a file with a key carries the key at its own path (it outlives the first name)', async (t) => {
  const tar = await buildTar([
    { name: 'srv/a.asc', content: Buffer.from(`k ${MARKER}`) },
    { name: 'srv/b.asc', type: 'link', linkname: 'srv/a.asc' },
    { name: 'srv/c.asc', type: 'link', linkname: './srv/b.asc' },
    { name: 'srv/plain', content: Buffer.from('nothing') },
    { name: 'srv/d', type: 'link', linkname: 'srv/plain' },
    { name: 'srv/e.tar', content: await buildTar([{ name: 'in/k', content: Buffer.from(MARKER) }]) },
    { name: 'srv/f.tar', type: 'link', linkname: 'srv/e.tar' },
  ]);
  for (const chunk of [1 << 20, 7]) {
    const { result } = await scan(tar, {}, chunk);
    const where = result.findings.map((f) => `${f.path} :: ${f.nestedPath}`).sort();
    t.deepEqual(where, ['srv/a.asc :: null', 'srv/b.asc :: null', 'srv/c.asc :: null', 'srv/e.tar :: in/k', 'srv/f.tar :: in/k']);
    const b = result.findings.find((f) => f.path === 'srv/b.asc')!;
    t.regex(b.message, /hard link to srv\/a\.asc/);
    t.is(b.offset, 2);
    t.true(result.files.includes('srv/b.asc'));
  }
});

test('[integration] zip members (stored, deflated, also from the real zip CLI) are unpacked; streamed zips with data descriptors too', async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'eic-scan-zip-'));
  t.teardown(() => rm(dir, { recursive: true, force: true }));
  await mkdir(join(dir, 'src', 'META-INF'), { recursive: true });
  await writeFile(join(dir, 'src', 'META-INF', 'key.txt'), `deflate me ${'padding '.repeat(50)} ${MARKER}`);
  await writeFile(join(dir, 'src', 'small.txt'), MARKER);
  await execa('zip', ['-q', '-r', join(dir, 'app.jar'), '.'], { cwd: join(dir, 'src') });
  await execa('zip', ['-q', '-r', '-0', join(dir, 'stored.zip'), '.'], { cwd: join(dir, 'src') });
  // Written to a pipe, zip cannot seek back: sizes follow each member in a data descriptor.
  const piped = await execa('sh', ['-c', 'zip -q -r - . | cat'], { cwd: join(dir, 'src'), encoding: 'buffer' });
  const { readFile } = await import('node:fs/promises');
  const tar = await layerTar({
    files: { 'opt/app.jar': await readFile(join(dir, 'app.jar')), 'opt/stored.zip': await readFile(join(dir, 'stored.zip')), 'opt/piped.zip': Buffer.from(piped.stdout) },
  });
  const { result } = await scan(gzipSync(tar));
  const where = result.findings.map((f) => `${f.path} :: ${f.nestedPath}`).sort();
  t.true(where.includes('opt/app.jar :: META-INF/key.txt'), where.join('\n'));
  t.true(where.includes('opt/app.jar :: small.txt'), where.join('\n'));
  t.true(where.includes('opt/stored.zip :: META-INF/key.txt'), where.join('\n'));
  t.true(where.includes('opt/stored.zip :: small.txt'), where.join('\n'));
  t.true(where.includes('opt/piped.zip :: META-INF/key.txt'), where.join('\n'));
  t.true(where.includes('opt/piped.zip :: small.txt'), where.join('\n'));
  t.false(
    result.notes.some((n) => n.path === 'opt/piped.zip'),
    JSON.stringify(result.notes),
  );
});

test('a decompression bomb inside a layer ends in a bounded, reported skip', async (t) => {
  const bomb = gzipSync(Buffer.alloc(64 * 1024 * 1024));
  const tar = await layerTar({ files: { 'opt/bomb.gz': bomb, 'opt/after.txt': MARKER } });
  const { result } = await scan(tar, { limits: { maxDepth: 3, maxInflatedBytes: 8 * 1024 * 1024, maxRatio: 1000 } });
  t.true(
    result.notes.some((n) => n.kind === 'nested-bounded' && n.path === 'opt/bomb.gz'),
    JSON.stringify(result.notes),
  );
  t.is(result.findings.length, 1, 'the files after the bomb are still scanned');
  t.is(result.findings[0]!.path, 'opt/after.txt');
});

test('a damaged file that looks compressed is a note, the layer still scans', async (t) => {
  const broken = gzipSync(randomBytes(5000)).subarray(0, 600);
  const { result } = await scan(await layerTar({ files: { 'a.gz': broken, 'b.txt': MARKER } }));
  t.true(result.notes.some((n) => n.kind === 'nested-unreadable' && n.path === 'a.gz'));
  t.is(result.findings[0]!.path, 'b.txt');
});

async function rejectsWith(t: import('ava').ExecutionContext, promise: Promise<unknown>, code: string, pattern: RegExp) {
  const error = await t.throwsAsync(promise);
  t.true(error instanceof EicBuildError, String(error));
  t.is((error as EicBuildError).code as string, code);
  t.regex(error!.message, pattern);
}

test('[integration] a truncated gzip layer, bad gzip, truncated zstd and a truncated tar are errors that name the layer', async (t) => {
  const tar = await layerTar({ files: { 'big.bin': randomBytes(200_000), 'x.txt': 'x' } });
  const gz = gzipSync(tar);
  const zst = await compress(tar, 'zstd');
  await rejectsWith(t, scan(gz.subarray(0, gz.length - 100)), 'input-corrupt', /layer 0 \(test\).*gzip/);
  const flipped = Buffer.from(gz);
  flipped[100] ^= 0xff;
  await rejectsWith(t, scan(flipped), 'input-corrupt', /layer 0 \(test\)/);
  await rejectsWith(t, scan(zst.subarray(0, zst.length - 50)), 'input-corrupt', /layer 0 \(test\).*zstd/);
  await rejectsWith(t, scan(tar.subarray(0, 100_000)), 'input-corrupt', /layer 0 \(test\).*truncated: entry 'big.bin'/);
  await rejectsWith(t, scan(Buffer.from('definitely not a tar'.repeat(40))), 'input-corrupt', /not a valid tar header/);
});

test('a digest or size that does not match the manifest is an error', async (t) => {
  const blob = gzipSync(await layerTar({ files: { a: 'a' } }));
  await rejectsWith(t, scan(blob, { check: { kind: 'blob', digest: `sha256:${'0'.repeat(64)}` } }), 'digest-mismatch', /hashes to sha256:/);
  await rejectsWith(t, scan(blob, { expectedSize: blob.length + 1 }), 'input-corrupt', /bytes, the manifest says/);
  const tar = await layerTar({ files: { a: 'a' } });
  // Legacy docker save: the uncompressed tar must hash to the config's diff_id, also when compressed.
  const ok = await scan(gzipSync(tar), { check: { kind: 'diff', digest: sha(tar) } });
  t.is(ok.result.diffDigest, sha(tar));
  await rejectsWith(t, scan(gzipSync(tar), { check: { kind: 'diff', digest: sha(gzipSync(tar)) } }), 'digest-mismatch', /rootfs.diff_ids/);
});

test('bytes appended after the tar end marker are scanned too (they ship with the blob)', async (t) => {
  const tar = await layerTar({ files: { a: 'a' } });
  const { result } = await scan(gzipSync(Buffer.concat([tar, Buffer.from(`hidden ${MARKER}`)])));
  t.is(result.findings.length, 1);
  t.is(result.findings[0]!.path, null);
});

test('[integration] decoding in a helper thread gives the same result and the same errors', async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'eic-scan-decode-'));
  t.teardown(() => rm(dir, { recursive: true, force: true }));
  const tar = await layerTar({ files: { 'k.txt': MARKER, 'big.bin': randomBytes(300_000), 'n.tgz': gzipSync(await buildTar([{ name: 'in', content: Buffer.from(MARKER) }])) } });
  for (const compression of ['gzip', 'zstd', 'none'] as const) {
    const blob = await compress(tar, compression);
    const file = join(dir, `layer-${compression}`);
    await writeFile(file, blob);
    const location = { file, offset: 0, size: blob.length };
    const here = await scanLayerBlob(location, job({ check: { kind: 'blob', digest: sha(blob) } }), markerScanner().factory);
    const there = await scanLayerBlob(location, job({ check: { kind: 'blob', digest: sha(blob) }, decodeOffThread: true }), markerScanner().factory);
    t.deepEqual(there, here);
    // k.txt, and n.tgz's member (its inner tar's raw copy of the same bytes is not repeated).
    t.is(there.findings.length, 2);
    const cut = { file, offset: 0, size: blob.length - 1000 };
    await rejectsWith(t, scanLayerBlob(cut, job({ decodeOffThread: true }), markerScanner().factory), 'input-corrupt', /layer 0 \(test\)/);
  }
});

test('a raw (non-tar) blob such as an attestation is scanned as one document', async (t) => {
  const { result } = await scan(Buffer.from(JSON.stringify({ predicate: { x: MARKER } })), { format: 'raw' });
  t.is(result.findings.length, 1);
  t.is(result.findings[0]!.path, null);
  t.true(result.notes.some((n) => n.kind === 'raw-blob'));
});

/** A one-member stored zip (local header only: the walker never reads the central directory). */
function storedZip(name: string, content: Buffer): Buffer {
  const header = Buffer.alloc(30);
  header.writeUInt32LE(0x04034b50, 0);
  header.writeUInt32LE(content.length, 18);
  header.writeUInt32LE(content.length, 22);
  header.writeUInt16LE(Buffer.byteLength(name), 26);
  return Buffer.concat([header, Buffer.from(name), content, Buffer.from('PK\x01\x02')]);
}

test('[integration] fuzz: garbage, truncations and bit flips never crash and never pass silently', async (t) => {
  const tar = await layerTar({
    files: {
      'a/b.txt': MARKER,
      'c.bin': randomBytes(5000),
      'd.tar.gz': gzipSync(await buildTar([{ name: 'e', content: Buffer.from(MARKER) }])),
      'f.zip': storedZip('g/h.txt', Buffer.from(`${MARKER} ${'x'.repeat(600)}`)),
    },
  });
  // Seeded: a failure names the seed, and EIC_BUILD_FUZZ_SEED=<seed> replays it.
  const random = createRandom(fuzzSeed());
  t.log(`seed ${random.seed}`);
  const samples: Buffer[] = [];
  for (const base of [tar, gzipSync(tar), await compress(tar, 'zstd')]) {
    for (let i = 0; i < 40; i++) {
      samples.push(Buffer.from(base.subarray(0, random.int(base.length))));
      const flipped = Buffer.from(base);
      for (let j = 0; j < 3; j++) flipped[random.int(flipped.length)] ^= 1 << random.int(8);
      samples.push(flipped);
    }
  }
  for (let i = 0; i < 40; i++) samples.push(random.bytes(random.int(4096)));
  samples.push(Buffer.concat([Buffer.from([0x1f, 0x8b]), random.bytes(1000)]));
  samples.push(Buffer.concat([Buffer.from([0x28, 0xb5, 0x2f, 0xfd]), random.bytes(1000)]));
  for (const sample of samples) {
    const digest = sha(sample);
    // Without a digest to check against, the parsers must still either finish or raise an EicBuildError.
    await scan(sample).catch((error: unknown) => t.true(error instanceof EicBuildError, `not an EicBuildError (seed ${random.seed}): ${String(error)}`));
    try {
      const { result } = await scan(sample, { check: { kind: 'blob', digest: sha(tar) } });
      // Only a sample identical to the original may pass the digest check.
      t.is(digest, sha(tar), 'a damaged blob passed');
      t.truthy(result);
    } catch (error) {
      t.true(error instanceof EicBuildError, `not an EicBuildError: ${String(error)}`);
    }
  }
});

test('files too large to keep that hold findings get their digests and block ids from a second read of a layer in a file, equal to those taken as they stream', async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'eic-scan-reread-'));
  t.teardown(() => rm(dir, { recursive: true, force: true }));
  // A block of seeded bytes repeated: over RETAIN_LIMIT (64 MiB, streamed past it), and 2 MiB (kept
  // on a stream, left to the second read from a file). Each holds a legacy encrypted PEM key (a
  // finding with no public identity: it gets a block id) near its end.
  const random = createRandom(fuzzSeed());
  const block = Buffer.from(Array.from({ length: 4096 }, () => random.int(256)));
  const body = Buffer.from(Array.from({ length: 600 }, () => random.int(256)))
    .toString('base64')
    .replace(/.{64}/g, '$&\n');
  const pem = `-----BEGIN RSA PRIVATE KEY-----\nProc-Type: 4,ENCRYPTED\nDEK-Info: AES-128-CBC,0123456789ABCDEF0123456789ABCDEF\n\n${body}\n-----END RSA PRIVATE KEY-----\n`;
  const filled = (size: number, withKey: boolean) => {
    const bytes = Buffer.alloc(size);
    for (let at = 0; at < bytes.length; at += block.length) block.copy(bytes, at);
    if (withKey) bytes.write(`\n${pem}`, bytes.length - 4000, 'latin1');
    return bytes;
  };
  const large = filled(RETAIN_LIMIT + 3 * 4096 + 17, true);
  const mid = filled(2 * 1024 * 1024 + 5, true);
  const files = {
    'a/small.pem': pem,
    'b/large-clean.bin': filled(RETAIN_LIMIT + 100, false),
    'c/large-key.bin': large,
    'd/mid-key.bin': mid,
    'e/mid-clean.bin': filled(3 << 20, false),
  };
  const tar = await layerTar({ files });
  const blob = gzipSync(tar, { level: 1 });
  const file = join(dir, 'layer.tar.gz');
  await writeFile(file, blob);
  const location = { file, offset: 0, size: blob.length };
  const fromFile = await scanLayerBlob(location, job({ decodeTools: false }), createContentScanner);
  const fromStream = await scanLayerBlob(chunked(blob, 1 << 20), job(), createContentScanner);
  // The walk of a file leaves the two large ones for later (deferred-digests.ts decides whether to read again).
  const deferred = fromFile.provenance!.deferred;
  t.deepEqual(
    deferred.map((d) => d.path),
    ['c/large-key.bin', 'd/mid-key.bin'],
  );
  t.false(fromFile.readTwice);
  const reread = await digestLayerFiles(location, deferred, { label: 'layer 0 (test)', tools: false, blobDigest: fromFile.blobDigest });
  const byPath = <T extends { path: string }>(digests: T[]) => [...digests].sort((a, b) => a.path.localeCompare(b.path));
  t.deepEqual(byPath([...fromFile.provenance!.digests, ...reread]), byPath(fromStream.provenance!.digests));
  const digests = byPath(fromStream.provenance!.digests);
  t.deepEqual(
    digests.map((d) => d.path),
    ['a/small.pem', 'c/large-key.bin', 'd/mid-key.bin'],
  );
  const hex = (name: string, bytes: Buffer) => createHash(name).update(bytes).digest('hex');
  t.like(digests[1], { size: large.length, md5: hex('md5', large), sha256: hex('sha256', large) });
  t.like(digests[2], { size: mid.length, md5: hex('md5', mid), sha256: hex('sha256', mid) });
  // Block ids: the same key in all three files has the same id; the file over RETAIN_LIMIT gets none (as on a stream).
  t.is(digests[2]!.blockIds?.length, 1);
  t.is(digests[2]!.blockIds![0]!.id, digests[0]!.blockIds![0]!.id);
  t.is(digests[1]!.blockIds, undefined);
});

test('the second read refuses a blob that changed since the scan (its digest differs)', async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'eic-scan-reread-'));
  t.teardown(() => rm(dir, { recursive: true, force: true }));
  const tar = await layerTar({ files: { 'a.bin': randomBytes(10_000) } });
  const blob = gzipSync(tar);
  const file = join(dir, 'layer.tar.gz');
  await writeFile(file, blob);
  const files = [{ path: 'a.bin', size: 10_000, offset: 512, blockOffsets: [], links: [] }];
  const options = { label: 'layer 3 (test)', tools: false };
  const digests = await digestLayerFiles({ file, offset: 0, size: blob.length }, files, { ...options, blobDigest: sha(blob) });
  t.is(digests[0]!.sha256, createHash('sha256').update(tar.subarray(512, 10_512)).digest('hex'));
  await rejectsWith(
    t,
    digestLayerFiles({ file, offset: 0, size: blob.length }, files, { ...options, blobDigest: `sha256:${'0'.repeat(64)}` }),
    'digest-mismatch',
    /layer 3 \(test\): the blob hashed to .* when read again/,
  );
  await rejectsWith(
    t,
    digestLayerFiles({ file: join(dir, 'gone'), offset: 0, size: blob.length }, files, { ...options, blobDigest: sha(blob) }),
    'input-unreadable',
    /cannot read the blob again/,
  );
});

test('the second read decodes only up to the end of the last file it needs: a damaged tail after it is hashed, not decoded', async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'eic-scan-reread-'));
  t.teardown(() => rm(dir, { recursive: true, force: true }));
  const wanted = randomBytes(10_000);
  const tar = await layerTar({ files: { 'a.bin': wanted, 'b.bin': randomBytes(4 << 20) } });
  // A second gzip member that does not inflate: a full decode fails on it.
  const damaged = gzipSync(randomBytes(100_000));
  damaged.fill(0xff, 20, 2000);
  const blob = Buffer.concat([gzipSync(tar), damaged]);
  const location = { file: join(dir, 'layer.tar.gz'), offset: 0, size: blob.length };
  await writeFile(location.file, blob);
  const files = [{ path: 'a.bin', size: wanted.length, offset: 512, blockOffsets: [], links: [] }];
  const options = { label: 'layer 1 (test)', tools: false, blobDigest: sha(blob) };
  const [digests] = await digestLayerFiles(location, files, options);
  t.is(digests!.sha256, createHash('sha256').update(wanted).digest('hex'));
  // The rest is still hashed: a blob changed after the last file is refused.
  await writeFile(location.file, Buffer.concat([blob.subarray(0, -1), Buffer.from([blob.at(-1)! ^ 1])]));
  await rejectsWith(t, digestLayerFiles(location, files, options), 'digest-mismatch', /when read again/);
  // Bytes wanted from past the first member need the damaged part: that read fails.
  await writeFile(location.file, blob);
  const past = { path: 'past', size: 1, offset: tar.length + 10, blockOffsets: [], links: [] };
  await rejectsWith(t, digestLayerFiles(location, [...files, past], options), 'input-unreadable', /cannot read the blob again/);
});
