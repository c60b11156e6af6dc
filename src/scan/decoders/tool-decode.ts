// Decompress through an external tool (igzip, zstd) in a child process: `dd` reads the blob's byte
// range from the file into its stdin (the caller hashes the same range separately), its stdout
// comes back to the thread that walks the tar. The children are always waited for: killed when the
// reader stops early, killed when this process exits, never left as zombies.
import { spawn, type ChildProcess, type StdioOptions } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { gzipSync } from 'node:zlib';
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

/** Decoder and dd processes still running (tests check that none outlives its scan). */
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

/** Output block size handed to the tar walk. */
const BLOCK_BYTES = 1 << 20;

/** Join `parts` (`size` bytes) into one new buffer without its last `hold` bytes, and those bytes apart. */
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

/** The bytes a tool decodes: `size` bytes at `offset` of the open file `fd` (read by `rangeReader`). */
export interface ToolInput {
  fd: number;
  offset: number;
  size: number;
  /** Path of GNU dd (decode-tools.ts findRangeReader). */
  rangeReader: string;
}

/** The range reader failed to read the blob (an I/O error, not corrupt data). */
export class RangeReadError extends Error {
  override name = 'RangeReadError';
}

interface Started {
  child: ChildProcess;
  closed: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

/** Spawn and wait until it runs; ToolStartError when it cannot start. */
async function start(name: string, path: string, args: readonly string[], stdio: StdioOptions): Promise<Started> {
  const child = spawn(path, [...args], { stdio, windowsHide: true });
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
    throw new ToolStartError(`${name} could not be started: ${error instanceof Error ? error.message : String(error)}`);
  }
  track(child);
  return { child, closed };
}

function collectStderr(child: ChildProcess): () => string {
  let stderr = '';
  child.stderr!.on('data', (data: Buffer) => {
    if (stderr.length < STDERR_LIMIT) stderr += data.toString('utf8');
  });
  return () => stderr;
}

function lastLine(text: string, prefix: string): string | undefined {
  return text
    .trim()
    .split('\n')
    .filter(Boolean)
    .pop()
    ?.replace(new RegExp(`^${prefix}: `), '');
}

/**
 * Decode a byte range of a file with `tool`: `dd` reads the range straight into the tool's stdin
 * (no blob byte passes through this process on the way in), then this process appends the gzip
 * sentinel; the tool's stdout is yielded as it comes (pipe-sized chunks, no copy). Throws
 * ToolStartError before yielding anything when the tool or dd cannot start, ToolDecodeError when the
 * tool rejects the data, ToolStoppedEarly when it ignored a tail of the input (gzip: the sentinel; any tool: dd's unread range), and
 * RangeReadError when dd could not read the file. The caller hashes the same range itself.
 */
export async function* decodeRangeWithTool(tool: DecodeTool, input: ToolInput): AsyncGenerator<Uint8Array> {
  const decoder = await start(tool.name, tool.path, tool.args, ['pipe', 'pipe', 'pipe']);
  const stdin = decoder.child.stdin!;
  const stdout = decoder.child.stdout!;
  const toolStderr = collectStderr(decoder.child);
  // EPIPE when the tool exits early on corrupt data: its exit status says what happened.
  stdin.on('error', () => undefined);
  let reader: Started;
  try {
    // dd's stdin is the caller's descriptor (skip_bytes seeks it), its stdout the tool's stdin pipe.
    reader = await start(
      'dd',
      input.rangeReader,
      ['iflag=skip_bytes,count_bytes', `skip=${input.offset}`, `count=${input.size}`, 'bs=1M', 'status=none'],
      [input.fd, stdin, 'pipe'],
    );
  } catch (error) {
    decoder.child.kill('SIGKILL');
    stdout.destroy();
    await decoder.closed;
    throw error;
  }
  const readerStderr = collectStderr(reader.child);
  const sentinel = tool.name === 'igzip' ? gzipSentinel() : null;
  let stopping = false;
  // The tool's stdin is shared with dd, and spawning made it blocking (children get blocking stdio):
  // this process never writes to it, or it could block its own thread. The sentinel goes in through
  // a second dd, after every byte of the range did.
  if (!sentinel) stdin.destroy();
  const fed = reader.closed.then(async ({ code, signal }) => {
    if (stopping || code !== 0 || !sentinel) {
      stdin.destroy();
      // A read error: stop the tool (its own verdict on a cut stream would be misleading).
      if (!stopping && code !== 0 && signal !== 'SIGPIPE') decoder.child.kill('SIGKILL');
      return { ok: !stopping && code === 0, signal };
    }
    let writer: Started;
    try {
      writer = await start('dd', input.rangeReader, ['status=none'], ['pipe', stdin, 'ignore']);
    } catch {
      return { ok: false, signal: null };
    } finally {
      stdin.destroy();
    }
    writer.child.stdin!.on('error', () => undefined);
    writer.child.stdin!.end(sentinel.member);
    const wrote = await writer.closed;
    return { ok: wrote.code === 0, signal: wrote.signal };
  });

  // Pipe reads are 64 KiB at most; the tar walk and the detectors pay per chunk, so the output is
  // joined into blocks of about BLOCK_BYTES (one copy), holding back the last bytes: they may be
  // the sentinel's marker.
  const hold = sentinel ? sentinel.marker.length : 0;
  let pending: Buffer[] = [];
  let pendingBytes = 0;
  let finished = false;
  try {
    for await (const data of stdout as AsyncIterable<Buffer>) {
      pending.push(data);
      pendingBytes += data.length;
      if (pendingBytes >= BLOCK_BYTES + hold) {
        const { block, kept } = splitTail(pending, pendingBytes, hold);
        pending = hold ? [kept] : [];
        pendingBytes = hold;
        yield block;
      }
    }
    const { code, signal } = await decoder.closed;
    const read = await reader.closed;
    const feeding = await fed;
    // dd killed by SIGPIPE: the tool stopped reading (checked below); any other failure: a read error.
    if (read.code !== 0 && read.signal !== 'SIGPIPE') {
      throw new RangeReadError(`reading the blob failed (dd: ${lastLine(readerStderr(), 'dd') ?? (read.signal ? `killed by ${read.signal}` : `exit status ${read.code}`)})`);
    }
    if (code !== 0) throw new ToolDecodeError(lastLine(toolStderr(), tool.name) ?? (signal ? `killed by ${signal}` : `exit status ${code}`));
    // The tool ended well but left part of the range unread (dd hit a closed pipe): whatever it
    // ignored was never scanned, so the blob is read again with Node's decoder, whose verdict counts.
    if (read.signal === 'SIGPIPE') throw new ToolStoppedEarly(`${tool.name} stopped reading before the end of the blob`);
    const rest = pending.length === 1 ? pending[0]! : Buffer.concat(pending, pendingBytes);
    if (sentinel) {
      if (!feeding.ok || rest.length < hold || !rest.subarray(rest.length - hold).equals(sentinel.marker)) {
        throw new ToolStoppedEarly(`${tool.name} stopped before the end of the blob (bytes after the gzip stream)`);
      }
      if (rest.length > hold) yield rest.subarray(0, rest.length - hold);
    } else if (rest.length > 0) {
      yield rest;
    }
    finished = true;
  } finally {
    if (!finished) {
      // Stopped early (an error, or the reader gave up): end both children and wait for them.
      stopping = true;
      reader.child.kill('SIGKILL');
      decoder.child.kill('SIGKILL');
      stdout.destroy();
      await Promise.all([reader.closed, decoder.closed, fed]);
    }
  }
}
