// Decode thread, in one of two modes. 'decode': reads, hashes and decompresses one blob with Node's
// decoders, and hands the uncompressed chunks to the scanning thread (transferred), never more than
// a few ahead of what it has consumed. 'hash': hashes a byte range of an open descriptor (the blob
// an external tool decompresses) and posts the digest.
import { parentPort, workerData } from 'node:worker_threads';
import type { BlobLocation } from './blob-decode.js';

const port = parentPort!;

type Job = { mode: 'decode'; location: BlobLocation } | { mode: 'hash'; fd: number; offset: number; size: number };
const job = workerData as Job;

async function hash(fd: number, offset: number, size: number): Promise<void> {
  // Only what hashing needs: this thread starts while the tool already runs.
  const { hashRangeSync } = await import('./blob-hash.js');
  try {
    port.postMessage({ type: 'digest', digest: hashRangeSync(fd, offset, size) });
  } catch (error) {
    port.postMessage({ type: 'error', message: error instanceof Error ? error.message : String(error), code: (error as NodeJS.ErrnoException).code });
  }
}

async function decode(location: BlobLocation): Promise<void> {
  const { DECODE_IN_FLIGHT, decodeInThread, DecodeError, openBlobLocation } = await import('./blob-decode.js');
  let credits = DECODE_IN_FLIGHT;
  let resume: (() => void) | null = null;
  port.on('message', (message) => {
    if (message === 'ack') {
      credits++;
      resume?.();
      resume = null;
    }
  });
  const decoded = decodeInThread(openBlobLocation(location));
  try {
    const compressionPromise = decoded.compression;
    let announced = false;
    for await (const chunk of decoded.chunks) {
      if (!announced) {
        port.postMessage({ type: 'compression', compression: await compressionPromise, decoder: decoded.decoder() });
        announced = true;
      }
      // Own the bytes: zlib's output chunks are views into buffers it keeps writing to.
      const data = Uint8Array.prototype.slice.call(chunk);
      while (credits === 0) await new Promise<void>((resolve) => (resume = resolve));
      credits--;
      port.postMessage({ type: 'chunk', data }, [data.buffer as ArrayBuffer]);
    }
    if (!announced) port.postMessage({ type: 'compression', compression: await compressionPromise, decoder: decoded.decoder() });
    port.postMessage({ type: 'end', info: decoded.info() });
  } catch (error) {
    const decodeError = error instanceof DecodeError ? error : new DecodeError('read', error instanceof Error ? error.message : String(error));
    port.postMessage({ type: 'error', stage: decodeError.stage, message: decodeError.message, code: decodeError.code });
  }
}

void (job.mode === 'hash' ? hash(job.fd, job.offset, job.size) : decode(job.location));
