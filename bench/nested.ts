// Decompression bombs inside a layer: how long until each bound is reported, and that the file
// after the bomb is still scanned. Target: a 20 GiB-of-zeros nested gzip (and zstd) under 10 s.
import { performance } from 'node:perf_hooks';
import { Readable } from 'node:stream';
import { execa } from 'execa';
import { createContentScanner, NO_DETECTOR_KEYS } from '../src/scan/detector-api.js';
import { scanLayerBlob } from '../src/scan/layer-scan.js';
import { layerTar } from '../test/helpers/image-fixture.js';

async function compress(command: string, input: Buffer): Promise<Buffer> {
  return Buffer.from((await execa(command, ['-c'], { input, encoding: 'buffer', stripFinalNewline: false })).stdout);
}

export default async function bench(log: (line: string) => void): Promise<void> {
  const zeros = Buffer.alloc(64 * 1024 * 1024);
  // 320 members/frames of 64 MiB: 20 GiB of zeros (concatenated gzip members and zstd frames are valid streams).
  const bombs: [string, Buffer][] = [
    ['gz', Buffer.concat(Array(320).fill(await compress('gzip', zeros)))],
    ['zst', Buffer.concat(Array(320).fill(await compress('zstd', zeros)))],
    ['xz', await compress('xz', zeros)],
    ['bz2', await compress('bzip2', zeros)],
  ];
  for (const [suffix, bomb] of bombs) {
    const tar = await layerTar({ files: { [`opt/bomb.${suffix}`]: bomb, 'opt/z-after.txt': 'after' } });
    const started = performance.now();
    let afterScanned = false;
    const result = await scanLayerBlob(Readable.from([tar]), { label: 'bench', format: 'tar', check: null, expectedSize: null, keys: NO_DETECTOR_KEYS }, (options) => {
      if (options.path === 'opt/z-after.txt') afterScanned = true;
      return createContentScanner(options);
    });
    const seconds = (performance.now() - started) / 1000;
    const note = result.notes.find((n) => n.kind === 'nested-bounded');
    const declared = suffix === 'gz' || suffix === 'zst' ? '20 GiB' : '64 MiB';
    log(
      `${declared} of zeros as .${suffix} (${bomb.length} bytes): ${seconds.toFixed(2)} s, ${note ? note.message.replace(/^bound reached: /, '').slice(0, 90) : 'NO BOUND NOTE'}; file after it scanned: ${afterScanned}`,
    );
  }
}
