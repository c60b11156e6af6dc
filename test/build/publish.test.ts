import test, { type ExecutionContext } from 'ava';
import { execa } from 'execa';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pushOciLayout, verifyPushed } from '../../src/build/publish.js';
import { isEicBuildError, type EicBuildError } from '../../src/errors.js';
import { RegistryClient } from '../../src/registry/client.js';
import { ensureBusyboxImage } from '../helpers/images.js';
import { startRegistry, type TestRegistry } from '../helpers/registry.js';

// The BuildKit-builder route pushes the scanned OCI layout itself. No buildx here, so the layout
// is made by skopeo from a local image: the same on-disk format buildx writes with type=oci,tar=false.
/** A real registry and an OCI layout of a local image (made by skopeo), both gone after the test. */
async function scannedLayout(t: ExecutionContext): Promise<{ registry: TestRegistry; layout: string }> {
  const image = await ensureBusyboxImage();
  const registry = await startRegistry();
  const dir = await mkdtemp(join(tmpdir(), 'eic-build-publish-test-'));
  t.teardown(async () => {
    await registry.stop();
    await rm(dir, { recursive: true, force: true });
  });
  const layout = join(dir, 'layout');
  await execa('skopeo', ['copy', '--quiet', `docker-daemon:${image}`, `oci:${layout}:x`]);
  return { registry, layout };
}

test('[integration] pushOciLayout uploads the scanned layout and reads back the same manifest and config', async (t) => {
  const { registry, layout } = await scannedLayout(t);
  const pushed = await pushOciLayout(layout, [`${registry.host}/pushed/layout:a`, `${registry.host}/pushed/layout:b`]);
  t.is(pushed.length, 2);
  t.is(pushed[0]!.manifestDigest, pushed[1]!.manifestDigest);
  const inspect = JSON.parse((await execa('skopeo', ['inspect', '--tls-verify=false', `docker://${registry.host}/pushed/layout:a`])).stdout) as { Digest: string };
  t.is(inspect.Digest, pushed[0]!.manifestDigest);
  // A config that is not the scanned one is refused.
  const error = await t.throwsAsync(verifyPushed(`${registry.host}/pushed/layout:a`, { configDigest: `sha256:${'0'.repeat(64)}` }));
  t.true(isEicBuildError(error));
  t.regex(error!.message, /not the scanned image/);
});

test('[integration] pushOciLayout streams layers and refuses one whose bytes changed after the scan: no tag, no blob', async (t) => {
  const { registry, layout } = await scannedLayout(t);
  const index = JSON.parse(await readFile(join(layout, 'index.json'), 'utf8')) as { manifests: { digest: string }[] };
  const manifest = JSON.parse(await readFile(join(layout, 'blobs', 'sha256', index.manifests[0]!.digest.slice(7)), 'utf8')) as { layers: { digest: string }[] };
  const layer = manifest.layers[0]!.digest;
  const layerPath = join(layout, 'blobs', 'sha256', layer.slice(7));
  // Same size, one byte changed: only hashing the streamed bytes can tell.
  const bytes = await readFile(layerPath);
  bytes[bytes.length - 1] ^= 0xff;
  await writeFile(layerPath, bytes);
  const error = await t.throwsAsync(pushOciLayout(layout, [`${registry.host}/pushed/corrupt:a`]));
  t.true(isEicBuildError(error));
  t.is((error as EicBuildError).code, 'push-failed');
  t.true(error!.message.includes(layerPath), error!.message);
  t.true(error!.message.includes(layer), error!.message);
  const client = new RegistryClient({ registry: registry.host });
  t.is(await client.findManifest('pushed/corrupt', 'a'), undefined);
  t.false(await client.hasBlob('pushed/corrupt', layer));
});

test('[integration] base layers are read from the engine (diff IDs) and from a registry (blob digests)', async (t) => {
  const { engineLayerDigests, registryLayerDigests } = await import('../../src/build/base-layers.js');
  const image = await ensureBusyboxImage();
  const registry = await startRegistry();
  t.teardown(() => registry.stop());
  const engine = await engineLayerDigests('/usr/bin/docker', image, process.env);
  t.is(engine.size, 1);
  t.deepEqual(await engineLayerDigests('/usr/bin/docker', 'scratch', process.env), new Set());
  t.deepEqual(await engineLayerDigests('/usr/bin/docker', 'eic-build-test/no-such-image:0', process.env), new Set());
  await execa('skopeo', ['copy', '--quiet', '--dest-tls-verify=false', `docker-daemon:${image}`, `docker://${registry.host}/base/busybox:1`]);
  const remote = await registryLayerDigests(`${registry.host}/base/busybox:1`);
  t.is(remote.size, 1);
  const manifest = JSON.parse((await execa('skopeo', ['inspect', '--raw', '--tls-verify=false', `docker://${registry.host}/base/busybox:1`])).stdout) as {
    layers: { digest: string }[];
  };
  t.deepEqual(remote, new Set(manifest.layers.map((l) => l.digest)));
  t.deepEqual(await registryLayerDigests(`${registry.host}/base/missing:1`), new Set(), 'unreadable: nothing counts as inherited');
});

test('[integration] pushOciLayout refuses a manifest whose bytes changed after the scan: no tag', async (t) => {
  const { registry, layout } = await scannedLayout(t);
  const index = JSON.parse(await readFile(join(layout, 'index.json'), 'utf8')) as { manifests: { digest: string }[] };
  const digest = index.manifests[0]!.digest;
  const manifestPath = join(layout, 'blobs', 'sha256', digest.slice(7));
  // index.json is kept as is: only the manifest file changes (one byte, still valid JSON).
  const text = await readFile(manifestPath, 'utf8');
  const at = text.indexOf('"schemaVersion":2');
  t.true(at >= 0, text);
  await writeFile(manifestPath, text.replace('"schemaVersion":2', '"schemaVersion":3'));
  const error = await t.throwsAsync(pushOciLayout(layout, [`${registry.host}/pushed/edited:a`]));
  t.true(isEicBuildError(error));
  t.is((error as EicBuildError).code, 'push-failed');
  t.true(error!.message.includes(manifestPath), error!.message);
  t.true(error!.message.includes(digest), error!.message);
  t.regex(error!.message, /hashes to sha256:[a-f0-9]{64}/);
  const client = new RegistryClient({ registry: registry.host });
  t.is(await client.findManifest('pushed/edited', 'a'), undefined);
});
