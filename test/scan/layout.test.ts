import test from 'ava';
import { readFile, writeFile, truncate, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { EicBuildError } from '../../src/errors.js';
import { readImages } from '../../src/scan/layout.js';
import { openDirStore, openTarStore } from '../../src/scan/stores.js';
import { readTarIndex } from '../../src/scan/tar-index.js';
import { makeFixtureDir, writeFixture, type FixtureFormat, type ImageSpec } from '../helpers/image-fixture.js';

const spec: ImageSpec = {
  layers: [{ files: { 'etc/a': 'a' } }, { files: { 'etc/b': 'b' }, compression: 'zstd' }, { files: { 'etc/c': 'c' }, compression: 'none' }],
  config: { Env: ['PATH=/usr/bin'] },
};

async function open(format: FixtureFormat, path: string) {
  return format === 'oci-dir' ? openDirStore(path, path) : openTarStore(path, path);
}

for (const format of ['docker-legacy', 'docker-oci', 'oci-dir', 'oci-archive'] as const) {
  test(`[integration] ${format}: images, configs and layers are read and checked`, async (t) => {
    const { dir, cleanup } = await makeFixtureDir();
    t.teardown(cleanup);
    const path = join(dir, format === 'oci-dir' ? 'layout' : 'image.tar');
    const written = await writeFixture(spec, format, path);
    const images = await readImages(await open(format, path));
    t.is(images.length, 1);
    const image = images[0]!;
    t.is(image.platform, 'linux/amd64');
    t.deepEqual(
      image.layers.map((l) => l.digest),
      written.layerDigests,
    );
    t.deepEqual(
      image.layers.map((l) => l.check?.kind),
      format === 'docker-legacy' ? ['diff', 'diff', 'diff'] : ['blob', 'blob', 'blob'],
    );
    t.is(image.manifestDigest, format === 'docker-legacy' ? null : written.manifestDigests[0]!);
  });
}

test('[integration] an index with two platforms and attestation manifests (nested index) lists every manifest', async (t) => {
  const { dir, cleanup } = await makeFixtureDir();
  t.teardown(cleanup);
  const path = join(dir, 'multi');
  await writeFixture(
    [
      { ...spec, platform: { os: 'linux', architecture: 'amd64' } },
      { ...spec, platform: { os: 'linux', architecture: 'arm64', variant: 'v8' } },
    ],
    'oci-dir',
    path,
    { index: true, attestations: true },
  );
  const images = await readImages(await openDirStore(path, path));
  t.deepEqual(
    images.map((i) => [i.kind, i.platform]),
    [
      ['image', 'linux/amd64'],
      ['attestation', null],
      ['image', 'linux/arm64/v8'],
      ['attestation', null],
    ],
  );
  t.deepEqual(
    images[1]!.layers.map((l) => l.format),
    ['raw'],
  );
});

async function expectError(t: import('ava').ExecutionContext, promise: Promise<unknown>, code: string, pattern: RegExp) {
  const error = await t.throwsAsync(promise);
  t.true(error instanceof EicBuildError, String(error));
  t.is((error as EicBuildError).code as string, code, error!.message);
  t.regex(error!.message, pattern);
}

test('[integration] a missing blob, a changed manifest or config, and a truncated archive are errors naming the part', async (t) => {
  const { dir, cleanup } = await makeFixtureDir();
  t.teardown(cleanup);
  const path = join(dir, 'layout');
  const written = await writeFixture(spec, 'oci-dir', path);
  const manifestName = `blobs/sha256/${written.manifestDigests[0]!.slice(7)}`;
  const manifest = JSON.parse(await readFile(join(path, manifestName), 'utf8'));

  const layerName = written.blobNames.get(written.layerDigests[1]!)!;
  const layerBytes = await readFile(join(path, layerName));
  await rm(join(path, layerName));
  await expectError(t, readImages(await openDirStore(path, path)), 'input-corrupt', new RegExp(`layer 1 ${written.layerDigests[1]}.*missing`));
  await writeFile(join(path, layerName), layerBytes);

  const configName = `blobs/sha256/${manifest.config.digest.slice(7)}`;
  const config = await readFile(join(path, configName));
  await writeFile(join(path, configName), Buffer.concat([config, Buffer.from(' ')]));
  await expectError(t, readImages(await openDirStore(path, path)), 'digest-mismatch', /config of manifest .* hashes to/);
  await writeFile(join(path, configName), config);

  await writeFile(join(path, manifestName), JSON.stringify(manifest) + ' ');
  await expectError(t, readImages(await openDirStore(path, path)), 'digest-mismatch', /manifest blob/);

  const archive = join(dir, 'image.tar');
  await writeFixture(spec, 'docker-legacy', archive);
  const size = (await readFile(archive)).length;
  await truncate(archive, Math.floor(size / 2));
  await expectError(t, openTarStore(archive, archive), 'input-corrupt', /truncated/);
  await writeFile(archive, 'not a tar at all'.repeat(100));
  await expectError(t, openTarStore(archive, archive), 'input-corrupt', /not a readable tar archive/);
});

test('[integration] the outer tar index finds members by offset, also with long names', async (t) => {
  const { dir, cleanup } = await makeFixtureDir();
  t.teardown(cleanup);
  const path = join(dir, 'x.tar');
  const written = await writeFixture(spec, 'oci-archive', path);
  const index = await readTarIndex(path);
  const bytes = await readFile(path);
  for (const name of written.blobNames.values()) {
    const entry = index.get(name)!;
    t.truthy(entry, name);
    t.is(entry.type, 'file');
    t.true(entry.offset + entry.size <= bytes.length);
  }
});
