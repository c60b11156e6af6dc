/**
 * A file as the body of a blob upload: read in 1 MiB chunks as the request pulls them (so memory does
 * not grow with the blob), hashed on the way, and the last chunk withheld until the bytes are known
 * to hash to the digest they are pushed as. A file that does not match therefore never completes an
 * upload: the request fails with the mismatch, whatever the registry would have done with it.
 */
import { open, type FileHandle } from 'node:fs/promises';
import { EicBuildError } from '../errors.js';
import { createDigestHash, digestMismatch } from './digest.js';

const CHUNK_BYTES = 1024 * 1024;

const CHANGED_AFTER_SCAN = 'the file changed after it was scanned, or the image layout is corrupt: build (and scan) again';

/** The error for a file whose bytes are not the blob it is to be pushed as. */
export function fileDigestMismatch(path: string, actual: string, expected: string): EicBuildError {
  return digestMismatch(path, actual, expected, CHANGED_AFTER_SCAN);
}

/** The error for a file whose size is not its descriptor's: `what` says how (e.g. `is 12 bytes`). */
export function fileSizeMismatch(path: string, what: string, expected: number): EicBuildError {
  return new EicBuildError('input-corrupt', `${path} ${what}, but its descriptor says ${expected} bytes`, { hint: CHANGED_AFTER_SCAN });
}

/**
 * A web stream of the `size` bytes of `path` that errors (with a digest-mismatch EicBuildError
 * naming the file and both digests) instead of delivering its last chunk when they do not hash to
 * `digest`. `onRead` is called after every chunk (the caller's idle timer), `onEnd` once the last
 * chunk has been delivered. Opened lazily, closed at the end, on error and on cancel.
 */
export function openVerifiedFileStream(path: string, digest: string, size: number, onRead: () => void = () => {}, onEnd: () => void = () => {}): ReadableStream<Uint8Array> {
  const hash = createDigestHash(digest);
  let handle: FileHandle | undefined;
  let position = 0;
  const close = async () => {
    const open = handle;
    handle = undefined;
    await open?.close().catch(() => {});
  };
  const fail = async (controller: ReadableStreamDefaultController<Uint8Array>, error: unknown) => {
    await close();
    controller.error(error);
  };
  // highWaterMark 0: nothing is read ahead of what the request asks for.
  return new ReadableStream<Uint8Array>(
    {
      async pull(controller) {
        try {
          handle ??= await open(path, 'r');
          const want = Math.min(CHUNK_BYTES, size - position);
          // One byte more than the rest at the end: a file that grew is caught, not silently cut.
          const buffer = Buffer.allocUnsafe(Math.max(want, 1));
          const { bytesRead } = await handle.read(buffer, 0, buffer.length, position);
          onRead();
          if (want === 0) {
            if (bytesRead > 0) return await fail(controller, fileSizeMismatch(path, 'is longer', size));
          } else if (bytesRead === 0) {
            return await fail(controller, fileSizeMismatch(path, `ended after ${position} bytes`, size));
          }
          const chunk = buffer.subarray(0, bytesRead);
          hash.update(chunk);
          position += bytesRead;
          if (position === size) {
            const actual = hash.digest();
            if (actual !== digest) return await fail(controller, fileDigestMismatch(path, actual, digest));
            // Past the end: nothing more may follow (checked before the last bytes are released).
            const extra = await handle.read(Buffer.alloc(1), 0, 1, size);
            if (extra.bytesRead > 0) return await fail(controller, fileSizeMismatch(path, 'is longer', size));
            await close();
            if (chunk.length > 0) controller.enqueue(chunk);
            controller.close();
            onEnd();
            return;
          }
          controller.enqueue(chunk);
        } catch (error) {
          await fail(
            controller,
            error instanceof EicBuildError ? error : new EicBuildError('input-unreadable', `cannot read ${path}: ${(error as Error).message}`, { cause: error }),
          );
        }
      },
      async cancel() {
        await close();
      },
    },
    { highWaterMark: 0 },
  );
}
