// The tar readers every layer goes through: header blocks (ustar/GNU/PAX, base-256 sizes), PAX
// records, the streaming parser with its extended headers, and the PAX-value scan. Specimens are
// made by real GNU tar (--format=pax with a long name and an xattr-like record) and mutated.
import { execa } from 'execa';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createContentScanner } from '../../../src/detectors/index.js';
import { scanExtendedHeader } from '../../../src/scan/pax-scan.js';
import { BLOCK, parsePaxRecords, parseTarHeader, paxRecordSpans } from '../../../src/scan/tar-header.js';
import { TarFormatError, TarStreamParser, type ExtendedHeader } from '../../../src/scan/tar-parser.js';
import type { FuzzTarget } from '../fuzz-target.js';
import { KEY_SPECIMEN_TOOLS, keySpecimens } from '../key-specimens.js';

async function gnuTars(): Promise<Buffer[]> {
  const { texts } = await keySpecimens();
  const work = await mkdtemp(join(tmpdir(), 'eic-fuzz-tar-'));
  try {
    const long = `${'d'.repeat(120)}.txt`;
    await writeFile(join(work, long), 'x'.repeat(700));
    await writeFile(join(work, 'key.asc'), texts[0]!);
    const pax = join(work, 'pax.tar');
    // The armored key also goes into a PAX record of every extended header.
    await execa('tar', ['--format=pax', '--pax-option=EICBUILD.fuzz:=1', '-cf', pax, '-C', work, long, 'key.asc']);
    const gnu = join(work, 'gnu.tar');
    await execa('tar', ['--format=gnu', '-cf', gnu, '-C', work, long]);
    return [await readFile(pax), await readFile(gnu)];
  } finally {
    await rm(work, { recursive: true, force: true });
  }
}

const noKeys = { knownKeys: [], allowKeys: [] };
const scannerFactory = () => createContentScanner({ path: null, knownKeys: [] });

const targets: FuzzTarget[] = [
  {
    name: 'scan/tar-header-pax-records',
    tools: KEY_SPECIMEN_TOOLS,
    ciRounds: 4000,
    setup: gnuTars,
    makeInput: (random, specimens) => {
      const tars = specimens as Buffer[];
      const tar = tars[random.int(tars.length)]!;
      const block = random.int(Math.floor(tar.length / BLOCK));
      return random.mutate(tar.subarray(block * BLOCK, block * BLOCK + BLOCK * (1 + random.int(2))), 1 + random.int(5));
    },
    run: (input) => {
      parseTarHeader(input.subarray(0, BLOCK));
      paxRecordSpans(input);
      parsePaxRecords(input);
      const header: ExtendedHeader = { typeflag: 'x', headerOffset: 0, body: input, describes: null };
      scanExtendedHeader(header, noKeys, scannerFactory);
    },
  },
  {
    name: 'scan/tar-parser',
    tools: KEY_SPECIMEN_TOOLS,
    ciRounds: 2000,
    setup: gnuTars,
    makeInput: (random, specimens) => {
      const tars = specimens as Buffer[];
      return random.int(5) === 0 ? random.bytes(random.int(2048)) : random.mutate(tars[random.int(tars.length)]!, 1 + random.int(5));
    },
    run: async (input) => {
      const parser = new TarStreamParser(
        () => ({ write: () => undefined, end: () => undefined }),
        null,
        (header) => scanExtendedHeader(header, noKeys, scannerFactory),
      );
      // Chunk sizes from the input's length, so a failing input replays alone.
      const step = 1 + (input.length % 700);
      for (let i = 0; i < input.length; i += step) await parser.write(input.subarray(i, i + step));
      parser.end();
    },
    isExpected: (error) => error instanceof TarFormatError,
  },
];
export default targets;
