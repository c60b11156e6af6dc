// Zips with data descriptors (streaming writers): the held-member locator and the streaming zip
// reader, on mutated real `zip`-to-a-pipe output (deflated and stored).
import { execa } from 'execa';
import { writeFile, mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { locateHeldZipMembers, ZipFormatError } from '../../../src/scan/nested/zip-held.js';
import type { FuzzTarget } from '../fuzz-target.js';
import { feedNestedFile, scratch } from '../nested-input.js';

const target: FuzzTarget = {
  name: 'scan/nested/zip',
  tools: ['zip'],
  ciRounds: 3000,
  async setup() {
    const { dir, remove } = await scratch('zip');
    try {
      await mkdir(join(dir, 'd'));
      await writeFile(join(dir, 'd/a.txt'), 'some text '.repeat(40));
      await writeFile(join(dir, 'b.txt'), 'more');
      const make = async (flags: string) => Buffer.from((await execa('sh', ['-c', `zip -q ${flags} -r - . | cat`], { cwd: dir, encoding: 'buffer' })).stdout);
      return [await make(''), await make('-0')];
    } finally {
      await remove();
    }
  },
  makeInput(random, specimens) {
    const list = specimens as Buffer[];
    const base = list[random.int(list.length)]!;
    // Sometimes cut before the central directory, to take the walk without it.
    const cut = random.int(3) === 0 ? base.subarray(0, Math.max(0, base.indexOf(Buffer.from([0x50, 0x4b, 1, 2])))) : base;
    return random.mutate(cut);
  },
  async run(bytes) {
    try {
      locateHeldZipMembers(bytes, 0, 1 << 20);
    } catch (error) {
      if (!(error instanceof ZipFormatError)) throw error;
    }
    await feedNestedFile('opt/app.jar', bytes);
  },
};
export default target;
