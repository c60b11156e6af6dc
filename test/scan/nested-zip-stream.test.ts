// Zips written by streaming writers (general-purpose flag bit 3: sizes only in data descriptors
// and the central directory): the real `zip` writing to a pipe, `jar`, and Python's zipfile writing
// to an unseekable pipe. Keys generated now; the same archives with the public key are the control.
import test from 'ava';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { execa } from 'execa';
import * as openpgp from 'openpgp';
import { scanTarget } from '../../src/scan/index.js';
import { locateHeldZipMembers, ZipFormatError } from '../../src/scan/nested/zip-held.js';
import { makeFixtureDir, writeFixture } from '../helpers/image-fixture.js';

let dir = '';
let cleanup = async () => {};
let secret = '';
let publicOnly = '';

test.before(async () => {
  ({ dir, cleanup } = await makeFixtureDir('eic-scan-nested-zip'));
  const key = await openpgp.generateKey({ userIDs: [{ name: 'Zip', email: 'zip@example.org' }], format: 'armored' });
  secret = key.privateKey;
  publicOnly = key.publicKey;
});
test.after.always(() => cleanup());

let counter = 0;
async function sourceTree(content: string): Promise<string> {
  const src = join(dir, `src-${counter++}`);
  await mkdir(join(src, 'META-INF'), { recursive: true });
  await writeFile(join(src, 'META-INF', 'MANIFEST.MF'), 'Manifest-Version: 1.0\n');
  await writeFile(join(src, 'config'), 'x=1\n');
  await writeFile(join(src, 'signing.asc'), content);
  return src;
}

const WRITERS: Record<string, (src: string) => Promise<Buffer>> = {
  'zip to a pipe': async (src) => Buffer.from((await execa('sh', ['-c', 'zip -q -r - . | cat'], { cwd: src, encoding: 'buffer' })).stdout),
  'zip -0 to a pipe (stored)': async (src) => Buffer.from((await execa('sh', ['-c', 'zip -q -0 -r - . | cat'], { cwd: src, encoding: 'buffer' })).stdout),
  jar: async (src) => {
    const out = join(dir, `a-${counter++}.jar`);
    await execa('jar', ['cf', out, '-C', src, '.']);
    return readFile(out);
  },
  'python zipfile to a pipe': async (src) => {
    const script = [
      'import sys, zipfile, os',
      'with zipfile.ZipFile(sys.stdout.buffer, "w", zipfile.ZIP_DEFLATED) as z:',
      '    for name in ("config", "signing.asc"):',
      '        with z.open(name, "w") as f, open(os.path.join(sys.argv[1], name), "rb") as g: f.write(g.read())',
    ].join('\n');
    return Buffer.from((await execa('sh', ['-c', `python3 -c '${script}' "$0" | cat`, src], { encoding: 'buffer' })).stdout);
  },
};

async function scanZip(zip: Buffer) {
  const written = await writeFixture({ layers: [{ files: { 'opt/app/lib/app.jar': zip } }] }, 'docker-oci', join(dir, `img-${counter++}.tar`));
  return scanTarget(written.path);
}

for (const [writer, write] of Object.entries(WRITERS)) {
  test(`[integration] ${writer}: members with data descriptors are read; the key is found; the public-only twin is clean`, async (t) => {
    const zip = await write(await sourceTree(secret));
    // The writer really streamed: the key's member has flag bit 3 and no sizes in its local header.
    const at = zip.indexOf('signing.asc') - 30;
    t.true(at >= 0 && (zip.readUInt16LE(at + 6) & 0x08) !== 0, `${writer} did not set flag bit 3`);
    const report = await scanZip(zip);
    t.true(report.leaked);
    t.deepEqual(
      report.findings.map((f) => `${f.path} :: ${f.nestedPath}`),
      ['opt/app/lib/app.jar :: signing.asc'],
    );
    t.false(
      report.notes.some((n) => n.kind.startsWith('nested-')),
      JSON.stringify(report.notes),
    );
    const control = await scanZip(await write(await sourceTree(publicOnly)));
    t.false(control.leaked);
  });
}

test('[integration] a streamed zip cut before its central directory: members are walked to their end (deflate streams, signed descriptors)', async (t) => {
  const src = await sourceTree(secret);
  const deflated = await WRITERS['zip to a pipe']!(src);
  const cut = deflated.subarray(0, deflated.indexOf(Buffer.from([0x50, 0x4b, 0x01, 0x02])));
  const report = await scanZip(cut);
  t.deepEqual(
    report.findings.map((f) => f.nestedPath),
    ['signing.asc'],
  );
  t.throws(() => locateHeldZipMembers(Buffer.from('PK\x03\x04'), 0, 1000), { instanceOf: ZipFormatError });
});

test('[integration] a streamed zip whose member is damaged is a note naming the zip; the layer still scans', async (t) => {
  const zip = Buffer.from(await WRITERS['zip to a pipe']!(await sourceTree(secret)));
  const at = zip.indexOf('signing.asc') + 'signing.asc'.length + 40;
  zip.fill(0xff, at, at + 64);
  const written = await writeFixture({ layers: [{ files: { 'opt/a.jar': zip, 'opt/z.asc': secret } }] }, 'docker-oci', join(dir, `img-${counter++}.tar`));
  const report = await scanTarget(written.path);
  t.true(
    report.notes.some((n) => n.kind === 'nested-unreadable' && n.path === 'opt/a.jar'),
    JSON.stringify(report.notes),
  );
  t.true(report.findings.some((f) => f.path === 'opt/z.asc'));
});

test('[integration] data descriptors split across any chunk boundary are skipped (1-byte chunks)', async (t) => {
  const { Readable } = await import('node:stream');
  const { createContentScanner, NO_DETECTOR_KEYS } = await import('../../src/scan/detector-api.js');
  const { scanLayerBlob } = await import('../../src/scan/layer-scan.js');
  const { layerTar } = await import('../helpers/image-fixture.js');
  for (const writer of ['zip -0 to a pipe (stored)', 'zip to a pipe'] as const) {
    const zip = await WRITERS[writer]!(await sourceTree(secret));
    const tar = await layerTar({ files: { 'opt/a.zip': zip } });
    const pieces = Array.from(tar, (byte) => Buffer.from([byte]));
    const result = await scanLayerBlob(Readable.from(pieces), { label: 'l', format: 'tar', check: null, expectedSize: null, keys: NO_DETECTOR_KEYS }, createContentScanner);
    t.deepEqual(
      result.findings.map((f) => f.nestedPath),
      ['signing.asc'],
      writer,
    );
  }
});
