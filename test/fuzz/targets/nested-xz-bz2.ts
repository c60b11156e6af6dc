// Single-file .xz and .bz2 through the child-process decompressors: mutated real xz and bzip2
// output. Each input starts a process, so CI runs fewer of these.
import type { FuzzTarget } from '../fuzz-target.js';
import { compressWith, feedNestedFile } from '../nested-input.js';

const specimen = 'a fuzzing specimen for xz and bzip2\n'.repeat(100);

const make = (name: string, command: string, suffix: string): FuzzTarget => ({
  name: `scan/nested/${name}`,
  tools: [command],
  ciRounds: 150,
  setup: () => compressWith(command, ['-c'], Buffer.from(specimen)),
  makeInput: (random, specimens) => random.mutate(specimens as Buffer),
  async run(bytes) {
    await feedNestedFile(`opt/file.${suffix}`, bytes);
  },
});

export default [make('xz', 'xz', 'xz'), make('bz2', 'bzip2', 'bz2')];
