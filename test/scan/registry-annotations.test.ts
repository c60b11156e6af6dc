// Annotations of registry images are scanned as they are in an OCI layout: an armored private key
// (generated at run time) in a manifest or index annotation makes `scan docker://…` exit 1 naming
// the annotation field, and `audit` call the tag leaked. Real registry (docker-registry on loopback).
import test from 'ava';
import * as openpgp from 'openpgp';
import type { AuditReport } from '../../src/audit/index.js';
import { memoryIo } from '../../src/cli-io.js';
import { main } from '../../src/cli.js';
import { MediaTypes, RegistryClient, sha256Digest } from '../../src/registry/index.js';
import type { ScanReport } from '../../src/scan/report.js';
import { buildImage } from '../helpers/image-fixture.js';
import { startRegistry, type TestRegistry } from '../helpers/registry.js';

const REPO = 'eic/annotated';
let registry: TestRegistry;

test.before(async () => {
  registry = await startRegistry();
  const { privateKey } = await openpgp.generateKey({ type: 'ecc', curve: 'ed25519Legacy', userIDs: [{ name: 'Annotated' }], format: 'armored' });
  const client = new RegistryClient({ registry: registry.host });
  const built = await buildImage({ layers: [{ files: { 'etc/hello': 'hi\n' } }] });
  for (const layer of built.layers) await client.putBlob(REPO, layer.blob, { digest: sha256Digest(layer.blob) });
  await client.putBlob(REPO, built.config, { digest: sha256Digest(built.config) });
  await client.putManifest(REPO, 'plain', built.manifest, MediaTypes.ociManifest);
  const annotated = Buffer.from(JSON.stringify({ ...(JSON.parse(built.manifest.toString('utf8')) as object), annotations: { 'org.example.signing-key': privateKey } }));
  await client.putManifest(REPO, 'in-manifest', annotated, MediaTypes.ociManifest);
  await client.putManifest(REPO, built.manifestDigest, built.manifest, MediaTypes.ociManifest);
  const index = Buffer.from(
    JSON.stringify({
      schemaVersion: 2,
      mediaType: MediaTypes.ociIndex,
      manifests: [{ mediaType: MediaTypes.ociManifest, digest: built.manifestDigest, size: built.manifest.length, annotations: { 'org.example.note': privateKey } }],
    }),
  );
  await client.putManifest(REPO, 'in-index', index, MediaTypes.ociIndex);
});

test.after.always(async () => {
  await registry?.stop();
});

async function scan(tag: string): Promise<{ exit: number; report: ScanReport }> {
  const io = memoryIo({});
  const exit = await main(['scan', `docker://${registry.host}/${REPO}:${tag}`, '--format', 'json'], io);
  return { exit, report: JSON.parse(io.stdout) as ScanReport };
}

test('[integration] scan docker://: a key in a manifest or index-entry annotation is exit 1 naming the field; no annotation, exit 0', async (t) => {
  const plain = await scan('plain');
  t.is(plain.exit, 0);
  const inManifest = await scan('in-manifest');
  t.is(inManifest.exit, 1);
  t.deepEqual(
    inManifest.report.findings.map((finding) => finding.field),
    ['manifest.annotations["org.example.signing-key"]'],
  );
  const inIndex = await scan('in-index');
  t.is(inIndex.exit, 1);
  t.deepEqual(
    inIndex.report.findings.map((finding) => finding.field),
    ['index.manifests[0].annotations["org.example.note"]'],
  );
});

test('[integration] audit: the annotated tags are leaked (the annotation field named), the plain one clean', async (t) => {
  const io = memoryIo({});
  t.is(await main(['audit', `docker://${registry.host}/${REPO}`, '--format', 'json', '--progress', 'quiet'], io), 1);
  const report = JSON.parse(io.stdout) as AuditReport;
  const byTag = Object.fromEntries(report.tags.map((tag) => [tag.tag, tag]));
  t.is(byTag.plain!.status, 'clean');
  t.is(byTag['in-manifest']!.status, 'leaked');
  t.deepEqual(
    byTag['in-manifest']!.findings.map((finding) => finding.field),
    ['manifest.annotations["org.example.signing-key"]'],
  );
  t.is(byTag['in-index']!.status, 'leaked');
  t.deepEqual(
    byTag['in-index']!.findings.map((finding) => finding.field),
    ['index.manifests[0].annotations["org.example.note"]'],
  );
});
