// The audit's parsers: docker:// targets, --tags globs (typed usage errors only), and image configs
// (configFacts must take any bytes a registry serves: garbage and mutated real configs).
import { configFacts } from '../../../src/audit/blob-facts.js';
import { globToRegExp } from '../../../src/audit/tag-glob.js';
import { EicBuildError } from '../../../src/errors.js';
import { createHash } from 'node:crypto';
import type { FetchedManifest, RegistryClient } from '../../../src/registry/index.js';
import { parseRegistryTarget, readRegistryImages } from '../../../src/scan/registry-source.js';
import type { Random } from '../../helpers/seeded-random.js';
import type { FuzzTarget } from '../fuzz-target.js';

const CONFIG = JSON.stringify({
  architecture: 'arm64',
  os: 'linux',
  config: { Env: ['PATH=/usr/bin', 'SPACK_ENV=/opt/env'], Labels: { a: 'b' }, Cmd: ['bash'] },
  rootfs: { type: 'layers', diff_ids: [`sha256:${'a'.repeat(64)}`, `sha256:${'b'.repeat(64)}`] },
  history: [{ created_by: 'COPY . /' }, { created_by: 'ENV X=1', empty_layer: true }, { created_by: 'RUN make' }],
});

const sha = (bytes: Uint8Array): string => `sha256:${createHash('sha256').update(bytes).digest('hex')}`;

/** A tag's manifests as a registry serves them: an index → an image manifest, either possibly mutated. */
function makeManifests(random: Random): Buffer {
  const maybe = (bytes: Buffer): Buffer => (random.int(3) === 0 ? random.mutate(bytes, 1 + random.int(4)) : bytes);
  // Well-formed JSON of the wrong shape (null entries, strings for objects…) besides byte flips.
  const odd = [null, 7, 'x', [], {}, true];
  const swap = (value: unknown): unknown => (random.int(6) === 0 ? odd[random.int(odd.length)] : value);
  const blob = (c: string) => `sha256:${c.repeat(64)}`;
  const image = maybe(
    Buffer.from(
      JSON.stringify(
        swap({
          schemaVersion: 2,
          mediaType: swap('application/vnd.oci.image.manifest.v1+json'),
          config: swap({ mediaType: 'application/vnd.oci.image.config.v1+json', digest: swap(blob('c')), size: swap(9) }),
          layers: swap([
            swap({ mediaType: swap('application/vnd.oci.image.layer.v1.tar+gzip'), digest: blob('1'), size: swap(10), annotations: swap({ a: 'b' }) }),
            { digest: blob('2'), size: 0 },
          ]),
          annotations: { m: 'n' },
        }),
      ),
    ),
  );
  const index = maybe(
    Buffer.from(
      JSON.stringify(
        swap({
          schemaVersion: 2,
          mediaType: 'application/vnd.oci.image.index.v1+json',
          manifests: swap([
            swap({
              mediaType: 'application/vnd.oci.image.manifest.v1+json',
              digest: sha(image),
              size: image.length,
              platform: swap({ os: swap('linux'), architecture: 'arm64', variant: swap('v8') }),
            }),
            { digest: sha(image), size: 1, annotations: swap({ 'vnd.docker.reference.type': 'attestation-manifest' }) },
          ]),
        }),
      ),
    ),
  );
  const top = random.int(3) === 0 ? image : index;
  return Buffer.from(JSON.stringify([top, image].map((bytes) => bytes.toString('base64'))));
}

const targets: FuzzTarget[] = [
  {
    name: 'audit/registry-target-and-glob',
    ciRounds: 3000,
    async setup() {
      return Buffer.from('docker://registry.example.org:5000/eic/eic_xl:nightly-2025.01@sha256:' + 'c'.repeat(64));
    },
    makeInput: (random, specimen) => (random.int(3) === 0 ? random.bytes(random.int(80)) : random.mutate(specimen as Buffer)),
    run(input) {
      const text = input.toString('latin1');
      for (const options of [{}, { repositoryOnly: true }]) {
        try {
          parseRegistryTarget(text, options);
        } catch (error) {
          if (!(error instanceof EicBuildError)) throw error;
        }
      }
      const pattern = globToRegExp(text.replace(/^docker:\/\/[^/]*\//, '').slice(0, 128));
      pattern.test('nightly-2025');
    },
    isExpected: (error) => error instanceof EicBuildError && error.code === 'usage',
  },
  {
    name: 'audit/config-facts',
    ciRounds: 2000,
    async setup() {
      return Buffer.from(CONFIG);
    },
    makeInput: (random, specimen) => (random.int(4) === 0 ? random.bytes(random.int(300)) : random.mutate(specimen as Buffer)),
    run(input) {
      const facts = configFacts(`sha256:${'d'.repeat(64)}`, input, { knownKeys: [], allowKeys: [] });
      if (!Array.isArray(facts.createdBy)) throw new Error('createdBy is not a list');
    },
  },
  {
    name: 'audit/registry-manifests',
    ciRounds: 1500,
    makeInput: (random) => makeManifests(random),
    async run(input) {
      const [top, ...rest] = (JSON.parse(input.toString()) as string[]).map((data) => Buffer.from(data, 'base64'));
      const served = (bytes: Buffer): FetchedManifest => ({ digest: sha(bytes), mediaType: '', bytes });
      // Stand-in for the registry client: serves the (digest-correct) manifests from memory, as the
      // real client hands them over after its digest check; a real registry per input is too slow.
      const client = {
        registry: 'registry.fuzz.invalid',
        getManifest: async () => served(top!),
        findManifest: async (_repository: string, digest: string) => rest.map(served).find((manifest) => manifest.digest === digest),
      } as unknown as RegistryClient;
      await readRegistryImages(client, 'eic/fuzz', 'nightly');
    },
    isExpected: (error) => error instanceof EicBuildError,
  },
];
export default targets;
