// The zstd frame walker and the nested zstd reader (skippable frames, header bounds): mutated
// real pzstd/zstd output and garbage.
import { ZstdFrameError, ZstdFrameWalker } from '../../../src/scan/nested/zstd-frames.js';
import type { FuzzTarget } from '../fuzz-target.js';
import { compressWith, feedNestedFile } from '../nested-input.js';

const target: FuzzTarget = {
  name: 'scan/nested/zstd',
  tools: ['pzstd', 'zstd'],
  ciRounds: 2000,
  async setup() {
    const text = Buffer.from('a fuzzing specimen '.repeat(300));
    return [await compressWith('pzstd', ['-q', '-c'], text), await compressWith('zstd', ['-q', '-c', '--long=20'], text)];
  },
  makeInput(random, specimens) {
    const list = specimens as Buffer[];
    return random.int(4) === 0 ? Buffer.concat([Buffer.from([0x28, 0xb5, 0x2f, 0xfd]), random.bytes(random.int(64))]) : random.mutate(list[random.int(list.length)]!);
  },
  async run(bytes) {
    const walker = new ZstdFrameWalker();
    try {
      walker.push(bytes);
    } catch (error) {
      if (!(error instanceof ZstdFrameError)) throw error;
    }
    await feedNestedFile('opt/x.zst', bytes, { maxHeldBytes: 1 << 20 });
  },
};
export default target;
