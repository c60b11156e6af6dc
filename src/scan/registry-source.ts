// An image in a registry, read with the project's registry client: manifests (and indexes, every
// platform and attestation) fetched and digest-checked, configs read whole, layer blobs streamed
// straight into the layer walker. No Docker engine, nothing written to disk.
import { availableParallelism } from 'node:os';
import { EicBuildError } from '../errors.js';
import { parseDigest, parseImageReference, resolveImageCredentials, RegistryClient, type Descriptor, type FetchedManifest } from '../registry/index.js';
import { annotationValues, descriptorAnnotations } from './annotations.js';
import type { ConfigValue } from './config-scan.js';
import { createContentScanner, type DetectorKeys } from './detector-api.js';
import type { ImageRef, LayerRef } from './image.js';
import { scanLayerBlob, type LayerScanResult } from './layer-scan.js';
import { parseScanTuning } from './scan-tuning.js';

/** `docker://` (HTTPS, or HTTP for loopback hosts as Docker does) and `docker+http://` (plain HTTP). */
export const REGISTRY_SCHEMES = ['docker://', 'docker+http://'] as const;

/** A registry image (or, for audit, repository) named by a `docker://` target. */
export interface RegistryTarget {
  /** The target as the user gave it. */
  text: string;
  registry: string;
  repository: string;
  /** Tag or digest; null when the target names a repository only. */
  reference: string | null;
  /** Plain HTTP forced by `docker+http://`; undefined lets the client decide (loopback → HTTP). */
  insecure: boolean | undefined;
}

/** True when `text` is a `docker://` or `docker+http://` target. */
export function isRegistryTarget(text: string): boolean {
  return REGISTRY_SCHEMES.some((scheme) => text.startsWith(scheme));
}

/**
 * Parse `docker://HOST/REPO:TAG`, `docker://HOST/REPO@sha256:…` or (with `repositoryOnly`)
 * `docker://HOST/REPO`, the spelling of skopeo's docker transport. Throws a 'usage' error naming the target.
 */
export function parseRegistryTarget(text: string, options: { repositoryOnly?: boolean } = {}): RegistryTarget {
  const scheme = REGISTRY_SCHEMES.find((prefix) => text.startsWith(prefix));
  const example = options.repositoryOnly ? 'docker://registry.example.org/eic/eic_xl' : 'docker://registry.example.org/eic/eic_xl:nightly';
  if (!scheme) {
    throw new EicBuildError('usage', `'${text}' is not a docker:// registry target`, { hint: `write it as ${example} (docker+http:// for a plain-HTTP registry)` });
  }
  const rest = text.slice(scheme.length);
  let ref;
  try {
    ref = parseImageReference(rest);
  } catch (error) {
    throw new EicBuildError('usage', `invalid registry target '${text}': ${error instanceof EicBuildError ? error.message : String(error)}`, {
      hint: `write it as ${example} (docker+http:// for a plain-HTTP registry)`,
    });
  }
  if (ref.tag !== undefined && ref.digest !== undefined) {
    throw new EicBuildError('usage', `registry target '${text}' names both a tag and a digest`, { hint: 'keep one: docker://HOST/REPO:TAG or docker://HOST/REPO@sha256:…' });
  }
  const reference = ref.digest ?? ref.tag ?? null;
  if (options.repositoryOnly && reference !== null) {
    throw new EicBuildError('usage', `'${text}' names a tag or digest; audit reads every tag of a repository`, {
      hint: `give the repository alone (${example}) and select tags with --tags GLOB`,
    });
  }
  if (!options.repositoryOnly && reference === null) {
    throw new EicBuildError('usage', `registry target '${text}' names no tag or digest`, {
      hint: 'add :TAG or @sha256:DIGEST, or audit the whole repository with eic-build audit',
    });
  }
  return { text, registry: ref.registry, repository: ref.repository, reference, insecure: scheme === 'docker+http://' ? true : undefined };
}

/** A client for the target's registry, with credentials from the CI variables or the docker config. */
export async function openRegistryClient(target: RegistryTarget, env: NodeJS.ProcessEnv, concurrency = 16): Promise<RegistryClient> {
  const credentials = await resolveImageCredentials(target.registry, env);
  return new RegistryClient({
    registry: target.registry,
    concurrency,
    ...(target.insecure !== undefined ? { insecure: target.insecure } : {}),
    ...(credentials ? { credentials } : {}),
  });
}

/** One layer of a registry image. */
export interface RegistryLayer {
  digest: string;
  mediaType: string | null;
  size: number | null;
  format: 'tar' | 'raw';
}

/** One image manifest (platform image or attestation) reachable from a tag or digest. */
export interface RegistryImage {
  kind: 'image' | 'attestation';
  manifestDigest: string;
  /** From the index entry; null for a single manifest (the config says, see scanRegistryImage). */
  platform: string | null;
  config: { digest: string; size: number | null };
  layers: RegistryLayer[];
  /** Annotation values of this manifest, its descriptors and the indexes above it (see ImageRef.annotations). */
  annotations?: ConfigValue[];
}

/** What a tag or digest resolves to: the digest it names and every image manifest below it. */
export interface ResolvedImages {
  digest: string;
  images: RegistryImage[];
}

interface ManifestJson {
  mediaType?: string;
  schemaVersion?: number;
  manifests?: (Descriptor & { platform?: { os?: string; architecture?: string; variant?: string } })[];
  config?: Descriptor;
  layers?: Descriptor[];
}

const INDEX_TYPES = new Set(['application/vnd.oci.image.index.v1+json', 'application/vnd.docker.distribution.manifest.list.v2+json']);
const MAX_INDEX_DEPTH = 8;

function corrupt(what: string, why: string): EicBuildError {
  return new EicBuildError('input-corrupt', `${what}: ${why}`, { hint: 'the image in the registry is malformed; push it again (or delete the tag)' });
}

function platformText(platform: { os?: unknown; architecture?: unknown; variant?: unknown } | null | undefined): string | null {
  if (!isObject(platform) || typeof platform.os !== 'string' || typeof platform.architecture !== 'string' || !platform.os || !platform.architecture) return null;
  if (platform.variant !== undefined && typeof platform.variant !== 'string') return null;
  return [platform.os, platform.architecture, platform.variant].filter(Boolean).join('/');
}

/** The platform of an image config (`os/architecture[/variant]`), or null. */
export function platformOfConfig(config: Buffer): string | null {
  try {
    return platformText(JSON.parse(config.toString('utf8')) as { os?: string; architecture?: string; variant?: string });
  } catch {
    return null;
  }
}

function isTarMediaType(mediaType: string | null): boolean {
  return mediaType === null || /tar|layer/.test(mediaType);
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** A descriptor (index entry, config, layer) as the registry served it, its fields type-checked. */
interface CheckedDescriptor {
  digest: string;
  mediaType?: string;
  size?: number;
  platform?: unknown;
  annotations?: Record<string, unknown>;
}

function checkedDescriptor(what: string, value: unknown): CheckedDescriptor {
  if (!isObject(value)) throw corrupt(what, `is ${value === null ? 'null' : Array.isArray(value) ? 'a list' : `a ${typeof value}`}, not a descriptor object`);
  if (value.mediaType !== undefined && typeof value.mediaType !== 'string') throw corrupt(what, 'has a mediaType that is not a string');
  if (value.size !== undefined && (typeof value.size !== 'number' || !Number.isSafeInteger(value.size) || value.size < 0))
    throw corrupt(what, 'has a size that is not a non-negative integer');
  if (value.annotations !== undefined && !isObject(value.annotations)) throw corrupt(what, 'has annotations that are not an object');
  checkedDigest(what, value.digest);
  return value as unknown as CheckedDescriptor;
}

function checkedDigest(what: string, digest: unknown): string {
  if (typeof digest !== 'string') throw corrupt(what, 'has no digest');
  try {
    parseDigest(digest);
  } catch {
    throw corrupt(what, `'${digest}' is not a sha256 or sha512 digest`);
  }
  return digest;
}

/**
 * Every image manifest `reference` (tag or digest) of `repository` leads to, walking indexes
 * (every platform and attestation). Each manifest is digest-checked by the client; a manifest that
 * is missing, malformed or of an unknown kind throws (EicBuildError) naming it.
 */
export async function readRegistryImages(client: RegistryClient, repository: string, reference: string): Promise<ResolvedImages> {
  const top = await client.getManifest(repository, reference);
  const images: RegistryImage[] = [];
  const seen = new Set<string>();
  const where = (digest: string) => `${client.registry}/${repository}@${digest}`;
  // Annotations of the indexes walked so far that no image has taken yet (as the layout reader does).
  let pending: ConfigValue[] = [];
  const visit = async (manifest: FetchedManifest, descriptor: { platform: string | null; attestation: boolean }, depth: number): Promise<void> => {
    if (seen.has(manifest.digest)) return;
    seen.add(manifest.digest);
    let parsed: unknown;
    try {
      parsed = JSON.parse(manifest.bytes.toString('utf8'));
    } catch {
      throw corrupt(where(manifest.digest), 'the manifest is not JSON');
    }
    if (!isObject(parsed)) throw corrupt(where(manifest.digest), 'the manifest is not a JSON object');
    const json = parsed as ManifestJson;
    if (json.mediaType !== undefined && typeof json.mediaType !== 'string') throw corrupt(where(manifest.digest), 'the manifest mediaType is not a string');
    const mediaType = json.mediaType ?? manifest.mediaType;
    if (INDEX_TYPES.has(mediaType) || json.manifests !== undefined) {
      if (!Array.isArray(json.manifests)) throw corrupt(where(manifest.digest), 'the index has no manifests list');
      if (depth >= MAX_INDEX_DEPTH) throw corrupt(where(manifest.digest), `image indexes nest deeper than ${MAX_INDEX_DEPTH}`);
      const at = depth === 0 ? 'index' : `index ${manifest.digest}`;
      pending.push(...annotationValues(at, (json as { annotations?: unknown }).annotations), ...descriptorAnnotations(`${at}.manifests`, json.manifests));
      for (const [i, entry] of (json.manifests as unknown[]).entries()) {
        const child = checkedDescriptor(`entry ${i} of index ${where(manifest.digest)}`, entry);
        const digest = child.digest;
        if (seen.has(digest)) continue;
        const fetched = await client.findManifest(repository, digest);
        if (!fetched) {
          throw new EicBuildError('registry', `${where(digest)} (listed by index ${manifest.digest}) does not exist`, {
            hint: 'the index refers to a manifest the registry no longer has: push the image again or delete the tag',
          });
        }
        const attestation = child.annotations?.['vnd.docker.reference.type'] === 'attestation-manifest';
        await visit(fetched, { platform: attestation ? null : platformText(child.platform as { os?: unknown } | undefined), attestation }, depth + 1);
      }
      return;
    }
    if (json.schemaVersion === 1)
      throw corrupt(where(manifest.digest), 'Docker image manifest schema 1 is not supported (deprecated since 2017); push the image again with a current client');
    if (json.config === undefined || !Array.isArray(json.layers)) throw corrupt(where(manifest.digest), 'the manifest has no config or layers');
    const configDescriptor = checkedDescriptor(`config of ${where(manifest.digest)}`, json.config);
    const config = { digest: configDescriptor.digest, size: typeof configDescriptor.size === 'number' ? configDescriptor.size : null };
    const layers = (json.layers as unknown[]).map((entry, i): RegistryLayer => {
      const layer = checkedDescriptor(`layer ${i} of ${where(manifest.digest)}`, entry);
      const mediaType = layer.mediaType ?? null;
      return {
        digest: layer.digest,
        mediaType,
        size: typeof layer.size === 'number' ? layer.size : null,
        format: isTarMediaType(mediaType) ? 'tar' : 'raw',
      };
    });
    const annotations = [
      ...pending,
      ...annotationValues('manifest', (json as { annotations?: unknown }).annotations),
      ...annotationValues('manifest.config', configDescriptor.annotations),
      ...descriptorAnnotations('manifest.layers', json.layers),
    ];
    pending = [];
    images.push({ kind: descriptor.attestation ? 'attestation' : 'image', manifestDigest: manifest.digest, platform: descriptor.platform, config, layers, annotations });
  };
  await visit(top, { platform: null, attestation: false }, 0);
  if (images.length === 0) throw corrupt(`${client.registry}/${repository}:${reference}`, 'the index lists no image manifest');
  return { digest: top.digest, images };
}

/** Stream one layer blob from the registry through the layer walker (digest and size checked). */
export async function scanRegistryLayer(client: RegistryClient, repository: string, layer: RegistryLayer, keys: DetectorKeys, label: string): Promise<LayerScanResult> {
  const stream = await client.getBlob(repository, layer.digest);
  try {
    return await scanLayerBlob(stream, { label, format: layer.format, check: { kind: 'blob', digest: layer.digest }, expectedSize: layer.size, keys }, createContentScanner);
  } finally {
    stream.destroy();
  }
}

/**
 * Layer blobs streamed at once: network latency hides behind other downloads, decompression runs on
 * libuv's pool. EIC_BUILD_SCAN_CONCURRENCY overrides (a malformed value throws).
 */
export function registryScanConcurrency(env: NodeJS.ProcessEnv): number {
  return parseScanTuning(env).concurrency ?? Math.min(8, Math.max(4, 2 * availableParallelism()));
}

/** Run `fn` over `items`, `limit` at a time; the first failure rejects once running ones settled. */
async function eachLimit<T>(items: readonly T[], limit: number, fn: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  let failure: { error: unknown } | undefined;
  const lane = async () => {
    while (!failure && next < items.length) {
      const item = items[next++]!;
      try {
        await fn(item);
      } catch (error) {
        failure ??= { error };
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, lane));
  if (failure) throw failure.error;
}

/**
 * `scan docker://…`: every image below the reference with its config, and every distinct layer
 * blob scanned once (results keyed by digest, the images' blob names). Throws when anything cannot
 * be read whole, so a partly read image never passes.
 */
export async function scanRegistryImage(
  target: RegistryTarget,
  keys: DetectorKeys,
  env: NodeJS.ProcessEnv,
): Promise<{ images: ImageRef[]; results: Map<string, LayerScanResult> }> {
  const client = await openRegistryClient(target, env);
  const resolved = await readRegistryImages(client, target.repository, target.reference!);
  const images: ImageRef[] = [];
  for (const image of resolved.images) {
    const config = await client.getBlobBytes(target.repository, image.config.digest);
    const layers = image.layers.map((layer): LayerRef => ({
      blobName: layer.digest,
      digest: layer.digest,
      mediaType: layer.mediaType,
      size: layer.size,
      check: { kind: 'blob', digest: layer.digest },
      format: layer.format,
    }));
    images.push({
      kind: image.kind,
      manifestDigest: image.manifestDigest,
      configDigest: image.config.digest,
      platform: image.kind === 'attestation' ? null : (image.platform ?? platformOfConfig(config)),
      config,
      layers,
      annotations: image.annotations,
    });
  }
  const distinct = new Map<string, RegistryLayer>();
  for (const image of resolved.images) for (const layer of image.layers) if (!distinct.has(layer.digest)) distinct.set(layer.digest, layer);
  const results = new Map<string, LayerScanResult>();
  await eachLimit([...distinct.values()], registryScanConcurrency(env), async (layer) => {
    results.set(layer.digest, await scanRegistryLayer(client, target.repository, layer, keys, `${target.text}: layer ${layer.digest}`));
  });
  return { images, results };
}
