import test from 'ava';
import { createHash, randomBytes } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openVerifiedFileStream } from '../../src/registry/blob-file.js';
import { EicBuildError } from '../../src/errors.js';
import { digestMismatch } from '../../src/registry/digest.js';

const bytes = randomBytes(3 * 1024 * 1024 + 7);
const digest = `sha256:${createHash('sha256').update(bytes).digest('hex')}`;
let dir: string;
test.before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'eic-build-blob-file-test-'));
});
test.after.always(() => rm(dir, { recursive: true, force: true }));

/** Read a stream to its end or error: the bytes delivered, and the error if any. */
async function drain(stream: ReadableStream<Uint8Array>): Promise<{ delivered: number; error?: unknown }> {
  const reader = stream.getReader();
  let delivered = 0;
  try {
    for (;;) {
      const { done, value } = await reader.read();
      if (done) return { delivered };
      delivered += value.length;
    }
  } catch (error) {
    return { delivered, error };
  }
}

test('a file that is the blob is delivered whole, reads counted', async (t) => {
  const path = join(dir, 'good');
  await writeFile(path, bytes);
  let reads = 0;
  let ends = 0;
  t.deepEqual(
    await drain(
      openVerifiedFileStream(
        path,
        digest,
        bytes.length,
        () => reads++,
        () => ends++,
      ),
    ),
    { delivered: bytes.length },
  );
  t.is(reads, 4);
  t.is(ends, 1);
});

test('a file that is not the blob never delivers its last chunk: the upload cannot complete', async (t) => {
  const path = join(dir, 'changed');
  const changed = Buffer.from(bytes);
  changed[0] ^= 1;
  await writeFile(path, changed);
  const { delivered, error } = await drain(openVerifiedFileStream(path, digest, bytes.length));
  t.true(error instanceof EicBuildError);
  t.is((error as EicBuildError).code, 'digest-mismatch');
  const actual = `sha256:${createHash('sha256').update(changed).digest('hex')}`;
  // One mismatch error (digest.ts's), with the hint that fits a file: the same text as any other.
  t.is((error as EicBuildError).message, digestMismatch(path, actual, digest).message);
  t.is((error as EicBuildError).message, `${path}: content hashes to ${actual}, expected ${digest}`);
  t.regex((error as EicBuildError).hint ?? '', /changed after it was scanned/);
  t.is(delivered, 3 * 1024 * 1024, 'the last 7 bytes were withheld');
});

test('a file longer or shorter than the blob size is refused', async (t) => {
  const path = join(dir, 'sized');
  await writeFile(path, Buffer.concat([bytes, Buffer.from('x')]));
  const longer = await drain(openVerifiedFileStream(path, digest, bytes.length));
  t.is((longer.error as EicBuildError).code, 'input-corrupt');
  t.true(longer.delivered < bytes.length);
  await writeFile(path, bytes.subarray(0, 1000));
  const shorter = await drain(openVerifiedFileStream(path, digest, bytes.length));
  t.is((shorter.error as EicBuildError).code, 'input-corrupt');
  t.regex((shorter.error as EicBuildError).message, /ended after 1000 bytes/);
});

test('an empty blob and a missing file', async (t) => {
  const path = join(dir, 'empty');
  await writeFile(path, '');
  const empty = `sha256:${createHash('sha256').digest('hex')}`;
  t.deepEqual(await drain(openVerifiedFileStream(path, empty, 0)), { delivered: 0 });
  const missing = await drain(openVerifiedFileStream(join(dir, 'missing'), empty, 0));
  t.is((missing.error as EicBuildError).code, 'input-unreadable');
});
