// Reads the image structure of a blob store: an OCI layout (index.json, also written by Docker 25+
// `docker save`) or the legacy `docker save` manifest.json. Every manifest and config is checked
// against its digest before it is trusted.
import { createHash } from 'node:crypto';
import { EicBuildError } from '../errors.js';
import { annotationValues, descriptorAnnotations } from './annotations.js';
import type { ConfigValue } from './config-scan.js';
import type { BlobStore, ImageRef, LayerRef } from './image.js';

interface Descriptor {
  mediaType?: string;
  digest?: string;
  size?: number;
  platform?: { os?: string; architecture?: string; variant?: string };
  annotations?: Record<string, string>;
}

const INDEX_TYPES = new Set(['application/vnd.oci.image.index.v1+json', 'application/vnd.docker.distribution.manifest.list.v2+json']);
const DIGEST = /^sha256:[0-9a-f]{64}$/;
const MAX_INDEX_DEPTH = 8;

function sha256(bytes: Uint8Array): string {
  return `sha256:${createHash('sha256').update(bytes).digest('hex')}`;
}

function corrupt(store: BlobStore, message: string): EicBuildError {
  return new EicBuildError('input-corrupt', `${store.target}: ${message}`, {
    hint: 'the image archive or layout is damaged or incomplete; re-export it (docker save / skopeo copy) and scan again.',
  });
}

function parseJson(store: BlobStore, name: string, bytes: Buffer): unknown {
  try {
    return JSON.parse(bytes.toString('utf8'));
  } catch (error) {
    throw corrupt(store, `'${name}' is not valid JSON (${error instanceof Error ? error.message : String(error)})`);
  }
}

/** Blob name of a digest in an OCI layout. */
export function blobNameOf(digest: string): string {
  const [algorithm, hex] = digest.split(':');
  return `blobs/${algorithm}/${hex}`;
}

async function readVerified(store: BlobStore, descriptor: Descriptor, what: string): Promise<Buffer> {
  const digest = descriptor.digest;
  if (typeof digest !== 'string' || !DIGEST.test(digest)) {
    throw corrupt(store, `${what} has no valid sha256 digest (${JSON.stringify(digest)})`);
  }
  const name = blobNameOf(digest);
  if (!store.has(name)) throw corrupt(store, `${what} ${digest}: blob '${name}' is missing`);
  const bytes = await store.read(name);
  const actual = sha256(bytes);
  if (actual !== digest) {
    throw new EicBuildError('digest-mismatch', `${store.target}: ${what} blob '${name}' hashes to ${actual}, not ${digest}`, {
      hint: 'the image was modified or damaged after it was written; do not trust it; re-export it and scan again.',
    });
  }
  return bytes;
}

function platformOf(descriptor: Descriptor): string | null {
  const p = descriptor.platform;
  if (!p?.os || !p.architecture) return null;
  return [p.os, p.architecture, p.variant].filter(Boolean).join('/');
}

function isTarMediaType(mediaType: string | null): boolean {
  return mediaType === null || /tar|layer/.test(mediaType);
}

/** All images in an OCI layout: walks index.json and nested indexes; attestation manifests included. */
async function readOciImages(store: BlobStore): Promise<ImageRef[]> {
  const index = parseJson(store, 'index.json', await store.read('index.json')) as { manifests?: Descriptor[]; annotations?: unknown };
  if (!Array.isArray(index.manifests)) throw corrupt(store, "'index.json' has no manifests array");
  const images: ImageRef[] = [];
  const seen = new Set<string>();
  // Annotations of the indexes walked so far that no image has taken yet.
  let pending: ConfigValue[] = [...annotationValues('index.json', index.annotations), ...descriptorAnnotations('index.json.manifests', index.manifests)];
  const walk = async (descriptors: Descriptor[], depth: number): Promise<void> => {
    if (depth > MAX_INDEX_DEPTH) throw corrupt(store, `image indexes nest deeper than ${MAX_INDEX_DEPTH}`);
    for (const descriptor of descriptors) {
      const digest = descriptor.digest ?? '';
      if (seen.has(digest)) continue;
      seen.add(digest);
      const bytes = await readVerified(store, descriptor, 'manifest');
      const manifest = parseJson(store, blobNameOf(digest), bytes) as {
        mediaType?: string;
        manifests?: Descriptor[];
        config?: Descriptor;
        layers?: Descriptor[];
        annotations?: unknown;
      };
      const mediaType = descriptor.mediaType ?? manifest.mediaType ?? '';
      if (INDEX_TYPES.has(mediaType) || Array.isArray(manifest.manifests)) {
        pending.push(...annotationValues(`index ${digest}`, manifest.annotations), ...descriptorAnnotations(`index ${digest}.manifests`, manifest.manifests));
        await walk(manifest.manifests ?? [], depth + 1);
        continue;
      }
      if (!manifest.config || !Array.isArray(manifest.layers)) {
        throw corrupt(store, `manifest ${digest} has no config or layers`);
      }
      const config = await readVerified(store, manifest.config, `config of manifest ${digest}`);
      const attestation = descriptor.annotations?.['vnd.docker.reference.type'] === 'attestation-manifest';
      const layers: LayerRef[] = manifest.layers.map((layer, i) => {
        if (typeof layer.digest !== 'string' || !DIGEST.test(layer.digest)) {
          throw corrupt(store, `layer ${i} of manifest ${digest} has no valid sha256 digest`);
        }
        const name = blobNameOf(layer.digest);
        if (!store.has(name)) throw corrupt(store, `layer ${i} ${layer.digest} of manifest ${digest}: blob '${name}' is missing`);
        const layerType = layer.mediaType ?? null;
        return {
          blobName: name,
          digest: layer.digest,
          mediaType: layerType,
          size: typeof layer.size === 'number' ? layer.size : null,
          check: { kind: 'blob', digest: layer.digest },
          format: isTarMediaType(layerType) ? 'tar' : 'raw',
        };
      });
      const annotations = [
        ...pending,
        ...annotationValues('manifest', manifest.annotations),
        ...annotationValues('manifest.config', manifest.config.annotations),
        ...descriptorAnnotations('manifest.layers', manifest.layers),
      ];
      pending = [];
      images.push({
        kind: attestation ? 'attestation' : 'image',
        annotations,
        manifestDigest: digest,
        configDigest: manifest.config.digest!,
        platform: attestation ? null : (platformOf(descriptor) ?? platformOfConfig(parseJson(store, 'config', config) as object)),
        config,
        layers,
      });
    }
  };
  await walk(index.manifests, 0);
  // A nested index listing only images already seen leaves its annotations here: they are scanned
  // with the first image rather than dropped.
  if (pending.length > 0 && images.length > 0) images[0] = { ...images[0]!, annotations: [...(images[0]!.annotations ?? []), ...pending] };
  return images;
}

/** Images of a legacy `docker save` archive: manifest.json lists config and layer.tar paths. */
async function readDockerSaveImages(store: BlobStore): Promise<ImageRef[]> {
  const manifest = parseJson(store, 'manifest.json', await store.read('manifest.json'));
  if (!Array.isArray(manifest)) throw corrupt(store, "'manifest.json' is not a list");
  const images: ImageRef[] = [];
  for (const [i, entry] of (manifest as { Config?: string; Layers?: string[] }[]).entries()) {
    if (typeof entry.Config !== 'string' || !Array.isArray(entry.Layers)) {
      throw corrupt(store, `manifest.json entry ${i} has no Config or Layers`);
    }
    if (!store.has(entry.Config)) throw corrupt(store, `config '${entry.Config}' named by manifest.json is missing`);
    const config = await store.read(entry.Config);
    const configDigest = sha256(config);
    const named = /([0-9a-f]{64})(\.json)?$/.exec(entry.Config);
    if (named && `sha256:${named[1]}` !== configDigest) {
      throw new EicBuildError('digest-mismatch', `${store.target}: config '${entry.Config}' hashes to ${configDigest}`, {
        hint: 'the image was modified or damaged after it was written; re-export it and scan again.',
      });
    }
    const parsed = parseJson(store, entry.Config, config) as { rootfs?: { diff_ids?: string[] }; os?: string; architecture?: string; variant?: string };
    const diffIds = parsed.rootfs?.diff_ids ?? [];
    if (diffIds.length !== entry.Layers.length) {
      throw corrupt(store, `config '${entry.Config}' lists ${diffIds.length} diff_ids for ${entry.Layers.length} layers`);
    }
    const layers: LayerRef[] = entry.Layers.map((name, j) => {
      if (!store.has(name)) throw corrupt(store, `layer ${j} '${name}' named by manifest.json is missing`);
      const diffId = diffIds[j]!;
      if (!DIGEST.test(diffId)) throw corrupt(store, `diff_id ${j} of '${entry.Config}' is not a sha256 digest`);
      return { blobName: name, digest: diffId, mediaType: null, size: null, check: { kind: 'diff', digest: diffId }, format: 'tar' };
    });
    images.push({ kind: 'image', manifestDigest: null, configDigest, platform: platformOfConfig(parsed), config, layers });
  }
  return images;
}

function platformOfConfig(config: { os?: string; architecture?: string; variant?: string } | null): string | null {
  if (!config) return null;
  if (!config.os || !config.architecture) return null;
  return [config.os, config.architecture, config.variant].filter(Boolean).join('/');
}

/** The images a store holds. OCI index.json wins when both exist (Docker 25+ writes both). */
export async function readImages(store: BlobStore): Promise<ImageRef[]> {
  let images: ImageRef[];
  if (store.has('index.json')) images = await readOciImages(store);
  else if (store.has('manifest.json')) images = await readDockerSaveImages(store);
  else throw corrupt(store, 'neither index.json (OCI layout) nor manifest.json (docker save) found: not an image archive');
  if (images.length === 0) throw corrupt(store, 'holds no image manifest');
  return images;
}
