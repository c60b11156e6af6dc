// The pure-JS zstd decoder (Node 20 has no zstd of its own) fed in slices with backpressure: a
// read that resumed a parked feed which then produced no output left the stream stalled for good
// (seen 1 GB into a real zstd layer from a registry). This frame makes that happen on its first
// megabyte: raw blocks are only output whole, so the feed parks right after the block that fills
// the readable buffer, and the rest of the input chunk holds part of the next block only.
import test from 'ava';
import { randomBytes } from 'node:crypto';
import { createDecompressor, probeNativeZstd } from '../../src/scan/compression.js';

const BLOCK = 128 * 1024;

/** A zstd frame of raw (stored) blocks: magic, a header with a 128 KiB window, then the blocks. */
function rawZstdFrame(data: Buffer): Buffer {
  const parts: Buffer[] = [Buffer.from([0x28, 0xb5, 0x2f, 0xfd, 0x00, 0x38])];
  for (let at = 0; at < data.length; at += BLOCK) {
    const block = data.subarray(at, at + BLOCK);
    const last = at + BLOCK >= data.length ? 1 : 0;
    const header = (block.length << 3) | last;
    parts.push(Buffer.from([header & 0xff, (header >> 8) & 0xff, (header >> 16) & 0xff]), block);
  }
  return Buffer.concat(parts);
}

test('fzstd: a feed resumed by a read that yields nothing more does not stall the stream', async (t) => {
  if (probeNativeZstd()) {
    t.pass('this Node decodes zstd natively; the fzstd path is not used here');
    return;
  }
  const data = randomBytes(16 * BLOCK);
  const frame = rawZstdFrame(data);
  // The first chunk: 8 whole blocks (1 MiB of output, the readable buffer's mark), then two more
  // 16 KiB feed slices, which hold part of block 9 only.
  const firstEnd = (Math.floor((6 + 8 * (BLOCK + 3) - 1) / 16384) + 2) * 16384;
  const decoder = createDecompressor('zstd')!;
  decoder.write(frame.subarray(0, firstEnd));
  const out: Buffer[] = [];
  const read = (async () => {
    for await (const chunk of decoder as AsyncIterable<Buffer>) out.push(chunk);
  })();
  // The rest comes later, as from a network or a pipe (an input already ended hides the stall).
  setTimeout(() => decoder.end(frame.subarray(firstEnd)), 50);
  let timer: NodeJS.Timeout | undefined;
  const stalled = new Promise<'stalled'>((resolve) => (timer = setTimeout(() => resolve('stalled'), 5000)));
  const outcome = await Promise.race([read.then(() => 'done' as const), stalled]);
  clearTimeout(timer);
  t.is(outcome, 'done', `stalled after ${Buffer.concat(out).length} of ${data.length} bytes`);
  t.true(Buffer.concat(out).equals(data));
});
