// Git packfiles (entries, OFS/REF deltas) and loose objects: mutated real `git gc` output and
// loose objects, hostile deltas.
import { applyGitDelta, GitPackBound, GitPackError, parseGitPack } from '../../../src/scan/nested/git-pack-parse.js';
import type { FuzzTarget } from '../fuzz-target.js';
import { feedNestedFile, gitSpecimens } from '../nested-input.js';

const isExpected = (error: unknown) => error instanceof GitPackError || error instanceof GitPackBound;

const pack: FuzzTarget = {
  name: 'scan/nested/git-pack',
  tools: ['git'],
  ciRounds: 3000,
  setup: gitSpecimens,
  makeInput(random, specimens) {
    const { pack: bytes } = specimens as { pack: Buffer };
    return random.int(5) === 0 ? Buffer.concat([bytes.subarray(0, 12), random.bytes(random.int(200))]) : random.mutate(bytes);
  },
  async run(bytes) {
    try {
      parseGitPack(bytes, 1 << 22);
    } catch (error) {
      if (!isExpected(error)) throw error;
    }
    try {
      applyGitDelta(bytes.subarray(0, 64), bytes.subarray(64), 1 << 22);
    } catch (error) {
      if (!isExpected(error)) throw error;
    }
    await feedNestedFile('repo/.git/objects/pack/pack-1.pack', bytes);
  },
};

const loose: FuzzTarget = {
  name: 'scan/nested/git-loose',
  tools: ['git'],
  ciRounds: 2000,
  setup: gitSpecimens,
  makeInput(random, specimens) {
    const { loose: objects } = specimens as { loose: Buffer[] };
    return random.mutate(objects[random.int(objects.length)]!);
  },
  async run(bytes) {
    await feedNestedFile(`repo/.git/objects/ab/${'c'.repeat(38)}`, bytes);
  },
};

export default [pack, loose];
