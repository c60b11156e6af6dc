// Decode thread: reads, hashes and decompresses one blob, and hands the uncompressed chunks to the
// scanning thread (transferred), never more than a few ahead of what it has consumed.
import { parentPort, workerData } from 'node:worker_threads';
import { DECODE_IN_FLIGHT, decodeInThread, DecodeError, openBlobLocation, type BlobLocation } from './blob-decode.js';

const port = parentPort!;
const { location } = workerData as { location: BlobLocation };
let credits = DECODE_IN_FLIGHT;
let resume: (() => void) | null = null;
port.on('message', (message) => {
  if (message === 'ack') {
    credits++;
    resume?.();
    resume = null;
  }
});

async function run(): Promise<void> {
  const decoded = decodeInThread(openBlobLocation(location));
  try {
    const compressionPromise = decoded.compression;
    let announced = false;
    for await (const chunk of decoded.chunks) {
      if (!announced) {
        port.postMessage({ type: 'compression', compression: await compressionPromise });
        announced = true;
      }
      // Own the bytes: zlib's output chunks are views into buffers it keeps writing to.
      const data = new Uint8Array(chunk.length);
      data.set(chunk);
      while (credits === 0) await new Promise<void>((resolve) => (resume = resolve));
      credits--;
      port.postMessage({ type: 'chunk', data }, [data.buffer as ArrayBuffer]);
    }
    if (!announced) port.postMessage({ type: 'compression', compression: await compressionPromise });
    port.postMessage({ type: 'end', info: decoded.info() });
  } catch (error) {
    const decodeError = error instanceof DecodeError ? error : new DecodeError('read', error instanceof Error ? error.message : String(error));
    port.postMessage({ type: 'error', stage: decodeError.stage, message: decodeError.message, code: decodeError.code });
  }
}

void run();
