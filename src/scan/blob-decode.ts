// Turn the raw bytes of a blob into its uncompressed bytes, hashing the raw bytes on the way.
// In the calling thread, or in a helper thread: Node's zlib needs its driving thread for every
// step, so decompressing in a thread that does nothing else lets the tar walk and the detectors run
// in parallel with it instead of taking turns.
import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { Readable } from 'node:stream';
import { CHUNK, createDecompressor, probeNativeZstd, SNIFF_BYTES, sniffCompression, type Compression } from './compression.js';
import { findDecodeTool, markToolBroken } from './decoders/decode-tools.js';
import { decodeWithTool, ToolDecodeError, ToolStartError, ToolStoppedEarly } from './decoders/tool-decode.js';
import { startScanWorker } from './start-worker.js';

export { ToolStoppedEarly };

/** Where a blob's bytes are inside a file (a plain blob file, or a member of an outer tar). */
export interface BlobLocation {
  file: string;
  offset: number;
  size: number;
}

/** Facts about the raw blob, known once all of it was read. */
export interface DecodeInfo {
  blobDigest: string;
  blobBytes: number;
}

/** What decompressed a blob: an external tool, Node's zlib, Node's zstd, fzstd, or nothing. */
export type DecoderName = 'igzip' | 'zstd' | 'zlib' | 'node-zstd' | 'fzstd' | 'none';

/** A blob being decoded: its compression (sniffed first), its uncompressed bytes, then its facts. */
export interface DecodedBlob {
  compression: Promise<Compression>;
  chunks: AsyncIterable<Uint8Array>;
  /** Valid after `chunks` is exhausted. */
  info(): DecodeInfo;
  /** Valid after the first chunk. */
  decoder(): DecoderName;
}

/** The decoder Node itself uses for `compression` (no external tool). */
export function nodeDecoderName(compression: Compression): DecoderName {
  return compression === 'gzip' ? 'zlib' : compression === 'zstd' ? (probeNativeZstd() ? 'node-zstd' : 'fzstd') : 'none';
}

/** Options of a decode. */
export interface DecodeOptions {
  /** Use igzip / zstd when they are on PATH (see decoders/decode-tools.ts). */
  tools?: boolean;
}

/** A failure while reading or decompressing, with the stage it happened in. */
export class DecodeError extends Error {
  override name = 'DecodeError';
  constructor(
    readonly stage: 'read' | 'decompress',
    message: string,
    readonly code?: string,
  ) {
    super(message);
  }
}

/** Open a blob location as a stream with large reads. */
export function openBlobLocation(location: BlobLocation): Readable {
  // createReadStream cannot express an empty range; an empty blob is an empty stream.
  if (location.size === 0) return Readable.from([]);
  return createReadStream(location.file, { start: location.offset, end: location.offset + location.size - 1, highWaterMark: CHUNK });
}

function asDecodeError(error: unknown, stage: 'read' | 'decompress', label: string): DecodeError {
  if (error instanceof DecodeError) return error;
  const message = error instanceof Error ? error.message : String(error);
  const code = (error as NodeJS.ErrnoException | undefined)?.code;
  return new DecodeError(stage, stage === 'decompress' ? `${label} failed: ${message}` : message, code);
}

/** The compression a decode sniffs, settled later; a rejection nobody awaits is not unhandled. */
function compressionPromise(): { promise: Promise<Compression>; resolve: (compression: Compression) => void; reject: (error: unknown) => void } {
  let resolve: (compression: Compression) => void = () => undefined;
  let reject: (error: unknown) => void = () => undefined;
  const promise = new Promise<Compression>((ok, fail) => {
    resolve = ok;
    reject = fail;
  });
  promise.catch(() => undefined);
  return { promise, resolve, reject };
}

/** Decode in this thread (through an external tool when asked and available). */
export function decodeInThread(input: Readable, options: DecodeOptions = {}): DecodedBlob {
  const hash = createHash('sha256');
  let blobBytes = 0;
  let decoder: DecoderName = 'none';
  const { promise: compression, resolve: sniffed, reject: failed } = compressionPromise();

  async function* raw(): AsyncGenerator<Buffer> {
    try {
      for await (const chunk of input as AsyncIterable<Buffer>) {
        hash.update(chunk);
        blobBytes += chunk.length;
        yield chunk;
      }
    } catch (error) {
      throw asDecodeError(error, 'read', 'read');
    }
  }

  async function* chunks(): AsyncGenerator<Uint8Array> {
    const iterator = raw()[Symbol.asyncIterator]();
    const head: Buffer[] = [];
    let headLength = 0;
    let finished = false;
    try {
      while (headLength < SNIFF_BYTES) {
        const next = await iterator.next();
        if (next.done) {
          finished = true;
          break;
        }
        head.push(next.value);
        headLength += next.value.length;
      }
    } catch (error) {
      failed(error);
      throw error;
    }
    const kind = sniffCompression(Buffer.concat(head));
    sniffed(kind);
    async function* replay(): AsyncGenerator<Buffer> {
      yield* head;
      if (finished) return;
      for (;;) {
        const next = await iterator.next();
        if (next.done) return;
        yield next.value;
      }
    }
    const tool = options.tools ? await findDecodeTool(kind) : null;
    if (tool) {
      const decoding = decodeWithTool(tool, replay());
      let first: IteratorResult<Uint8Array> | null = null;
      try {
        first = await decoding.next();
      } catch (error) {
        // Missing or not startable (after its probe): Node decodes instead, from the same bytes.
        if (!(error instanceof ToolStartError)) throw toolError(error, kind, tool.name);
        markToolBroken(tool);
      }
      if (first) {
        decoder = tool.name;
        try {
          if (first.done) return;
          yield first.value;
          yield* decoding;
        } catch (error) {
          throw toolError(error, kind, tool.name);
        } finally {
          // A reader that stops early: end the tool and wait for it (a no-op once it finished).
          await decoding.return(undefined);
        }
        return;
      }
    }
    decoder = nodeDecoderName(kind);
    const decompressor = createDecompressor(kind);
    if (!decompressor) {
      yield* replay();
      return;
    }
    const source = Readable.from(replay(), { objectMode: false, highWaterMark: CHUNK });
    let readError: unknown = null;
    source.on('error', (error) => {
      readError = error;
      decompressor.destroy(error);
    });
    // Failures surface through the iteration below; a late one after it stopped must not crash.
    decompressor.on('error', () => undefined);
    source.pipe(decompressor);
    try {
      for await (const chunk of decompressor as AsyncIterable<Buffer>) yield chunk;
    } catch (error) {
      if (readError) throw asDecodeError(readError, 'read', 'read');
      throw corruptData(kind, decoder, error instanceof Error ? error.message : String(error));
    } finally {
      source.destroy();
    }
  }

  return {
    compression,
    chunks: chunks(),
    info: () => ({ blobDigest: `sha256:${hash.digest('hex')}`, blobBytes }),
    decoder: () => decoder,
  };
}

/** Corrupt data reads the same whichever decoder found it; only the parenthesis names it and its words. */
function corruptData(kind: Compression, decoder: DecoderName, reason: string): DecodeError {
  const detail = reason.replace(/^zstd data is corrupt or truncated \((.*)\)$/s, '$1');
  return new DecodeError('decompress', `${kind} decompression failed: the ${kind} data is corrupt or truncated (${decoder}: ${detail})`);
}

/** A tool's failure on the data reads like Node's; other errors (read errors, ToolStoppedEarly) pass. */
function toolError(error: unknown, kind: Compression, decoder: DecoderName): unknown {
  return error instanceof ToolDecodeError ? corruptData(kind, decoder, error.message) : error;
}

/** Messages from the decode thread. */
type DecodeMessage =
  | { type: 'compression'; compression: Compression; decoder: DecoderName }
  | { type: 'chunk'; data: Uint8Array }
  | { type: 'end'; info: DecodeInfo }
  | { type: 'error'; stage: 'read' | 'decompress'; message: string; code?: string; stoppedEarly?: boolean };

const IN_FLIGHT = 4;

/**
 * Decode in a helper thread; chunks arrive transferred (no copy on this thread), a few in flight.
 * With a tool, the helper thread reads, hashes and feeds it, and this thread only scans.
 */
export function decodeOffThread(location: BlobLocation, options: DecodeOptions = {}): DecodedBlob {
  const worker = startScanWorker('blob-decode-worker', { workerData: { location, tools: options.tools ?? false } });
  const queue: DecodeMessage[] = [];
  let wake: (() => void) | null = null;
  let info: DecodeInfo | null = null;
  const { promise: compression, resolve: sniffed, reject: failed } = compressionPromise();
  let decoder: DecoderName = 'none';
  const push = (message: DecodeMessage) => {
    if (message.type === 'compression') {
      sniffed(message.compression);
      decoder = message.decoder;
    }
    else queue.push(message);
    if (message.type === 'error') failed(new DecodeError(message.stage, message.message, message.code));
    wake?.();
    wake = null;
  };
  worker.on('message', push);
  worker.on('error', (error) => push({ type: 'error', stage: 'read', message: `decode thread failed: ${error.message}` }));
  worker.on('exit', (code) => {
    if (info === null) push({ type: 'error', stage: 'read', message: `decode thread exited (${code}) before the end of the blob` });
  });

  async function* chunks(): AsyncGenerator<Uint8Array> {
    try {
      for (;;) {
        while (queue.length === 0) await new Promise<void>((resolve) => (wake = resolve));
        const message = queue.shift()!;
        if (message.type === 'chunk') {
          yield message.data;
          worker.postMessage('ack');
        } else if (message.type === 'end') {
          info = message.info;
          return;
        } else if (message.type === 'error') {
          if (message.stoppedEarly) throw new ToolStoppedEarly(message.message);
          throw new DecodeError(message.stage, message.message, message.code);
        }
      }
    } finally {
      if (info === null) info = { blobDigest: '', blobBytes: 0 };
      void worker.terminate();
    }
  }
  return {
    compression,
    chunks: chunks(),
    info: () => info ?? { blobDigest: '', blobBytes: 0 },
    decoder: () => decoder,
  };
}

/** Protocol constant shared with the worker. */
export const DECODE_IN_FLIGHT = IN_FLIGHT;
