// A key inside a Debian package (ar + data.tar.xz / .gz / .zst), built with the real
// `dpkg-deb --build`; keys generated now; the same package with the public key is the control.
import test from 'ava';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { execa } from 'execa';
import * as openpgp from 'openpgp';
import { scanTarget } from '../../src/scan/index.js';
import { makeFixtureDir, writeFixture } from '../helpers/image-fixture.js';

let dir = '';
let cleanup = async () => {};
let secret = '';
let publicOnly = '';

test.before(async () => {
  ({ dir, cleanup } = await makeFixtureDir('eic-scan-nested-deb'));
  const key = await openpgp.generateKey({ userIDs: [{ name: 'Deb', email: 'deb@example.org' }], format: 'armored' });
  secret = key.privateKey;
  publicOnly = key.publicKey;
});
test.after.always(() => cleanup());

let counter = 0;
async function buildDeb(content: string, compression: 'xz' | 'gzip' | 'zstd'): Promise<Buffer> {
  const root = join(dir, `pkg-${counter++}`);
  await mkdir(join(root, 'DEBIAN'), { recursive: true });
  await mkdir(join(root, 'etc/eic'), { recursive: true });
  await writeFile(join(root, 'DEBIAN/control'), 'Package: eic-test\nVersion: 1.0\nArchitecture: all\nMaintainer: t <t@example.org>\nDescription: test\n');
  await writeFile(join(root, 'etc/eic/signing.asc'), content);
  await execa('dpkg-deb', ['--root-owner-group', `-Z${compression}`, '--build', root, `${root}.deb`]);
  return readFile(`${root}.deb`);
}

async function scanDeb(deb: Buffer) {
  const written = await writeFixture({ layers: [{ files: { 'var/cache/apt/archives/eic-test_1.0_all.deb': deb } }] }, 'docker-oci', join(dir, `img-${counter++}.tar`));
  return scanTarget(written.path);
}

for (const compression of ['xz', 'gzip', 'zstd'] as const) {
  test(`${compression === 'xz' ? '[integration] ' : ''}a key inside a .deb (dpkg-deb -Z${compression}) is found in data.tar; the public-only package is clean`, async (t) => {
    const report = await scanDeb(await buildDeb(secret, compression));
    t.true(report.leaked);
    t.deepEqual(
      report.findings.map((f) => `${f.path} :: ${f.nestedPath}`),
      ['var/cache/apt/archives/eic-test_1.0_all.deb :: data.tar/etc/eic/signing.asc'],
    );
    const control = await scanDeb(await buildDeb(publicOnly, compression));
    t.false(control.leaked);
    t.false(
      control.notes.some((n) => n.kind.startsWith('nested-')),
      JSON.stringify(control.notes),
    );
  });
}

test('[integration] a truncated .deb is a note naming it', async (t) => {
  const deb = await buildDeb(secret, 'xz');
  const report = await scanDeb(deb.subarray(0, deb.length - 100));
  t.true(
    report.notes.some((n) => n.kind.startsWith('nested-') && n.path === 'var/cache/apt/archives/eic-test_1.0_all.deb'),
    JSON.stringify(report.notes),
  );
});
