import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { EicBuildError } from '../errors.js';
import { digestLike } from '../registry/digest.js';
import { parseDigest, parseImageReference, readDockerConfigCredentials, RegistryClient, type ImageReference } from '../registry/index.js';
import { hintsForLog, lastLines, runClient, type ProcessRunner, type StreamMode } from './run-client.js';

/** One tag as published, with the digests that were checked. */
export interface PushedTag {
  tag: string;
  manifestDigest: string;
  configDigest: string;
}

/** Pure: the digest `docker push` reports on its last line (`latest: digest: sha256:… size: 528`). */
export function parsePushDigest(output: string): string | undefined {
  const matches = [...output.matchAll(/digest: (sha256:[a-f0-9]{64}) size: \d+/g)];
  return matches.at(-1)?.[1];
}

/** Pure: the config digest a single-image manifest names (undefined for an index). */
export function configDigestOf(manifestBytes: Buffer | string): string | undefined {
  const json = JSON.parse(manifestBytes.toString()) as { config?: { digest?: string } };
  return json.config?.digest;
}

async function registryClientFor(ref: ImageReference, env: NodeJS.ProcessEnv): Promise<RegistryClient> {
  // Docker Hub's API lives on another host than its name.
  const host = ref.registry === 'docker.io' ? 'registry-1.docker.io' : ref.registry;
  const credentials = await readDockerConfigCredentials(ref.registry, env);
  return new RegistryClient({ registry: host, ...(credentials ? { credentials } : {}) });
}

/**
 * Check that what the registry now serves under `tag` is exactly the scanned image: its manifest
 * digest is the one pushed and, for a single image, its config digest is the scanned image ID.
 */
export async function verifyPushed(tag: string, expected: { manifestDigest?: string; configDigest?: string }, env: NodeJS.ProcessEnv = process.env): Promise<PushedTag> {
  const ref = parseImageReference(tag);
  const client = await registryClientFor(ref, env);
  const manifest = await client.getManifest(ref.repository, ref.tag ?? 'latest');
  const configDigest = configDigestOf(manifest.bytes);
  if (expected.manifestDigest && manifest.digest !== expected.manifestDigest) {
    throw new EicBuildError('push-failed', `${tag}: the registry serves manifest ${manifest.digest}, but ${expected.manifestDigest} was pushed`, {
      hint: 'another push to the same tag raced this one; push again, or push by digest.',
    });
  }
  if (expected.configDigest && configDigest !== expected.configDigest) {
    throw new EicBuildError('push-failed', `${tag}: the registry serves an image with config ${configDigest ?? '(none)'}, not the scanned image ${expected.configDigest}`, {
      hint: 'the pushed image is not the one that was scanned; do not use it. Push again.',
    });
  }
  return { tag, manifestDigest: manifest.digest, configDigest: configDigest ?? expected.configDigest ?? '' };
}

/**
 * Tag the scanned image (by its ID, so nothing else can slip in) and `docker push` each tag, then
 * fetch each pushed manifest back and check it names the scanned config.
 */
export async function pushFromEngine(
  docker: string,
  imageId: string,
  tags: string[],
  options: { env: NodeJS.ProcessEnv; mode: StreamMode; err: (text: string) => void; run?: ProcessRunner },
): Promise<PushedTag[]> {
  const runProcess = options.run ?? runClient;
  const pushed: PushedTag[] = [];
  for (const tag of tags) {
    const tagged = await runProcess(docker, ['tag', imageId, tag], { baseEnv: options.env, mode: 'silent' });
    if (tagged.exitCode !== 0) throw new EicBuildError('push-failed', `docker tag ${imageId} ${tag} failed: ${lastLines(tagged.log, 3)}`);
    const run = await runProcess(docker, ['push', tag], { baseEnv: options.env, mode: options.mode === 'terminal' ? 'stream' : options.mode, err: options.err });
    if (run.exitCode !== 0) {
      const hints = hintsForLog(run.log).map((h) => h.hint);
      throw new EicBuildError('push-failed', `docker push ${tag} failed:\n${lastLines(run.log)}`, { hint: hints.join(' ') || 'check the registry address and your login.' });
    }
    const manifestDigest = parsePushDigest(run.log);
    pushed.push(await verifyPushed(tag, { ...(manifestDigest ? { manifestDigest } : {}), configDigest: imageId }, options.env));
  }
  return pushed;
}

interface OciDescriptor {
  mediaType: string;
  digest: string;
  size: number;
}

const INDEX_TYPES = new Set(['application/vnd.oci.image.index.v1+json', 'application/vnd.docker.distribution.manifest.list.v2+json']);

interface LayoutManifest {
  bytes: Buffer;
  json: { manifests?: OciDescriptor[]; config?: OciDescriptor; layers?: OciDescriptor[] };
}

/**
 * Every manifest and index below `root`, each read once and refused (push-failed naming the file
 * and both digests) unless its bytes hash to the digest its descriptor names.
 */
async function readVerifiedManifests(root: OciDescriptor, blobPath: (digest: string) => string): Promise<Map<string, LayoutManifest>> {
  const found = new Map<string, LayoutManifest>();
  const visit = async (descriptor: OciDescriptor): Promise<void> => {
    if (found.has(descriptor.digest)) return;
    const path = blobPath(descriptor.digest);
    const bytes = await readFile(path);
    const actual = digestLike(descriptor.digest, bytes);
    if (actual !== descriptor.digest) {
      throw new EicBuildError('push-failed', `${path} hashes to ${actual}, but its descriptor names ${descriptor.digest}`, {
        hint: 'the manifest changed after the scan, or the image layout is corrupt: build (and scan) again',
      });
    }
    const json = JSON.parse(bytes.toString('utf8')) as LayoutManifest['json'];
    found.set(descriptor.digest, { bytes, json });
    if (INDEX_TYPES.has(descriptor.mediaType)) for (const child of json.manifests ?? []) await visit(child);
  };
  await visit(root);
  return found;
}

/**
 * Push the scanned OCI layout (what a BuildKit builder exported) with eic-build's registry client:
 * the bytes that were scanned are the bytes uploaded, blob by blob (each hashed as it streams and
 * refused unless it is the blob its descriptor names), and the result is read back.
 */
export async function pushOciLayout(layoutDir: string, tags: string[], env: NodeJS.ProcessEnv = process.env): Promise<PushedTag[]> {
  const index = JSON.parse(await readFile(join(layoutDir, 'index.json'), 'utf8')) as { manifests?: OciDescriptor[] };
  const root = index.manifests?.[0];
  if (!root) throw new EicBuildError('push-failed', `${layoutDir}/index.json names no image`, { hint: 'the build exported nothing; check the build log.' });
  // parseDigest first: a descriptor cannot name a path outside blobs/.
  const blobPath = (digest: string) => join(layoutDir, 'blobs', ...Object.values(parseDigest(digest)));
  // Manifests are small, read once, checked against their descriptors and parsed here, all before
  // anything is pushed: a manifest edited after the scan would otherwise move the tag and name
  // layers nobody scanned. Config and layers (a layer can be several GiB) are streamed and checked as they go.
  const manifests = await readVerifiedManifests(root, blobPath);
  const pushed: PushedTag[] = [];
  for (const tag of tags) {
    const ref = parseImageReference(tag);
    const client = await registryClientFor(ref, env);
    const pushManifest = async (descriptor: OciDescriptor, reference: string): Promise<void> => {
      const { bytes, json } = manifests.get(descriptor.digest)!;
      if (INDEX_TYPES.has(descriptor.mediaType)) {
        for (const child of json.manifests ?? []) await pushManifest(child, child.digest);
      } else {
        for (const item of [json.config, ...(json.layers ?? [])]) {
          if (item) await client.putBlobFile(ref.repository, blobPath(item.digest), { digest: item.digest, size: item.size });
        }
      }
      await client.putManifest(ref.repository, reference, bytes, descriptor.mediaType);
    };
    try {
      await pushManifest(root, ref.tag ?? 'latest');
    } catch (error) {
      if (error instanceof EicBuildError && error.code === 'push-failed') throw error;
      throw new EicBuildError('push-failed', `pushing ${tag} failed: ${(error as Error).message}`, {
        hint: 'check the registry address and your login (docker login).',
        cause: error,
      });
    }
    const rootConfig = manifests.get(root.digest)!.json.config;
    pushed.push(await verifyPushed(tag, { manifestDigest: root.digest, ...(rootConfig ? { configDigest: rootConfig.digest } : {}) }, env));
  }
  return pushed;
}
