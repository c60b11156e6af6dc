// Fixture images from one plain description (files per layer, whiteouts, compression), written
// in every on-disk format the scanner reads. Used by the scan unit tests; nothing is committed.
import { createHash } from 'node:crypto';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { execa } from 'execa';
import tarStream from 'tar-stream';

/** A file in a layer: its content, or a link, with an optional mode. */
export type FileSpec = string | Uint8Array | { content?: string | Uint8Array; link?: string; symlink?: string; mode?: number; dir?: boolean };

/** One layer: files, deletions of lower files, opaque directories, and its compression. */
export interface LayerSpec {
  files?: Record<string, FileSpec>;
  whiteouts?: string[];
  opaque?: string[];
  /** 'pzstd': zstd written by pzstd, whose first frame is a skippable frame. */
  compression?: 'gzip' | 'zstd' | 'pzstd' | 'none';
  /** Use these bytes as the layer tar instead of building one (for malformed tars). */
  rawTar?: Uint8Array;
}

/** One image. `config` is the container config (Env, Labels, Cmd…); history lines up with layers unless given. */
export interface ImageSpec {
  layers: LayerSpec[];
  config?: Record<string, unknown>;
  history?: { created_by?: string; comment?: string; empty_layer?: boolean }[];
  platform?: { os: string; architecture: string; variant?: string };
}

/** On-disk formats. */
export type FixtureFormat = 'docker-legacy' | 'docker-oci' | 'oci-dir' | 'oci-archive';

/** What was written and where its parts are (for tests that damage them). */
export interface WrittenImage {
  path: string;
  manifestDigests: string[];
  layerDigests: string[];
  /** Blob digest → name inside the archive/dir. */
  blobNames: Map<string, string>;
}

const OCI_MANIFEST = 'application/vnd.oci.image.manifest.v1+json';
const OCI_INDEX = 'application/vnd.oci.image.index.v1+json';
const OCI_CONFIG = 'application/vnd.oci.image.config.v1+json';

function sha256(bytes: Uint8Array): string {
  return `sha256:${createHash('sha256').update(bytes).digest('hex')}`;
}

function bytesOf(content: string | Uint8Array): Buffer {
  return typeof content === 'string' ? Buffer.from(content, 'utf8') : Buffer.from(content);
}

async function collect(pack: tarStream.Pack): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of pack as AsyncIterable<Buffer>) chunks.push(chunk);
  return Buffer.concat(chunks);
}

/** Build an uncompressed tar from `[name, header extras, content]` entries. */
export async function buildTar(
  entries: { name: string; type?: 'file' | 'link' | 'symlink' | 'directory'; linkname?: string; mode?: number; content?: Uint8Array }[],
): Promise<Buffer> {
  const pack = tarStream.pack();
  const done = collect(pack);
  for (const entry of entries) {
    const type = entry.type ?? 'file';
    await new Promise<void>((resolve, reject) => {
      pack.entry(
        { name: entry.name, type, linkname: entry.linkname, mode: entry.mode ?? (type === 'directory' ? 0o755 : 0o644), mtime: new Date(0) },
        type === 'file' ? Buffer.from(entry.content ?? new Uint8Array(0)) : Buffer.alloc(0),
        (error) => (error ? reject(error) : resolve()),
      );
    });
  }
  pack.finalize();
  return done;
}

/** The uncompressed tar of one layer spec. */
export async function layerTar(layer: LayerSpec): Promise<Buffer> {
  if (layer.rawTar) return Buffer.from(layer.rawTar);
  const entries: Parameters<typeof buildTar>[0] = [];
  for (const dir of layer.opaque ?? []) entries.push({ name: `${dir}/.wh..wh..opq`, content: new Uint8Array(0) });
  for (const path of layer.whiteouts ?? []) {
    const slash = path.lastIndexOf('/');
    entries.push({ name: slash < 0 ? `.wh.${path}` : `${path.slice(0, slash)}/.wh.${path.slice(slash + 1)}`, content: new Uint8Array(0) });
  }
  for (const [name, spec] of Object.entries(layer.files ?? {})) {
    if (typeof spec === 'string' || spec instanceof Uint8Array) entries.push({ name, content: bytesOf(spec) });
    else if (spec.dir) entries.push({ name, type: 'directory', mode: spec.mode });
    else if (spec.link) entries.push({ name, type: 'link', linkname: spec.link, mode: spec.mode });
    else if (spec.symlink) entries.push({ name, type: 'symlink', linkname: spec.symlink, mode: spec.mode });
    else entries.push({ name, content: bytesOf(spec.content ?? ''), mode: spec.mode });
  }
  return buildTar(entries);
}

/** Compress with gzip (zlib) or zstd (the real `zstd` CLI). */
export async function compress(bytes: Buffer, compression: 'gzip' | 'zstd' | 'pzstd' | 'none'): Promise<Buffer> {
  if (compression === 'gzip') return gzipSync(bytes);
  if (compression === 'pzstd') {
    const result = await execa('pzstd', ['-q', '-c', '-3'], { input: bytes, encoding: 'buffer', stripFinalNewline: false });
    return Buffer.from(result.stdout);
  }
  if (compression === 'zstd') {
    const result = await execa('zstd', ['-q', '-c', '-3'], { input: bytes, encoding: 'buffer', stripFinalNewline: false });
    return Buffer.from(result.stdout);
  }
  return bytes;
}

function mediaTypeOf(compression: 'gzip' | 'zstd' | 'pzstd' | 'none'): string {
  return compression === 'gzip'
    ? 'application/vnd.oci.image.layer.v1.tar+gzip'
    : compression === 'zstd' || compression === 'pzstd'
      ? 'application/vnd.oci.image.layer.v1.tar+zstd'
      : 'application/vnd.oci.image.layer.v1.tar';
}

interface BuiltImage {
  manifest: Buffer;
  manifestDigest: string;
  config: Buffer;
  configDigest: string;
  layers: { blob: Buffer; digest: string; diffId: string; mediaType: string }[];
  platform: { os: string; architecture: string; variant?: string };
}

const builtLayers = new WeakMap<LayerSpec, BuiltImage['layers'][number]>();

/** Build all blobs of one image. */
export async function buildImage(spec: ImageSpec): Promise<BuiltImage> {
  const layers = [];
  for (const layer of spec.layers) {
    // A layer spec shared by many images (a registry of tags on shared layers) is built once.
    let built = builtLayers.get(layer);
    if (!built) {
      const tar = await layerTar(layer);
      const compression = layer.compression ?? 'gzip';
      const blob = await compress(tar, compression);
      built = { blob, digest: sha256(blob), diffId: sha256(tar), mediaType: mediaTypeOf(compression) };
      builtLayers.set(layer, built);
    }
    layers.push(built);
  }
  const platform = spec.platform ?? { os: 'linux', architecture: 'amd64' };
  const history = spec.history ?? spec.layers.map((_, i) => ({ created_by: `RUN /bin/sh -c step-${i} # buildkit` }));
  const config = Buffer.from(
    JSON.stringify({
      ...platform,
      config: spec.config ?? {},
      rootfs: { type: 'layers', diff_ids: layers.map((l) => l.diffId) },
      history,
    }),
  );
  const manifest = Buffer.from(
    JSON.stringify({
      schemaVersion: 2,
      mediaType: OCI_MANIFEST,
      config: { mediaType: OCI_CONFIG, digest: sha256(config), size: config.length },
      layers: layers.map((l) => ({ mediaType: l.mediaType, digest: l.digest, size: l.blob.length })),
    }),
  );
  return { manifest, manifestDigest: sha256(manifest), config, configDigest: sha256(config), layers, platform };
}

/** An attestation manifest for `subject` (in-toto JSON layer), the way BuildKit attaches provenance. */
export function buildAttestation(
  subjectDigest: string,
  statement: object = { _type: 'https://in-toto.io/Statement/v0.1', subject: [{ digest: { sha256: subjectDigest.slice(7) } }], predicate: {} },
) {
  const layer = Buffer.from(JSON.stringify(statement));
  const config = Buffer.from(JSON.stringify({ architecture: 'unknown', os: 'unknown', config: {}, rootfs: { type: 'layers', diff_ids: [sha256(layer)] } }));
  const manifest = Buffer.from(
    JSON.stringify({
      schemaVersion: 2,
      mediaType: OCI_MANIFEST,
      config: { mediaType: OCI_CONFIG, digest: sha256(config), size: config.length },
      layers: [
        { mediaType: 'application/vnd.in-toto+json', digest: sha256(layer), size: layer.length, annotations: { 'in-toto.io/predicate-type': 'https://slsa.dev/provenance/v0.2' } },
      ],
    }),
  );
  return {
    descriptor: {
      mediaType: OCI_MANIFEST,
      digest: sha256(manifest),
      size: manifest.length,
      platform: { os: 'unknown', architecture: 'unknown' },
      annotations: { 'vnd.docker.reference.type': 'attestation-manifest', 'vnd.docker.reference.digest': subjectDigest },
    },
    blobs: [manifest, config, layer],
  };
}

type Files = Map<string, Buffer>;

function layoutFiles(images: BuiltImage[], options: { index?: boolean; attestations?: boolean } = {}): Files {
  const files: Files = new Map();
  const put = (bytes: Buffer) => files.set(`blobs/sha256/${sha256(bytes).slice(7)}`, bytes);
  const descriptors: object[] = [];
  for (const image of images) {
    put(image.manifest);
    put(image.config);
    for (const layer of image.layers) put(layer.blob);
    descriptors.push({ mediaType: OCI_MANIFEST, digest: image.manifestDigest, size: image.manifest.length, platform: image.platform });
    if (options.attestations) {
      const attestation = buildAttestation(image.manifestDigest);
      attestation.blobs.forEach(put);
      descriptors.push(attestation.descriptor);
    }
  }
  let top: object[] = descriptors;
  if (options.index) {
    // A nested index, as BuildKit writes for multi-platform images.
    const index = Buffer.from(JSON.stringify({ schemaVersion: 2, mediaType: OCI_INDEX, manifests: descriptors }));
    put(index);
    top = [{ mediaType: OCI_INDEX, digest: sha256(index), size: index.length, annotations: { 'org.opencontainers.image.ref.name': 'latest' } }];
  }
  files.set('oci-layout', Buffer.from(JSON.stringify({ imageLayoutVersion: '1.0.0' })));
  files.set('index.json', Buffer.from(JSON.stringify({ schemaVersion: 2, mediaType: OCI_INDEX, manifests: top })));
  return files;
}

async function writeTarFile(path: string, files: Files): Promise<void> {
  const dirs = new Set<string>();
  const entries: Parameters<typeof buildTar>[0] = [];
  for (const name of files.keys()) {
    const parts = name.split('/');
    for (let i = 1; i < parts.length; i++) {
      const dir = parts.slice(0, i).join('/');
      if (!dirs.has(dir)) {
        dirs.add(dir);
        entries.push({ name: `${dir}/`, type: 'directory' });
      }
    }
    entries.push({ name, content: files.get(name)! });
  }
  await writeFile(path, await buildTar(entries));
}

async function writeDir(path: string, files: Files): Promise<void> {
  for (const [name, bytes] of files) {
    const full = join(path, ...name.split('/'));
    await mkdir(join(full, '..'), { recursive: true });
    await writeFile(full, bytes);
  }
}

/**
 * Write one or more images (several = a multi-platform index) in the given format to `path`.
 * `repoTags` (one per image) name the images in a docker archive's manifest.json, which `docker load`
 * tags them with; the default `fixture/image-N:latest` is shared by every test file, so a test that
 * loads a fixture into the engine passes a tag of its own (another file may load one at the same time).
 */
export async function writeFixture(
  specs: ImageSpec | ImageSpec[],
  format: FixtureFormat,
  path: string,
  options: { index?: boolean; attestations?: boolean; repoTags?: string[] } = {},
): Promise<WrittenImage> {
  const images = await Promise.all((Array.isArray(specs) ? specs : [specs]).map(buildImage));
  const repoTag = (i: number) => options.repoTags?.[i] ?? `fixture/image-${i}:latest`;
  const blobNames = new Map<string, string>();
  let files: Files;
  if (format === 'docker-legacy') {
    files = new Map();
    const manifest = images.map((image, i) => {
      const configName = `${image.configDigest.slice(7)}.json`;
      files.set(configName, image.config);
      const layers = image.layers.map((layer, j) => {
        // Legacy `docker save` names layers by a chain id; any unique directory will do.
        const name = `${createHash('sha256').update(`${i}/${j}/${layer.diffId}`).digest('hex')}/layer.tar`;
        files.set(name, layer.blob);
        blobNames.set(layer.digest, name);
        return name;
      });
      return { Config: configName, RepoTags: [repoTag(i)], Layers: layers };
    });
    files.set('manifest.json', Buffer.from(JSON.stringify(manifest)));
    files.set('repositories', Buffer.from('{}'));
  } else {
    files = layoutFiles(images, options);
    for (const name of files.keys()) if (name.startsWith('blobs/')) blobNames.set(`sha256:${name.slice('blobs/sha256/'.length)}`, name);
    if (format === 'docker-oci') {
      files.set(
        'manifest.json',
        Buffer.from(
          JSON.stringify(
            images.map((image, i) => ({
              Config: `blobs/sha256/${image.configDigest.slice(7)}`,
              RepoTags: [repoTag(i)],
              Layers: image.layers.map((l) => `blobs/sha256/${l.digest.slice(7)}`),
            })),
          ),
        ),
      );
    }
  }
  if (format === 'oci-dir') await writeDir(path, files);
  else await writeTarFile(path, files);
  return {
    path,
    manifestDigests: images.map((image) => image.manifestDigest),
    layerDigests: images.flatMap((image) => image.layers.map((l) => (format === 'docker-legacy' ? l.diffId : l.digest))),
    blobNames,
  };
}

/** A temp directory removed by the returned cleanup. */
export async function makeFixtureDir(prefix = 'eic-scan-fixture'): Promise<{ dir: string; cleanup: () => Promise<void> }> {
  const dir = await mkdtemp(join(tmpdir(), `${prefix}-`));
  return { dir, cleanup: () => rm(dir, { recursive: true, force: true }) };
}
