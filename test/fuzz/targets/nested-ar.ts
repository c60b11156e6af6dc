// ar archives (.deb): mutated real dpkg-deb output (gzip and uncompressed members) and garbage
// after the magic.
import type { FuzzTarget } from '../fuzz-target.js';
import { debSpecimen, feedNestedFile } from '../nested-input.js';

const target: FuzzTarget = {
  name: 'scan/nested/ar',
  ciRounds: 2000,
  async setup() {
    return [await debSpecimen('gzip'), await debSpecimen('none')];
  },
  makeInput(random, specimens) {
    const list = specimens as Buffer[];
    return random.int(4) === 0 ? Buffer.concat([Buffer.from('!<arch>\n'), random.bytes(random.int(300))]) : random.mutate(list[random.int(list.length)]!);
  },
  async run(bytes) {
    await feedNestedFile('var/cache/apt/archives/x.deb', bytes);
  },
};
export default target;
