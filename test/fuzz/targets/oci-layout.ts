// The OCI/Docker structure readers (src/scan/layout.ts): index.json, nested indexes, manifests with
// annotations, configs and legacy manifest.json, made valid and then mutated, read from an in-memory
// blob store. A damaged structure must be a named EicBuildError, never a TypeError.
import { createHash } from 'node:crypto';
import { scanConfig } from '../../../src/scan/config-scan.js';
import { EicBuildError } from '../../../src/errors.js';
import type { BlobStore } from '../../../src/scan/image.js';
import { readImages } from '../../../src/scan/layout.js';
import type { Random } from '../../helpers/seeded-random.js';
import type { FuzzTarget } from '../fuzz-target.js';

const sha = (bytes: Uint8Array): string => `sha256:${createHash('sha256').update(bytes).digest('hex')}`;

/** A layout: index → nested index → manifest → config + one layer; every part possibly mutated. */
function makeLayout(random: Random): Buffer {
  const blobs = new Map<string, Buffer>();
  const put = (bytes: Buffer): { digest: string; size: number } => {
    const digest = sha(bytes);
    blobs.set(`blobs/sha256/${digest.slice(7)}`, bytes);
    return { digest, size: bytes.length };
  };
  const maybe = (bytes: Buffer): Buffer => (random.int(6) === 0 ? random.mutate(bytes, 1 + random.int(4)) : bytes);
  const layer = put(Buffer.alloc(1024));
  const config = put(
    maybe(
      Buffer.from(
        JSON.stringify({
          architecture: 'amd64',
          os: 'linux',
          rootfs: { type: 'layers', diff_ids: [layer.digest] },
          config: { Env: ['A=1'], Labels: { k: 'v' } },
          history: [{ created_by: 'x' }],
        }),
      ),
    ),
  );
  const manifest = put(
    maybe(
      Buffer.from(
        JSON.stringify({
          schemaVersion: 2,
          mediaType: 'application/vnd.oci.image.manifest.v1+json',
          config: { mediaType: 'application/vnd.oci.image.config.v1+json', ...config },
          layers: [{ mediaType: 'application/vnd.oci.image.layer.v1.tar', ...layer, annotations: { a: 'b' } }],
          annotations: { 'org.example': 'LS0tLS1CRUdJTg==' },
        }),
      ),
    ),
  );
  const nested = put(
    maybe(
      Buffer.from(
        JSON.stringify({
          schemaVersion: 2,
          mediaType: 'application/vnd.oci.image.index.v1+json',
          manifests: [{ mediaType: 'application/vnd.oci.image.manifest.v1+json', ...manifest, platform: { os: 'linux', architecture: 'amd64' }, annotations: { n: 'm' } }],
          annotations: { i: 'j' },
        }),
      ),
    ),
  );
  const index = maybe(
    Buffer.from(JSON.stringify({ schemaVersion: 2, manifests: [{ mediaType: 'application/vnd.oci.image.index.v1+json', ...nested }], annotations: { top: 'x' } })),
  );
  blobs.set(random.int(8) === 0 ? 'manifest.json' : 'index.json', index);
  return Buffer.from(JSON.stringify([...blobs].map(([name, bytes]) => [name, bytes.toString('base64')])));
}

const target: FuzzTarget = {
  name: 'scan/oci-layout-manifest-index-config',
  ciRounds: 1500,
  makeInput: (random) => makeLayout(random),
  async run(input) {
    const blobs = new Map((JSON.parse(input.toString()) as [string, string][]).map(([name, data]) => [name, Buffer.from(data, 'base64')]));
    const store: BlobStore = { target: 'oci:fuzz', has: (name) => blobs.has(name), read: async (name) => blobs.get(name)!, location: () => null };
    for (const image of await readImages(store)) {
      let json: unknown = null;
      try {
        json = JSON.parse(image.config.toString('utf8'));
      } catch {
        // Not JSON: the report scans the raw bytes instead.
      }
      scanConfig(json, { knownKeys: [], allowKeys: [] }, image.annotations);
    }
  },
  isExpected: (error) => error instanceof EicBuildError,
};
export default target;
