// A real registry (Debian's docker-registry on loopback) holding a repository of many tags built
// from shared layers, the way nightly and release tags of one image share most of their layers.
// Layers are generated once (test/helpers/image-fixture) and pushed with the project's registry
// client; keys are generated at run time (OpenPGP.js, node:crypto), never committed.
import { generateKeyPairSync } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as openpgp from 'openpgp';
import { MediaTypes, type RegistryClient, sha256Digest } from '../../src/registry/index.js';
import { buildAttestation, buildImage, type ImageSpec, type LayerSpec } from '../helpers/image-fixture.js';

/** One tag: a single image, or an index of images (with attestations). */
export type TagSpec = { tag: string; image: ImageSpec } | { tag: string; index: ImageSpec[]; attestations?: boolean };

/** Keys a world leaks: an OpenPGP signing key (with its public half as a file) and a PEM key. */
export interface WorldKeys {
  pgpSecret: string;
  pgpPublicFile: string;
  pemSecret: string;
  dir: string;
  cleanup: () => Promise<void>;
}

/** Generate the keys (about 50 ms). */
export async function makeWorldKeys(): Promise<WorldKeys> {
  const dir = await mkdtemp(join(tmpdir(), 'eic-build-audit-keys-'));
  const { privateKey, publicKey } = await openpgp.generateKey({
    type: 'ecc',
    curve: 'ed25519Legacy',
    userIDs: [{ name: 'Audit Signer', email: 'signer@example.invalid' }],
    format: 'armored',
  });
  const pgpPublicFile = join(dir, 'signer.pub.asc');
  await writeFile(pgpPublicFile, publicKey);
  const pem = generateKeyPairSync('ec', { namedCurve: 'P-256', privateKeyEncoding: { type: 'pkcs8', format: 'pem' }, publicKeyEncoding: { type: 'spki', format: 'pem' } });
  return { pgpSecret: privateKey, pgpPublicFile, pemSecret: pem.privateKey, dir, cleanup: () => rm(dir, { recursive: true, force: true }) };
}

/** Deterministic filler bytes (compressible like real binaries are only partly). */
export function filler(seed: number, bytes: number): Buffer {
  const out = Buffer.alloc(bytes);
  let x = seed * 2654435761 + 1;
  for (let i = 0; i < bytes; i += 4) {
    x = (x ^ (x << 13)) >>> 0;
    x = (x ^ (x >>> 17)) >>> 0;
    x = (x ^ (x << 5)) >>> 0;
    // Half the bytes random, half text: gzip gets about 2:1, as on real layers.
    out.writeUInt32LE(i % 8 === 0 ? x : 0x61626364, Math.min(i, bytes - 4));
  }
  return out;
}

/** What the standard world holds, and which tags leak which key. */
export interface WorldPlan {
  tags: TagSpec[];
  /** Tags that ship the OpenPGP key. */
  pgpTags: string[];
  /** Tags that ship the PEM key. */
  pemTags: string[];
}

/**
 * The standard world: `cleanTags` clean tags (every fifth an index of amd64+arm64 with
 * attestations) on two shared base layers and five shared middle layers, and six leaky tags:
 * a visible key, a key hidden by a later whiteout, two tags sharing a leaky layer, an index whose
 * only leak is in its arm64 image, and a key only in the image config.
 */
export function standardWorld(keys: WorldKeys, options: { cleanTags?: number; baseBytes?: number } = {}): WorldPlan {
  const cleanTags = options.cleanTags ?? 60;
  const baseBytes = options.baseBytes ?? 256 * 1024;
  const base: LayerSpec[] = [
    { files: { 'usr/lib/libbase.so': filler(1, baseBytes), 'etc/os-release': 'ID=debian\n' } },
    { files: { 'opt/spack/bin/spack': filler(2, baseBytes / 2), 'opt/spack/etc/spack/mirrors.yaml': 'mirrors: {}\n' } },
  ];
  const mids: LayerSpec[] = Array.from({ length: 5 }, (_, i) => ({ files: { [`opt/software/pkg-${i}/lib.so`]: filler(10 + i, baseBytes / 4) } }));
  const top = (name: string): LayerSpec => ({ files: { [`etc/eic-release-${name}`]: `${name}\n` } });
  const tags: TagSpec[] = [];
  for (let i = 0; i < cleanTags; i++) {
    const name = `nightly-${String(i).padStart(3, '0')}`;
    const layers = [...base, mids[i % mids.length]!, top(name)];
    if (i % 5 === 4) {
      tags.push({
        tag: name,
        index: [
          { layers, platform: { os: 'linux', architecture: 'amd64' } },
          { layers: [...base, mids[(i + 1) % mids.length]!, top(`${name}-arm64`)], platform: { os: 'linux', architecture: 'arm64' } },
        ],
        attestations: true,
      });
    } else {
      tags.push({ tag: name, image: { layers, config: { Env: [`EIC_RELEASE=${name}`] } } });
    }
  }
  const leakyMid: LayerSpec = { files: { 'opt/software/tls/server.key': keys.pemSecret, 'opt/software/tls/README': 'certs\n' } };
  tags.push({ tag: 'leak-visible', image: { layers: [...base, mids[0]!, { files: { 'root/.gnupg/signing-key.asc': keys.pgpSecret } }] } });
  tags.push({
    tag: 'leak-hidden',
    image: { layers: [...base, { files: { 'tmp/key.asc': keys.pgpSecret, 'tmp/keep': 'x' } }, { whiteouts: ['tmp/key.asc'] }, top('leak-hidden')] },
  });
  tags.push({ tag: 'leak-shared-a', image: { layers: [...base, leakyMid, top('shared-a')] } });
  tags.push({ tag: 'leak-shared-b', image: { layers: [...base, mids[1]!, leakyMid, top('shared-b')] } });
  tags.push({
    tag: 'leak-arm64-only',
    index: [
      { layers: [...base, mids[2]!, top('arm-amd64')], platform: { os: 'linux', architecture: 'amd64' } },
      { layers: [...base, mids[2]!, { files: { 'opt/spack/opt/gpg/private.asc': keys.pgpSecret } }], platform: { os: 'linux', architecture: 'arm64' } },
    ],
    attestations: true,
  });
  tags.push({ tag: 'leak-config', image: { layers: [...base, mids[3]!, top('leak-config')], config: { Env: [`SPACK_SIGNING_KEY=${keys.pgpSecret}`] } } });
  return { tags, pgpTags: ['leak-arm64-only', 'leak-config', 'leak-hidden', 'leak-visible'], pemTags: ['leak-shared-a', 'leak-shared-b'] };
}

/** What a push wrote: each tag's top digest and every blob digest per tag. */
export interface PushedWorld {
  tagDigests: Map<string, string>;
  /** Layer and config digests each tag refers to. */
  blobsOf: Map<string, string[]>;
  /** Every distinct blob (layers and configs, not manifests). */
  blobs: Set<string>;
}

/** Push every tag of `tags` to `repository` with the project's registry client (each blob once). */
export async function pushWorld(client: RegistryClient, repository: string, tags: readonly TagSpec[]): Promise<PushedWorld> {
  const pushed = new Set<string>();
  const blobs = new Set<string>();
  const putBlob = async (bytes: Buffer) => {
    const digest = sha256Digest(bytes);
    if (!pushed.has(digest)) {
      pushed.add(digest);
      await client.putBlob(repository, bytes, { digest });
    }
    return digest;
  };
  const tagDigests = new Map<string, string>();
  const blobsOf = new Map<string, string[]>();
  const cache = new Map<ImageSpec, Awaited<ReturnType<typeof buildImage>>>();
  const build = async (spec: ImageSpec) => {
    let built = cache.get(spec);
    if (!built) {
      built = await buildImage(spec);
      cache.set(spec, built);
    }
    return built;
  };
  const pushImage = async (spec: ImageSpec, own: string[]) => {
    const built = await build(spec);
    for (const layer of built.layers) own.push(await putBlob(layer.blob));
    own.push(await putBlob(built.config));
    await client.putManifest(repository, built.manifestDigest, built.manifest, MediaTypes.ociManifest);
    return built;
  };
  for (const spec of tags) {
    const own: string[] = [];
    if ('image' in spec) {
      const built = await pushImage(spec.image, own);
      tagDigests.set(spec.tag, await client.putManifest(repository, spec.tag, built.manifest, MediaTypes.ociManifest));
    } else {
      const descriptors: object[] = [];
      for (const image of spec.index) {
        const built = await pushImage(image, own);
        descriptors.push({ mediaType: MediaTypes.ociManifest, digest: built.manifestDigest, size: built.manifest.length, platform: built.platform });
        if (spec.attestations) {
          const attestation = buildAttestation(built.manifestDigest);
          const [manifest, config, layer] = attestation.blobs as [Buffer, Buffer, Buffer];
          own.push(await putBlob(config), await putBlob(layer));
          await client.putManifest(repository, sha256Digest(manifest), manifest, MediaTypes.ociManifest);
          descriptors.push(attestation.descriptor);
        }
      }
      const index = Buffer.from(JSON.stringify({ schemaVersion: 2, mediaType: MediaTypes.ociIndex, manifests: descriptors }));
      tagDigests.set(spec.tag, await client.putManifest(repository, spec.tag, index, MediaTypes.ociIndex));
    }
    blobsOf.set(spec.tag, own);
    own.forEach((digest) => blobs.add(digest));
  }
  return { tagDigests, blobsOf, blobs };
}

/** The digest in a blob GET path (`/v2/<repo>/blobs/<digest>`), or undefined for other requests. */
export function blobGetDigest(method: string | undefined, url: string | undefined): string | undefined {
  if (method !== 'GET') return undefined;
  const match = /\/v2\/.+\/blobs\/(sha256:[0-9a-f]{64})/.exec(url ?? '');
  return match?.[1];
}
