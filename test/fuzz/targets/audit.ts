// The audit's parsers: docker:// targets, --tags globs (typed usage errors only), and image configs
// (configFacts must take any bytes a registry serves: garbage and mutated real configs).
import { configFacts } from '../../../src/audit/blob-facts.js';
import { globToRegExp } from '../../../src/audit/tag-glob.js';
import { EicBuildError } from '../../../src/errors.js';
import { parseRegistryTarget } from '../../../src/scan/registry-source.js';
import type { FuzzTarget } from '../fuzz-target.js';

const CONFIG = JSON.stringify({
  architecture: 'arm64',
  os: 'linux',
  config: { Env: ['PATH=/usr/bin', 'SPACK_ENV=/opt/env'], Labels: { a: 'b' }, Cmd: ['bash'] },
  rootfs: { type: 'layers', diff_ids: [`sha256:${'a'.repeat(64)}`, `sha256:${'b'.repeat(64)}`] },
  history: [{ created_by: 'COPY . /' }, { created_by: 'ENV X=1', empty_layer: true }, { created_by: 'RUN make' }],
});

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
];
export default targets;
