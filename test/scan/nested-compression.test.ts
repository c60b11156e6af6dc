// Single-file .xz and .bz2 (made by the real xz and bzip2), a zstd layer whose first frame is a
// skippable frame (made by the real pzstd), and decompression bombs of every nested compression:
// a bound is a note naming the member and the bound, and a key after the bomb is still found.
// Through the real detectors, with keys generated now.
import test from 'ava';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { execa } from 'execa';
import * as openpgp from 'openpgp';
import { createContentScanner, NO_DETECTOR_KEYS } from '../../src/scan/detector-api.js';
import { scanTarget } from '../../src/scan/index.js';
import { scanLayerBlob } from '../../src/scan/layer-scan.js';
import type { NestedLimits } from '../../src/scan/nested/context.js';
import { layerTar, makeFixtureDir, writeFixture, type ImageSpec } from '../helpers/image-fixture.js';

let dir = '';
let cleanup = async () => {};
let secret = '';
let publicOnly = '';

test.before(async () => {
  ({ dir, cleanup } = await makeFixtureDir('eic-scan-nested-compression'));
  const key = await openpgp.generateKey({ userIDs: [{ name: 'Nested', email: 'nested@example.org' }], format: 'armored' });
  secret = key.privateKey;
  publicOnly = key.publicKey;
});
test.after.always(() => cleanup());

async function tool(command: string, args: string[], input: string | Uint8Array): Promise<Buffer> {
  const result = await execa(command, args, { input: Buffer.from(input), encoding: 'buffer', stripFinalNewline: false });
  return Buffer.from(result.stdout);
}

let counter = 0;
async function scanSpec(spec: ImageSpec) {
  const written = await writeFixture(spec, 'docker-oci', join(dir, `img-${counter++}.tar`));
  return scanTarget(written.path);
}

const where = (report: Awaited<ReturnType<typeof scanTarget>>) => report.findings.map((f) => `${f.path} :: ${f.nestedPath}`);

for (const [name, command, suffix] of [
  ['xz', 'xz', 'xz'],
  ['bzip2', 'bzip2', 'bz2'],
] as const) {
  test(`[integration] a key in a single-file .${suffix} (real ${command}) is found; its public-only counterpart is clean`, async (t) => {
    const leak = await scanSpec({ layers: [{ files: { [`root/key.asc.${suffix}`]: await tool(command, ['-c'], secret) } }] });
    t.true(leak.leaked);
    t.deepEqual(where(leak), [`root/key.asc.${suffix} :: key.asc`]);
    t.is(leak.findings[0]!.detector, 'pgp-armored-private-key');
    const control = await scanSpec({ layers: [{ files: { [`root/key.asc.${suffix}`]: await tool(command, ['-c'], publicOnly) } }] });
    t.false(control.leaked, JSON.stringify(control.findings));
    t.false(
      control.notes.some((n) => n.kind.startsWith('nested-')),
      `${name}: ${JSON.stringify(control.notes)}`,
    );
  });

  test(`[integration] a key in a .tar.${suffix} (real ${command}) is found with the inner tar path`, async (t) => {
    const inner = await layerTar({ files: { 'home/u/.gnupg/key.asc': secret } });
    const report = await scanSpec({ layers: [{ files: { [`opt/backup.tar.${suffix}`]: await tool(command, ['-c'], inner) } }] });
    t.deepEqual(where(report), [`opt/backup.tar.${suffix} :: backup.tar/home/u/.gnupg/key.asc`]);
  });

  test(`[integration] a truncated .${suffix} is a note naming the member, and the layer still scans`, async (t) => {
    const whole = await tool(command, ['-c'], `${'padding '.repeat(5000)}${secret}`);
    const report = await scanSpec({ layers: [{ files: { [`a.${suffix}`]: whole.subarray(0, whole.length >> 1), 'b.asc': secret } }] });
    t.true(
      report.notes.some((n) => n.kind === 'nested-unreadable' && n.path === `a.${suffix}` && n.message.includes(command)),
      JSON.stringify(report.notes),
    );
    t.true(where(report).includes('b.asc :: null'));
  });
}

test('[integration] a zstd layer whose first frame is a skippable frame (real pzstd) is read; its public-only twin is clean', async (t) => {
  const leak = await scanSpec({ layers: [{ files: { 'etc/key.asc': secret }, compression: 'pzstd' }] });
  t.true(leak.leaked);
  t.deepEqual(where(leak), ['etc/key.asc :: null']);
  const control = await scanSpec({ layers: [{ files: { 'etc/key.asc': publicOnly }, compression: 'pzstd' }] });
  t.false(control.leaked);
});

test('[integration] a nested pzstd stream (skippable first frame) is unpacked too', async (t) => {
  const report = await scanSpec({ layers: [{ files: { 'opt/key.asc.zst': await tool('pzstd', ['-q', '-c'], secret) } }] });
  t.deepEqual(where(report), ['opt/key.asc.zst :: key.asc']);
});

/** Scan one layer tar through the real detectors with the given bounds. */
async function scanLayer(files: Record<string, string | Uint8Array>, limits: Partial<NestedLimits> = {}) {
  const tar = await layerTar({ files });
  return scanLayerBlob(Readable.from([tar]), { label: 'layer 0', format: 'tar', check: null, expectedSize: null, keys: NO_DETECTOR_KEYS, limits }, createContentScanner);
}

test('a 20 GiB-of-zeros gzip member (real gzip, 320 members) stops at the ratio bound; the key after it is found', async (t) => {
  const member = await tool('gzip', ['-c'], Buffer.alloc(64 * 1024 * 1024));
  const bomb = Buffer.concat(Array.from({ length: 320 }, () => member));
  const report = await scanSpec({ layers: [{ files: { 'opt/bomb.gz': bomb, 'opt/z-after.asc': secret } }] });
  const note = report.notes.find((n) => n.kind === 'nested-bounded' && n.path === 'opt/bomb.gz');
  t.truthy(note, JSON.stringify(report.notes));
  t.regex(note!.message, /maxRatio/);
  t.deepEqual(where(report), ['opt/z-after.asc :: null']);
  // The ratio bound acts after 16 MiB of output, so far less than the size bound is inflated.
  t.true(report.stats.bytesScanned < 512 * 1024 * 1024, String(report.stats.bytesScanned));
});

test('[integration] a zstd frame declaring 16 GiB is refused from its header, before any allocation; the key after it is found', async (t) => {
  // The shape that failed before: a single-segment frame whose declared size is also its window.
  // Header by hand (hostile input); the blocks are a real frame's (zstd of zeros).
  const real = await tool('zstd', ['-q', '-c', '--no-check'], Buffer.alloc(1 << 20));
  const header = Buffer.from([0x28, 0xb5, 0x2f, 0xfd, 0xe0, 0, 0, 0, 0, 4, 0, 0, 0]); // single segment, 8-byte size = 16 GiB
  const realHeaderLength = 4 + 1 + (real[4]! & 0x20 ? 0 : 1) + [0, 1, 2, 4][real[4]! & 3]! + [real[4]! & 0x20 ? 1 : 0, 2, 4, 8][real[4]! >> 6]!;
  const bomb = Buffer.concat([header, real.subarray(realHeaderLength)]);
  const result = await scanLayer({ 'opt/bomb.zst': bomb, 'opt/z-after.asc': secret });
  const note = result.notes.find((n) => n.kind === 'nested-bounded' && n.path === 'opt/bomb.zst');
  t.truthy(note, JSON.stringify(result.notes));
  t.regex(note!.message, /declares 17179869184 bytes/);
  t.false(result.notes.some((n) => /out of range/.test(n.message)));
  t.deepEqual(
    result.findings.map((f) => f.path),
    ['opt/z-after.asc'],
  );
});

test('[integration] a zstd frame needing a window over maxHeldBytes is refused from its header', async (t) => {
  const stream = await tool('zstd', ['-q', '-c', '--long=27'], Buffer.alloc(1 << 20, 7));
  const result = await scanLayer({ 'opt/wide.zst': stream, 'opt/z-after.asc': secret }, { maxHeldBytes: 64 * 1024 });
  t.true(
    result.notes.some((n) => n.kind === 'nested-bounded' && n.path === 'opt/wide.zst' && /maxHeldBytes/.test(n.message)),
    JSON.stringify(result.notes),
  );
  t.deepEqual(
    result.findings.map((f) => f.path),
    ['opt/z-after.asc'],
  );
});

for (const [command, suffix] of [
  ['zstd', 'zst'],
  ['xz', 'xz'],
  ['bzip2', 'bz2'],
] as const) {
  test(`[integration] a ${command} bomb (256 MiB of zeros, real ${command}) stops at a bound; the key after it is found`, async (t) => {
    const bomb = await tool(command, ['-c'], Buffer.alloc(256 * 1024 * 1024));
    const result = await scanLayer({ [`opt/bomb.${suffix}`]: bomb, 'opt/z-after.asc': secret });
    const note = result.notes.find((n) => n.kind === 'nested-bounded' && n.path === `opt/bomb.${suffix}`);
    t.truthy(note, JSON.stringify(result.notes));
    t.regex(note!.message, /maxRatio/);
    t.deepEqual(
      result.findings.map((f) => f.path),
      ['opt/z-after.asc'],
    );
  });
}

test('the time bound is a note naming maxSeconds; what was unpacked before it is still scanned', async (t) => {
  const result = await scanLayer({ 'opt/slow.gz': await tool('gzip', ['-c'], secret), 'opt/z-after.txt': 'x' }, { maxSeconds: 0 });
  t.true(
    result.notes.some((n) => n.kind === 'nested-bounded' && n.path === 'opt/slow.gz' && /maxSeconds/.test(n.message)),
    JSON.stringify(result.notes),
  );
  // The raw .gz bytes are scanned anyway; the key inside is not claimed as found.
  t.false(result.findings.some((f) => f.nestedPath === 'slow'));
});

test('a tar in a tar in a tar in a tar (depth 4) is a nested-bounded note naming the member and maxDepth; the key in its raw bytes is still found', async (t) => {
  let bytes: Uint8Array = await layerTar({ files: { 'key.asc': secret } });
  for (const name of ['d.tar', 'c.tar', 'b.tar']) bytes = await layerTar({ files: { [name]: bytes } });
  const report = await scanSpec({ layers: [{ files: { 'opt/a.tar': bytes } }] });
  const bounded = report.notes.filter((n) => n.kind === 'nested-bounded');
  t.deepEqual(
    bounded.map((n) => `${n.path} :: ${n.nestedPath}`),
    ['opt/a.tar :: b.tar/c.tar/d.tar'],
    JSON.stringify(report.notes),
  );
  t.regex(bounded[0]!.message, /^tar data not unpacked: the nesting depth bound \(maxDepth 3 containers\)/);
  t.deepEqual(where(report), ['opt/a.tar :: b.tar/c.tar/d.tar']);
});

test('a gzip nested seven times (real gzip) is a nested-bounded note naming the decompression bound; four times is unpacked without one', async (t) => {
  for (const [times, bounded] of [
    [7, true],
    [4, false],
  ] as const) {
    let bytes: Buffer = Buffer.from(secret);
    for (let i = 0; i < times; i++) bytes = await tool('gzip', ['-c', '-n'], bytes);
    const report = await scanSpec({ layers: [{ files: { 'opt/key.asc.gz': bytes } }] });
    const notes = report.notes.filter((n) => n.kind === 'nested-bounded');
    t.is(notes.length, bounded ? 1 : 0, `${times}: ${JSON.stringify(report.notes)}`);
    if (bounded) t.regex(notes[0]!.message, /^gzip data not unpacked: the decompression bound \(6 nested decompressions\)/);
    t.is(report.findings.length, bounded ? 0 : 1, `${times}`);
  }
});
