// Decompress through an external tool (igzip, zstd) in a child process: the compressed bytes are
// written to its stdin as they are read (and hashed by the caller), its stdout comes back in large
// chunks. The child is always waited for: killed when the reader stops early, killed when this
// process exits, never left as a zombie.
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import type { Writable } from 'node:stream';
import { gzipSync } from 'node:zlib';
import { CHUNK } from '../compression.js';
import type { DecodeTool } from './decode-tools.js';

/** The tool could not be started (missing, not executable): the caller decodes with Node instead. */
export class ToolStartError extends Error {
  override name = 'ToolStartError';
}

/**
 * The tool stopped before the end of the input without an error: igzip ignores bytes after the
 * gzip stream that do not start a new member, where zlib rejects them (unless they start with a
 * zero byte). Such a blob is decoded again with Node, whose verdict is the reference.
 */
export class ToolStoppedEarly extends Error {
  override name = 'ToolStoppedEarly';
}

/** The tool failed on the data (exit status not 0): the data is corrupt or truncated. */
export class ToolDecodeError extends Error {
  override name = 'ToolDecodeError';
}

const live = new Set<ChildProcess>();
let exitHook = false;

function track(child: ChildProcess): void {
  if (!exitHook) {
    exitHook = true;
    // A scan cut short by process.exit (or a handled signal) must not leave a decoder running.
    process.on('exit', () => {
      for (const running of live) running.kill('SIGKILL');
    });
  }
  live.add(child);
  child.once('close', () => live.delete(child));
}

/** Decoder processes still running (tests check that none outlives its scan). */
export function liveToolCount(): number {
  return live.size;
}

const STDERR_LIMIT = 4096;

/**
 * A gzip member after the blob, holding a random marker: when the marker comes out of igzip last,
 * igzip read every byte of the blob as gzip (it silently ignores trailing bytes that are not a
 * gzip member, and would stop there). Random per decode, so no content can fake it.
 */
function gzipSentinel(): { member: Buffer; marker: Buffer } {
  const marker = randomBytes(16);
  return { marker, member: gzipSync(marker) };
}

/**
 * Join `parts` into one new buffer without its last `hold` bytes (a buffer of its own, so a decode
 * thread can transfer it without copying), and those bytes apart.
 */
function splitTail(parts: Buffer[], size: number, hold: number): { block: Buffer; kept: Buffer } {
  const block = Buffer.allocUnsafeSlow(size - hold);
  const kept = Buffer.allocUnsafe(hold);
  let at = 0;
  for (const part of parts) {
    const intoBlock = Math.max(0, Math.min(part.length, block.length - at));
    if (intoBlock > 0) part.copy(block, at, 0, intoBlock);
    if (intoBlock < part.length) part.copy(kept, at + intoBlock - block.length, intoBlock);
    at += part.length;
  }
  return { block, kept };
}

function waitWritable(stream: Writable): Promise<void> {
  return new Promise((resolve) => {
    const done = () => {
      stream.off('drain', done);
      stream.off('close', done);
      resolve();
    };
    stream.on('drain', done);
    stream.on('close', done);
  });
}

/**
 * Decode `input` with `tool`; yields the uncompressed bytes in chunks of about CHUNK bytes.
 * Throws ToolStartError before yielding anything when the tool cannot start, ToolDecodeError when it
 * rejects the data, ToolStoppedEarly (gzip only) when it ignored a tail of the input, and whatever
 * `input` throws (read errors) as it is.
 */
export async function* decodeWithTool(tool: DecodeTool, input: AsyncIterable<Uint8Array>): AsyncGenerator<Uint8Array> {
  const child = spawn(tool.path, [...tool.args], { stdio: ['pipe', 'pipe', 'pipe'], windowsHide: true });
  // Later errors (a kill racing the exit) surface through the exit status.
  child.on('error', () => undefined);
  const closed = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => child.once('close', (code, signal) => resolve({ code, signal })));
  try {
    await new Promise<void>((resolve, reject) => {
      child.once('spawn', resolve);
      child.once('error', reject);
    });
  } catch (error) {
    await closed;
    throw new ToolStartError(`${tool.name} could not be started: ${error instanceof Error ? error.message : String(error)}`);
  }
  track(child);
  const stdin = child.stdin!;
  const stdout = child.stdout!;
  let stderr = '';
  child.stderr!.on('data', (data: Buffer) => {
    if (stderr.length < STDERR_LIMIT) stderr += data.toString('utf8');
  });
  // EPIPE when the tool exits early on corrupt data: its exit status says what happened.
  stdin.on('error', () => undefined);

  const sentinel = tool.name === 'igzip' ? gzipSentinel() : null;
  let readError: unknown = null;
  let fedAll = false;
  let stopping = false;
  const feeding = (async () => {
    try {
      for await (const chunk of input) {
        if (stopping || stdin.destroyed) return;
        if (!stdin.write(chunk)) await waitWritable(stdin);
      }
      if (stopping || stdin.destroyed) return;
      fedAll = true;
      if (sentinel) stdin.write(sentinel.member);
      stdin.end();
    } catch (error) {
      readError = error;
      child.kill('SIGKILL');
    }
  })();

  // Large chunks keep the per-chunk work of the tar walk and the detectors small (pipes carry 64 KiB).
  const hold = sentinel ? sentinel.marker.length : 0;
  let parts: Buffer[] = [];
  let size = 0;
  let finished = false;
  try {
    for await (const data of stdout as AsyncIterable<Buffer>) {
      parts.push(data);
      size += data.length;
      if (size >= CHUNK + hold) {
        // Keep the last bytes back: they may be the sentinel's marker.
        const { block, kept } = splitTail(parts, size, hold);
        parts = hold ? [kept] : [];
        size = hold;
        yield block;
      }
    }
    const { code, signal } = await closed;
    await feeding;
    if (readError !== null) throw readError;
    if (code !== 0) {
      const said = stderr.trim().split('\n').filter(Boolean).pop()?.replace(new RegExp(`^${tool.name}: `), '');
      throw new ToolDecodeError(said ?? (signal ? `killed by ${signal}` : `exit status ${code}`));
    }
    const rest = Buffer.concat(parts, size);
    if (sentinel) {
      if (!fedAll || rest.length < hold || !rest.subarray(rest.length - hold).equals(sentinel.marker)) {
        throw new ToolStoppedEarly(`${tool.name} stopped before the end of the blob (bytes after the gzip stream)`);
      }
      if (rest.length > hold) yield rest.subarray(0, rest.length - hold);
    } else if (rest.length > 0) {
      yield rest;
    }
    finished = true;
  } finally {
    if (!finished) {
      // Stopped early (an error, or the reader gave up): end the child and wait for it.
      stopping = true;
      child.kill('SIGKILL');
      stdout.destroy();
      await closed;
      await feeding;
    }
  }
}
