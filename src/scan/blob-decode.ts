// Turn the raw bytes of a blob into its uncompressed bytes, hashing the raw bytes on the way.
// From a file with igzip / zstd: `dd` feeds the tool the blob's byte range (no blob byte passes
// through Node on the way in), the tool's output is read here or by a helper thread, and the range
// is hashed by a separate read here.
// Else with Node's decoders, in the calling thread or in a helper thread: Node's zlib needs its
// driving thread for every step, so decompressing in a thread that does nothing else lets the tar
// walk and the detectors run in parallel with it instead of taking turns.
import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { open, type FileHandle } from 'node:fs/promises';
import { Readable, type Duplex } from 'node:stream';
import { CHUNK, createDecompressor, probeNativeZstd, SNIFF_BYTES, sniffCompression, type Compression } from './compression.js';
import { hashRange, type RangeDigest } from './blob-hash.js';
import { findDecodeTool, findRangeReader, markToolBroken, type DecodeTool } from './decoders/decode-tools.js';
import { decodeRangeWithTool, RangeReadError, ToolDecodeError, ToolStartError, ToolStoppedEarly, type ToolInput } from './decoders/tool-decode.js';
import { createProcessDecompressor } from './nested/process-decompressor.js';
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

/** Options of a decode from a file. */
export interface DecodeOptions {
  /** Use igzip / zstd when they are on PATH (see decoders/decode-tools.ts). */
  tools?: boolean;
  /** Decode in a helper thread (Node's decoder; or reading a tool's output, the hashing staying here). */
  offThread?: boolean;
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

/**
 * The decompressor of a stream: Node's, except zstd on a Node without its own (fzstd, pure
 * JavaScript, several times slower) when `tools` allows the zstd binary and it is on PATH: the
 * stream's bytes go through its stdin (a stream has no file for dd to read).
 */
async function streamDecompressor(kind: Compression, tools: boolean): Promise<{ decompressor: Duplex | null; decoder: DecoderName }> {
  if (kind === 'zstd' && tools && !probeNativeZstd()) {
    const tool = await findDecodeTool('zstd');
    if (tool) return { decompressor: createProcessDecompressor({ command: tool.path, args: [...tool.args], packageName: 'zstd' }), decoder: 'zstd' };
  }
  return { decompressor: createDecompressor(kind), decoder: nodeDecoderName(kind) };
}

/**
 * Decode in this thread with Node's decoders (with `tools`, zstd through the zstd binary when Node
 * has no zstd of its own), hashing the raw bytes on the way.
 */
export function decodeInThread(input: Readable, options: { hash?: boolean; tools?: boolean } = {}): DecodedBlob {
  const hashing = options.hash ?? true;
  const hash = createHash('sha256');
  let blobBytes = 0;
  let decoder: DecoderName = 'none';
  const { promise: compression, resolve: sniffed, reject: failed } = compressionPromise();

  async function* raw(): AsyncGenerator<Buffer> {
    try {
      for await (const chunk of input as AsyncIterable<Buffer>) {
        if (hashing) hash.update(chunk);
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
    const chosen = await streamDecompressor(kind, options.tools ?? false);
    decoder = chosen.decoder;
    const decompressor = chosen.decompressor;
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
      // A decoder process left behind by an early stop would wait on its stdin for good.
      decompressor.destroy();
    }
  }

  return {
    compression,
    chunks: chunks(),
    info: () => ({ blobDigest: hashing ? `sha256:${hash.digest('hex')}` : '', blobBytes }),
    decoder: () => decoder,
  };
}

/** Corrupt data reads the same whichever decoder found it; only the parenthesis names it and its words. */
function corruptData(kind: Compression, decoder: DecoderName, reason: string): DecodeError {
  const detail = reason.replace(/^zstd data is corrupt or truncated \((.*)\)$/s, '$1');
  return new DecodeError('decompress', `${kind} decompression failed: the ${kind} data is corrupt or truncated (${decoder}: ${detail})`);
}

/** A tool's failure on the data reads like Node's; dd's is a read error; others (ToolStoppedEarly) pass. */
function toolError(error: unknown, kind: Compression, decoder: DecoderName): unknown {
  if (error instanceof ToolDecodeError) return corruptData(kind, decoder, error.message);
  if (error instanceof RangeReadError) return new DecodeError('read', error.message);
  return error;
}

/** Messages from the decode thread. */
type DecodeMessage =
  | { type: 'compression'; compression: Compression; decoder: DecoderName }
  | { type: 'chunk'; data: Uint8Array }
  | { type: 'end'; info: DecodeInfo }
  | { type: 'error'; stage: 'read' | 'decompress'; message: string; code?: string };

const IN_FLIGHT = 4;

/** A helper thread's messages, taken one at a time in arrival order (next() waits for the next one). */
function messageQueue<T>(): { push(message: T): void; next(): Promise<T> } {
  const queue: T[] = [];
  let wake: (() => void) | null = null;
  return {
    push(message) {
      queue.push(message);
      wake?.();
      wake = null;
    },
    async next() {
      while (queue.length === 0) await new Promise<void>((resolve) => (wake = resolve));
      return queue.shift()!;
    },
  };
}

/** Decode with Node's decoders in a helper thread; chunks arrive transferred (no copy here), a few in flight. */
export function decodeOffThread(location: BlobLocation, options: { hash?: boolean } = {}): DecodedBlob {
  const worker = startScanWorker('blob-decode-worker', { workerData: { mode: 'decode', location, hash: options.hash ?? true } });
  const inbox = messageQueue<Exclude<DecodeMessage, { type: 'compression' }>>();
  let info: DecodeInfo | null = null;
  const { promise: compression, resolve: sniffed, reject: failed } = compressionPromise();
  let decoder: DecoderName = 'none';
  const push = (message: DecodeMessage) => {
    if (message.type === 'compression') {
      sniffed(message.compression);
      decoder = message.decoder;
      return;
    }
    if (message.type === 'error') failed(new DecodeError(message.stage, message.message, message.code));
    inbox.push(message);
  };
  worker.on('message', push);
  worker.on('error', (error) => push({ type: 'error', stage: 'read', message: `decode thread failed: ${error.message}` }));
  worker.on('exit', (code) => {
    if (info === null) push({ type: 'error', stage: 'read', message: `decode thread exited (${code}) before the end of the blob` });
  });

  async function* chunks(): AsyncGenerator<Uint8Array> {
    try {
      for (;;) {
        const message = await inbox.next();
        if (message.type === 'chunk') {
          yield message.data;
          worker.postMessage('ack');
        } else if (message.type === 'end') {
          info = message.info;
          return;
        } else {
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

/** Hashing of a range in progress: its result, and a way to stop it (resolves once it stopped). */
interface Hashing {
  result: Promise<RangeDigest>;
  stop(): Promise<void>;
}

function hashRangeHere(fd: number, location: BlobLocation): Hashing {
  let stopped = false;
  const result = hashRange(fd, location.offset, location.size, () => stopped);
  result.catch(() => undefined);
  return {
    result,
    stop: async () => {
      stopped = true;
      await result.catch(() => undefined);
    },
  };
}

type ToolMessage = { type: 'chunk'; data: Uint8Array } | { type: 'end' } | { type: 'error'; name: string; message: string };

/** The tool errors a decode thread reports, rebuilt with their class (the caller tells them apart). */
function toolErrorFrom(message: { name: string; message: string }): Error {
  for (const Kind of [ToolStartError, ToolDecodeError, ToolStoppedEarly, RangeReadError]) if (message.name === Kind.name) return new Kind(message.message);
  return new DecodeError('read', message.message);
}

/**
 * decodeRangeWithTool in a helper thread: a thread that does nothing else keeps reading the tool's
 * output (a pipe holds only 64 KiB, so a busy reader would stall the tool), joins it into blocks and
 * hands them over transferred, a few in flight.
 */
async function* decodeRangeOffThread(tool: DecodeTool, input: ToolInput): AsyncGenerator<Uint8Array> {
  const worker = startScanWorker('blob-decode-worker', { workerData: { mode: 'tool', tool, input } });
  const inbox = messageQueue<ToolMessage>();
  const push = (message: ToolMessage) => inbox.push(message);
  let exited = false;
  const exit = new Promise<void>((resolve) =>
    worker.once('exit', () => {
      exited = true;
      resolve();
    }),
  );
  worker.on('message', push);
  worker.on('error', (error) => push({ type: 'error', name: 'Error', message: `decode thread failed: ${error.message}` }));
  void exit.then(() => push({ type: 'error', name: 'Error', message: 'decode thread exited before the end of the blob' }));
  let done = false;
  try {
    for (;;) {
      const message = await inbox.next();
      if (message.type === 'chunk') {
        yield message.data;
        worker.postMessage('ack');
      } else if (message.type === 'end') {
        done = true;
        return;
      } else {
        done = true;
        throw toolErrorFrom(message);
      }
    }
  } finally {
    // Stopped early: the thread ends the tool and dd and waits for them, then exits.
    if (!done && !exited) {
      worker.postMessage('stop');
      await Promise.race([exit, new Promise((resolve) => setTimeout(resolve, STOP_WAIT_MS).unref())]);
    }
    await worker.terminate();
  }
}

/** How long a decode thread gets to end its tool before it is terminated (the tool then ends on its closed pipes). */
const STOP_WAIT_MS = 5000;

/**
 * Node's decoder in a helper thread, a compressed range hashed here: the helper thread (inflating)
 * is the busier one, this one mostly waits for its chunks.
 */
function decodeOffThreadHashedHere(location: BlobLocation): DecodedBlob {
  const { promise: compression, resolve: sniffed, reject: failed } = compressionPromise();
  let inner: DecodedBlob | null = null;
  let info: DecodeInfo | null = null;
  async function* chunks(): AsyncGenerator<Uint8Array> {
    let handle: FileHandle;
    try {
      handle = await open(location.file, 'r');
    } catch (error) {
      const decodeError = asDecodeError(error, 'read', 'read');
      failed(decodeError);
      throw decodeError;
    }
    // An uncompressed blob is only read there: hashing stays with the reading.
    let plain: boolean;
    try {
      const head = Buffer.alloc(SNIFF_BYTES);
      const { bytesRead } = await handle.read(head, 0, Math.min(SNIFF_BYTES, location.size), location.offset);
      plain = sniffCompression(head.subarray(0, bytesRead)) === 'none';
    } catch (error) {
      await handle.close();
      const decodeError = asDecodeError(error, 'read', 'read');
      failed(decodeError);
      throw decodeError;
    }
    if (plain) {
      await handle.close();
      const decoding = decodeOffThread(location);
      inner = decoding;
      decoding.compression.then(sniffed, failed);
      yield* decoding.chunks;
      return;
    }
    const hashing = hashRangeHere(handle.fd, location);
    let hashed = false;
    try {
      const decoding = decodeOffThread(location, { hash: false });
      inner = decoding;
      decoding.compression.then(sniffed, failed);
      yield* decoding.chunks;
      info = await hashing.result;
      hashed = true;
    } finally {
      if (!hashed) await hashing.stop();
      await handle.close();
    }
  }
  return {
    compression,
    chunks: chunks(),
    info: () => info ?? inner?.info() ?? { blobDigest: '', blobBytes: 0 },
    decoder: () => inner?.decoder() ?? 'none',
  };
}

/**
 * Decode a blob in a file: through igzip / zstd when asked and on PATH (with `dd` to read the
 * range), else with Node's decoders (in a helper thread when `offThread`).
 */
export function decodeBlobLocation(location: BlobLocation, options: DecodeOptions = {}): DecodedBlob {
  const viaNode = () => (options.offThread ? decodeOffThreadHashedHere(location) : decodeInThread(openBlobLocation(location)));
  if (!options.tools) return viaNode();
  const { promise: compression, resolve: sniffed, reject: failed } = compressionPromise();
  let decoder: DecoderName = 'none';
  let info: DecodeInfo | null = null;
  let fallback: DecodedBlob | null = null;

  async function* chunks(): AsyncGenerator<Uint8Array> {
    let handle: FileHandle;
    let kind: Compression;
    try {
      handle = await open(location.file, 'r');
    } catch (error) {
      const decodeError = asDecodeError(error, 'read', 'read');
      failed(decodeError);
      throw decodeError;
    }
    try {
      const head = Buffer.alloc(SNIFF_BYTES);
      try {
        const { bytesRead } = await handle.read(head, 0, Math.min(SNIFF_BYTES, location.size), location.offset);
        kind = sniffCompression(head.subarray(0, bytesRead));
      } catch (error) {
        const decodeError = asDecodeError(error, 'read', 'read');
        failed(decodeError);
        throw decodeError;
      }
      sniffed(kind);
      const tool = await findDecodeTool(kind);
      const rangeReader = tool ? await findRangeReader() : null;
      if (tool && rangeReader) {
        // Hashed here (a thread that mostly waits for the tool's output); decoded off this thread when asked.
        const hashing = hashRangeHere(handle.fd, location);
        let hashed = false;
        try {
          const input: ToolInput = { fd: handle.fd, offset: location.offset, size: location.size, rangeReader };
          const decoding = options.offThread ? decodeRangeOffThread(tool, input) : decodeRangeWithTool(tool, input);
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
              if (!first.done) {
                yield first.value;
                yield* decoding;
              }
            } catch (error) {
              throw toolError(error, kind, tool.name);
            } finally {
              // A reader that stops early: end the tool and wait for it (a no-op once it finished).
              await decoding.return(undefined);
            }
            info = await hashing.result;
            hashed = true;
            return;
          }
        } finally {
          if (!hashed) await hashing.stop();
        }
      }
    } finally {
      await handle.close();
    }
    fallback = viaNode();
    // Sniffed already; the fallback's own sniff says the same.
    fallback.compression.catch(() => undefined);
    decoder = nodeDecoderName(kind);
    yield* fallback.chunks;
  }

  return {
    compression,
    chunks: chunks(),
    info: () => info ?? fallback?.info() ?? { blobDigest: '', blobBytes: 0 },
    decoder: () => (fallback ? fallback.decoder() : decoder),
  };
}
