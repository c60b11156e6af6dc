/**
 * The same leaking images in other storage forms, made by real skopeo from the `docker save` archive: an
 * OCI layout with gzip layers, with zstd layers, with uncompressed layers (that skopeo 1.9 still labels
 * `tar+gzip`, so compression must be sniffed, not read from the media type), and an OCI archive. Each
 * must give the same findings as the docker archive; a damaged layout is exit 2 naming the blob.
 */
import test from 'ava';
import { execa } from 'execa';
import { createHash } from 'node:crypto';
import { open, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { ensureBusyboxImage } from '../helpers/images.js';
import {
  DOCKER,
  buildImage,
  comparableFindings,
  generateGpgKey,
  makeTempDir,
  removeImages,
  scan,
  scanJson,
  stopAgent,
  type BuiltImage,
  type GpgKey,
  type JsonReport,
} from './harness.js';

let dir = '';
let cleanup: () => Promise<void> = async () => undefined;
let busybox = '';
let key: GpgKey;
let img: BuiltImage | undefined;
let baselinePromise: Promise<JsonReport> | undefined;

/** The docker-archive report every other form is compared with (scanned once, on first use). */
function baseline(): Promise<JsonReport> {
  baselinePromise ??= scanJson(`docker-archive:${img!.archive}`, ['--public-key', key.files.publicAsc]).then((r) => r.report);
  return baselinePromise;
}

/** One image with a layer finding, a hidden (whiteout) finding, a nested-archive finding and a config finding. */
test.before(async () => {
  ({ dir, cleanup } = await makeTempDir('scan-oci'));
  busybox = await ensureBusyboxImage();
  key = await generateGpgKey(dir, 'ocik');
  await execa('sh', ['-c', 'mkdir -p "$1/n/keys" && cp "$2" "$1/n/keys/signing.asc" && tar -czf "$1/keys.tgz" -C "$1/n" keys', 'sh', dir, key.files.secretAsc]);
  img = await buildImage(dir, {
    name: 'oci-forms',
    dockerfile: [
      `FROM ${busybox}`,
      'ARG KEY_B64',
      'COPY key.asc /etc/signing.asc',
      'COPY key.asc /tmp/gone.asc',
      'COPY keys.tgz /var/backups/keys.tgz',
      'RUN rm /tmp/gone.asc',
      'LABEL org.example.key=$KEY_B64',
      '',
    ].join('\n'),
    context: { 'key.asc': { from: key.files.secretAsc }, 'keys.tgz': { from: join(dir, 'keys.tgz') } },
    buildArgsFromEnv: { KEY_B64: Buffer.from(key.armoredSecret).toString('base64') },
  });
});

test.after.always(async () => {
  await removeImages([img]);
  if (key) await stopAgent(key);
  await cleanup();
});

test('[integration] the docker-archive baseline finds every planted form', async (t) => {
  const f = (await baseline()).findings;
  t.true(
    f.some((x) => x.path === 'etc/signing.asc' && x.visibleInFinalImage),
    'etc/signing.asc',
  );
  t.true(
    f.some((x) => x.path === 'tmp/gone.asc' && !x.visibleInFinalImage),
    'tmp/gone.asc (hidden)',
  );
  t.true(
    f.some((x) => x.path === 'var/backups/keys.tgz' && (x.nestedPath ?? '').includes('keys/signing.asc')),
    'nested',
  );
  t.true(
    f.some((x) => x.source === 'config' && /Labels/.test(x.field ?? '')),
    'label',
  );
});

const forms: { name: string; target: (d: string) => string; skopeo: (d: string) => string[] }[] = [
  { name: 'OCI layout, gzip layers', target: (d) => `oci:${d}`, skopeo: (d) => [`oci:${d}:scan`] },
  { name: 'OCI layout, zstd layers', target: (d) => `oci:${d}`, skopeo: (d) => ['--dest-compress-format', 'zstd', `oci:${d}:scan`] },
  {
    name: 'OCI layout, uncompressed layers labelled tar+gzip',
    target: (d) => `oci:${d}`,
    skopeo: (d) => ['--dest-oci-accept-uncompressed-layers', `oci:${d}:scan`],
  },
  { name: 'OCI archive', target: (d) => `oci-archive:${d}.tar`, skopeo: (d) => [`oci-archive:${d}.tar:scan`] },
];

forms.forEach((form, i) => {
  test(`[integration] ${form.name} (skopeo copy) scans with the same findings as the docker archive`, async (t) => {
    const out = join(dir, `form-${i}`);
    const copied = await execa('skopeo', ['copy', '-q', `docker-archive:${img!.archive}`, ...form.skopeo(out)], { reject: false, all: true });
    t.is(copied.exitCode, 0, copied.all);
    const { exitCode, report, stderr } = await scanJson(form.target(out), ['--public-key', key.files.publicAsc]);
    t.is(exitCode, 1, stderr);
    t.true(report.findings.length > 0);
    t.deepEqual(comparableFindings(report), comparableFindings(await baseline()));
    t.is(report.stats.layers, img!.diffIds.length);
  });
});

/** The manifest of a one-image OCI layout and the path of its largest layer blob. */
async function largestLayer(layout: string): Promise<{ digest: string; file: string }> {
  const index = JSON.parse(await readFile(join(layout, 'index.json'), 'utf8'));
  const manifestDigest = index.manifests[0].digest.split(':')[1];
  const manifest = JSON.parse(await readFile(join(layout, 'blobs/sha256', manifestDigest), 'utf8'));
  const layer = [...manifest.layers].sort((a: { size: number }, b: { size: number }) => b.size - a.size)[0];
  return { digest: layer.digest, file: join(layout, 'blobs/sha256', layer.digest.split(':')[1]) };
}

test('[integration] an OCI layout with a flipped byte in a layer blob is exit 2 naming the blob', async (t) => {
  const out = join(dir, 'flip');
  await execa('skopeo', ['copy', '-q', `docker-archive:${img!.archive}`, `oci:${out}:scan`]);
  const layer = await largestLayer(out);
  const size = (await stat(layer.file)).size;
  const handle = await open(layer.file, 'r+');
  try {
    const at = Math.floor(size / 2);
    const byte = Buffer.alloc(1);
    await handle.read(byte, 0, 1, at);
    await handle.write(Buffer.from([byte[0]! ^ 0x01]), 0, 1, at);
  } finally {
    await handle.close();
  }
  const result = await scan(`oci:${out}`, ['--format', 'json']);
  t.is(result.exitCode, 2, result.stderr);
  t.true(result.stderr.includes(layer.digest.slice(7, 19)), `error names ${layer.digest}: ${result.stderr}`);
});

test('[integration] an OCI layout with a missing layer blob is exit 2 naming the blob', async (t) => {
  const out = join(dir, 'missing');
  await execa('skopeo', ['copy', '-q', `docker-archive:${img!.archive}`, `oci:${out}:scan`]);
  const layer = await largestLayer(out);
  await rm(layer.file);
  const result = await scan(`oci:${out}`, ['--format', 'json']);
  t.is(result.exitCode, 2, result.stderr);
  t.true(result.stderr.includes(layer.digest.slice(7, 19)), `error names ${layer.digest}: ${result.stderr}`);
});

/** Write a blob into an OCI layout; returns its descriptor fields. */
async function writeBlob(layout: string, content: string): Promise<{ digest: string; size: number }> {
  const hex = createHash('sha256').update(content).digest('hex');
  await writeFile(join(layout, 'blobs/sha256', hex), content);
  return { digest: `sha256:${hex}`, size: Buffer.byteLength(content) };
}

/**
 * An image index (as `docker buildx build --platform a,b` pushes it) whose second entry is the leaking
 * image: as another platform, or as a BuildKit attestation manifest. The engine and skopeo made every
 * manifest, config and layer; only the index that lists them is written here.
 */
for (const variant of ['platform', 'attestation'] as const) {
  test(`[integration] an image index whose ${variant === 'platform' ? 'linux/arm64 manifest' : 'attestation manifest'} leaks is found`, async (t) => {
    const layout = join(dir, `index-${variant}`);
    const cleanArchive = join(dir, `index-${variant}-clean.tar`);
    await execa(DOCKER, ['save', '-o', cleanArchive, busybox]);
    await execa('skopeo', ['copy', '-q', `docker-archive:${cleanArchive}`, `oci:${layout}:clean`]);
    await execa('skopeo', ['copy', '-q', `docker-archive:${img!.archive}`, `oci:${layout}:leaky`]);
    const index = JSON.parse(await readFile(join(layout, 'index.json'), 'utf8'));
    const byName = (name: string) => index.manifests.find((m: { annotations?: Record<string, string> }) => m.annotations?.['org.opencontainers.image.ref.name'] === name);
    const clean = byName('clean');
    const leaky = byName('leaky');
    const entry = (m: { mediaType: string; digest: string; size: number }) => ({ mediaType: m.mediaType, digest: m.digest, size: m.size });
    const second =
      variant === 'platform'
        ? { ...entry(leaky), platform: { architecture: 'arm64', os: 'linux' } }
        : {
            ...entry(leaky),
            platform: { architecture: 'unknown', os: 'unknown' },
            annotations: { 'vnd.docker.reference.type': 'attestation-manifest', 'vnd.docker.reference.digest': clean.digest },
          };
    const imageIndex = JSON.stringify({
      schemaVersion: 2,
      mediaType: 'application/vnd.oci.image.index.v1+json',
      manifests: [{ ...entry(clean), platform: { architecture: 'amd64', os: 'linux' } }, second],
    });
    const blob = await writeBlob(layout, imageIndex);
    await writeFile(
      join(layout, 'index.json'),
      JSON.stringify({
        schemaVersion: 2,
        mediaType: 'application/vnd.oci.image.index.v1+json',
        manifests: [{ mediaType: 'application/vnd.oci.image.index.v1+json', ...blob, annotations: { 'org.opencontainers.image.ref.name': 'multi' } }],
      }),
    );
    const { exitCode, report, stderr } = await scanJson(`oci:${layout}`, ['--public-key', key.files.publicAsc]);
    t.is(exitCode, 1, stderr);
    t.true(
      report.findings.some((f) => f.path === 'etc/signing.asc' && f.matchesPublicKey),
      JSON.stringify(report.findings.map((f) => f.path)),
    );
    // Both images were read (scan-core's report counts them in stats.images, beyond the minimum).
    t.is((report.stats as { images?: number }).images, 2);
  });
}
