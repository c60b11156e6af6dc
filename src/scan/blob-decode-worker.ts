// Decode thread, in one of two modes, handing uncompressed chunks to the scanning thread
// (transferred), never more than a few ahead of what it has consumed. 'decode': reads, hashes
// (unless the scanning thread does) and decompresses one blob with Node's decoders. 'tool': reads
// the output of igzip / zstd, which dd feeds from the scanning thread's descriptor (that thread
// hashes the range).
import { parentPort, workerData } from 'node:worker_threads';
import type { BlobLocation } from './blob-decode.js';
import type { DecodeTool } from './decoders/decode-tools.js';
import type { ToolInput } from './decoders/tool-decode.js';

const port = parentPort!;

type Job = { mode: 'decode'; location: BlobLocation; hash: boolean } | { mode: 'tool'; tool: DecodeTool; input: ToolInput };
const job = workerData as Job;

async function tool(decodeTool: DecodeTool, input: ToolInput): Promise<void> {
  const { decodeRangeWithTool } = await import('./decoders/tool-decode.js');
  let credits = DECODE_IN_FLIGHT_TOOL;
  let stop = false;
  let resume: (() => void) | null = null;
  port.on('message', (message) => {
    if (message === 'ack') credits++;
    if (message === 'stop') stop = true;
    resume?.();
    resume = null;
  });
  try {
    for await (const chunk of decodeRangeWithTool(decodeTool, input)) {
      // Blocks of the tool's output are buffers of their own (sent as they are); the last may be a view.
      const data = chunk.byteOffset === 0 && chunk.byteLength === chunk.buffer.byteLength ? chunk : Uint8Array.prototype.slice.call(chunk);
      while (credits === 0 && !stop) await new Promise<void>((resolve) => (resume = resolve));
      // Leaving the loop ends the tool and dd and waits for them.
      if (stop) break;
      credits--;
      port.postMessage({ type: 'chunk', data }, [data.buffer as ArrayBuffer]);
    }
    if (!stop) port.postMessage({ type: 'end' });
  } catch (error) {
    port.postMessage({ type: 'error', name: error instanceof Error ? error.name : 'Error', message: error instanceof Error ? error.message : String(error) });
  }
  port.close();
}

/** Blocks in flight from a tool (about 1 MiB each). */
const DECODE_IN_FLIGHT_TOOL = 4;

async function decode(location: BlobLocation, hash: boolean): Promise<void> {
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
  const decoded = decodeInThread(openBlobLocation(location), { hash });
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

void (job.mode === 'tool' ? tool(job.tool, job.input) : decode(job.location, job.hash));
