// Decode thread: reads, hashes and decompresses one blob, and hands the uncompressed chunks to the
// scanning thread (transferred), never more than a few ahead of what it has consumed.
import { parentPort, workerData } from 'node:worker_threads';
import { DECODE_IN_FLIGHT, decodeInThread, DecodeError, openBlobLocation, ToolStoppedEarly, type BlobLocation } from './blob-decode.js';

const port = parentPort!;
const { location, tools } = workerData as { location: BlobLocation; tools: boolean };
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
  const decoded = decodeInThread(openBlobLocation(location), { tools });
  try {
    const compressionPromise = decoded.compression;
    let announced = false;
    for await (const chunk of decoded.chunks) {
      if (!announced) {
        port.postMessage({ type: 'compression', compression: await compressionPromise, decoder: decoded.decoder() });
        announced = true;
      }
      // Own the bytes: zlib's output chunks are views into buffers it keeps writing to; a tool's
      // chunks are buffers of their own (tool-decode.ts), sent as they are.
      const owned = decoded.decoder() === 'igzip' || decoded.decoder() === 'zstd';
      const data = owned && chunk.byteOffset === 0 && chunk.byteLength === chunk.buffer.byteLength ? chunk : Uint8Array.prototype.slice.call(chunk);
      while (credits === 0) await new Promise<void>((resolve) => (resume = resolve));
      credits--;
      port.postMessage({ type: 'chunk', data }, [data.buffer as ArrayBuffer]);
    }
    if (!announced) port.postMessage({ type: 'compression', compression: await compressionPromise, decoder: decoded.decoder() });
    port.postMessage({ type: 'end', info: decoded.info() });
  } catch (error) {
    if (error instanceof ToolStoppedEarly) {
      port.postMessage({ type: 'error', stage: 'decompress', message: error.message, stoppedEarly: true });
      return;
    }
    const decodeError = error instanceof DecodeError ? error : new DecodeError('read', error instanceof Error ? error.message : String(error));
    port.postMessage({ type: 'error', stage: decodeError.stage, message: decodeError.message, code: decodeError.code });
  }
}

void run();
