// The content scanner as a whole (every registered detector and nested decoder: armored, binary
// OpenPGP v4/v6, key files, OpenSSH, PEM, .ppk, base64, UTF-16, JSON-escaped) on real key files cut,
// flipped and spliced, fed in random chunks. It must end with a result, never throw.
import { createContentScanner, scanBytes } from '../../../src/detectors/index.js';
import { createRandom } from '../../helpers/seeded-random.js';
import type { FuzzTarget } from '../fuzz-target.js';
import { KEY_SPECIMEN_TOOLS, keySpecimens, type KeySpecimens } from '../key-specimens.js';

const target: FuzzTarget = {
  name: 'detectors/content-scanner',
  tools: KEY_SPECIMEN_TOOLS,
  ciRounds: 1500,
  setup: keySpecimens,
  makeInput(random, specimens) {
    const { files } = specimens as KeySpecimens;
    const pick = (): Buffer => files[random.int(files.length)]!;
    switch (random.int(4)) {
      case 0:
        return random.bytes(random.int(600));
      case 1:
        return random.mutate(pick(), 1 + random.int(8));
      case 2: {
        // Two forms spliced at random points: one cut off inside the other.
        const a = pick();
        const b = pick();
        return Buffer.concat([a.subarray(0, random.int(a.length)), b.subarray(random.int(b.length))]);
      }
      default:
        return Buffer.concat([random.bytes(random.int(40)), pick(), random.bytes(random.int(40))]);
    }
  },
  run(input) {
    scanBytes(input, { path: 'private-keys-v1.d/0000000000000000000000000000000000000000.key', knownKeys: [] });
    // The same bytes in chunks chosen from the input itself (replayable without another generator).
    const random = createRandom(input.length * 2654435761);
    const scanner = createContentScanner({ path: null, knownKeys: [] });
    for (let i = 0; i < input.length;) {
      const size = 1 + random.int(64);
      scanner.write(input.subarray(i, i + size));
      i += size;
    }
    scanner.end();
  },
};
export default target;
