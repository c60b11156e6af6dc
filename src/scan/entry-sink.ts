// What happens to the bytes of one file found in a layer: they go to a detector, and when they
// start like an archive (gzip, zstd, tar) the archive's inner files are scanned too, bounded.
import type { Transform } from 'node:stream';
import { createInflateRaw } from 'node:zlib';
import type { ContentFinding, ContentScanner, DetectorKeys, KeyIdentity } from './detector-api.js';
import { createDecompressor, sniffCompression, type Compression } from './compression.js';
import { waitForDrain } from './drain.js';
import { isMemberDuplicate, type MemberRange } from './member-dedupe.js';
import { BLOCK, parseTarHeader } from './tar-header.js';
import { TarStreamParser, type EntrySink, type TarEntry } from './tar-parser.js';

/** A finding inside a layer, before it is placed in an image. */
export interface LayerFinding extends ContentFinding {
  path: string | null;
  nestedPath: string | null;
}

/** Something worth saying about a layer that is not a leak. */
export interface LayerNote {
  kind: 'detector' | 'secret-mount-stub' | 'unsafe-name' | 'nested-bounded' | 'nested-unreadable' | 'raw-blob';
  detector: string | null;
  path: string | null;
  nestedPath: string | null;
  message: string;
}

/** Limits on archives found inside layers, so that a decompression bomb ends in a note, not a crash. */
export interface NestedLimits {
  /** Containers (tar) inside containers, counted from the layer. */
  maxDepth: number;
  /** Inflated bytes of nested compressed streams per layer. */
  maxInflatedBytes: number;
  /** Inflated/compressed ratio above which (past 16 MiB) a nested stream is treated as a bomb. */
  maxRatio: number;
}

/** Defaults: deep enough for a tar.gz in a tar.gz in a layer; generous enough for real content. */
export const DEFAULT_NESTED_LIMITS: NestedLimits = { maxDepth: 3, maxInflatedBytes: 4 * 1024 ** 3, maxRatio: 1000 };

/** Makes the streaming detector for one file (the detectors module's createContentScanner in production). */
export type ScannerFactory = (options: { path: string | null; knownKeys: KeyIdentity[]; allowKeys: string[] }) => ContentScanner;

/** Shared state of one layer scan. */
export interface ScanContext {
  createScanner: ScannerFactory;
  keys: DetectorKeys;
  findings: LayerFinding[];
  notes: LayerNote[];
  limits: NestedLimits;
  inflated: number;
  bytesScanned: number;
}

const COMPRESSED_SUFFIX = /\.(gz|tgz|zst|zstd)$/;

function innerNameOf(nestedPath: string | null, path: string | null, compression: Compression): string {
  const base = (nestedPath ?? path ?? 'blob').split('/').pop()!;
  const stripped = base.replace(/\.tgz$/, '.tar').replace(COMPRESSED_SUFFIX, '');
  return stripped === base ? `${base}:${compression}` : stripped;
}

function joinNested(prefix: string | null, name: string): string {
  return prefix ? `${prefix}/${name}` : name;
}

function looksLikeZip(head: Uint8Array): boolean {
  return head.length >= 4 && head[0] === 0x50 && head[1] === 0x4b && head[2] === 0x03 && head[3] === 0x04;
}

function looksLikeTar(head: Uint8Array): boolean {
  if (head.length < BLOCK) return false;
  return parseTarHeader(head).kind === 'header';
}

/**
 * The sink for one file: every byte goes to a content scanner; the first block decides whether the
 * file is also read as an archive (depth permitting).
 * `depth` counts archive containers already entered; `decodes` counts nested decompressions.
 */
export function createFileSink(
  ctx: ScanContext,
  path: string | null,
  nestedPath: string | null,
  depth: number,
  decodes = 0,
): EntrySink {
  // The detector judges names (e.g. `private-keys-v1.d/*.key`) by the innermost name.
  const scanner = ctx.createScanner({ path: nestedPath ?? path, knownKeys: ctx.keys.knownKeys, allowKeys: ctx.keys.allowKeys });
  const canNest = depth < ctx.limits.maxDepth && decodes < ctx.limits.maxDepth * 2;
  let decided = !canNest;
  let head: Uint8Array | null = null;
  let nested: EntrySink | null = null;
  // Where members sit verbatim in this file's bytes (an uncompressed tar or zip's stored members).
  let memberRanges: MemberRange[] = [];

  // Pick the nested reader from the first block and feed it that block.
  const decide = (bytes: Uint8Array): void | Promise<void> => {
    decided = true;
    head = null;
    const compression = sniffCompression(bytes);
    if (compression !== 'none') {
      const inner = createFileSink(ctx, path, innerNameOf(nestedPath, path, compression), depth, decodes + 1);
      nested = new DecompressSink(ctx, createDecompressor(compression)!, inner, path, nestedPath);
    } else if (looksLikeTar(bytes)) {
      const tar = new NestedTarSink(ctx, path, nestedPath, depth + 1, decodes);
      memberRanges = tar.memberRanges;
      nested = tar;
    } else if (looksLikeZip(bytes)) {
      const zip = new ZipStreamSink(ctx, path, nestedPath, depth + 1, decodes);
      memberRanges = zip.memberRanges;
      nested = zip;
    }
    if (nested && bytes.length > 0) return nested.write(bytes);
  };

  const then = (first: void | Promise<void>, next: () => void | Promise<void>): void | Promise<void> =>
    first ? first.then(next) : next();

  // Runs after the members ended, so their findings are in ctx.findings to compare with.
  const finish = (): void => {
    const result = scanner.end();
    const own = result.findings.map((finding): LayerFinding => ({ ...finding, path, nestedPath }));
    for (const finding of own) {
      // The same key already reported inside a member (more precise): once is enough.
      if (memberRanges.length > 0 && isMemberDuplicate(finding, memberRanges, ctx.findings)) continue;
      ctx.findings.push(finding);
    }
    for (const note of result.notes) {
      ctx.notes.push({ kind: 'detector', detector: note.detector, path, nestedPath, message: note.message });
    }
  };

  return {
    write(chunk) {
      scanner.write(chunk);
      if (nested) return nested.write(chunk);
      if (decided) return;
      // Collect the first block (usually all in the first chunk) before deciding.
      let bytes: Uint8Array;
      if (head === null) {
        bytes = chunk;
      } else {
        bytes = new Uint8Array(head.length + chunk.length);
        bytes.set(head);
        bytes.set(chunk, head.length);
      }
      if (bytes.length < BLOCK) {
        head = bytes === chunk ? chunk.slice() : bytes;
        return;
      }
      const rest = bytes.subarray(BLOCK);
      return then(decide(bytes.subarray(0, BLOCK)), () => (nested && rest.length > 0 ? nested.write(rest) : undefined));
    },
    end() {
      const decided$ = decided ? undefined : decide(head ?? new Uint8Array(0));
      return then(decided$, () => then(nested ? nested.end() : undefined, finish));
    },
  };
}

/** Decompress a nested stream and hand the inflated bytes to the sink of the inner file. */
class DecompressSink implements EntrySink {
  private readonly done: Promise<void>;
  private stopped = false;
  private compressedIn = 0;
  private inflatedOut = 0;

  constructor(
    private readonly ctx: ScanContext,
    private readonly stream: Transform,
    inner: EntrySink,
    private readonly path: string | null,
    private readonly nestedPath: string | null,
  ) {
    // Failures surface through the loop below; a late one (a write racing a failure) must not crash.
    stream.on('error', () => undefined);
    this.done = (async () => {
      try {
        for await (const chunk of stream as AsyncIterable<Buffer>) {
          this.inflatedOut += chunk.length;
          ctx.inflated += chunk.length;
          const bound = this.boundReason();
          if (bound) {
            this.stop('nested-bounded', bound);
            return;
          }
          const written = inner.write(chunk);
          if (written) await written;
        }
        const ended = inner.end();
        if (ended) await ended;
      } catch (error) {
        // Not a valid compressed stream after all (or truncated): the raw bytes were still scanned.
        this.stop('nested-unreadable', `could not decompress (${error instanceof Error ? error.message : String(error)})`);
      }
    })();
  }

  private boundReason(): string | null {
    const limits = this.ctx.limits;
    if (this.ctx.inflated > limits.maxInflatedBytes) {
      return `nested archives in this layer inflate past ${limits.maxInflatedBytes} bytes; the rest of this one was not unpacked`;
    }
    if (this.inflatedOut > 16 * 1024 * 1024 && this.inflatedOut > this.compressedIn * limits.maxRatio) {
      return `inflates more than ${limits.maxRatio}x (decompression bomb?); unpacking stopped after ${this.inflatedOut} bytes`;
    }
    return null;
  }

  private stop(kind: LayerNote['kind'], message: string): void {
    if (this.stopped) return;
    this.stopped = true;
    this.ctx.notes.push({ kind, detector: null, path: this.path, nestedPath: this.nestedPath, message });
    this.stream.destroy();
  }

  write(chunk: Uint8Array): void | Promise<void> {
    if (this.stopped) return;
    this.compressedIn += chunk.length;
    if (this.stream.write(chunk)) return;
    return waitForDrain(this.stream, this.done);
  }

  end(): Promise<void> {
    if (!this.stopped) this.stream.end();
    return this.done;
  }
}

/** Read a nested tar: each inner file gets its own file sink, one level deeper. */
class NestedTarSink implements EntrySink {
  private readonly parser: TarStreamParser;
  private failed = false;
  /** Body ranges of the members, in the tar's bytes. */
  readonly memberRanges: MemberRange[] = [];

  constructor(
    private readonly ctx: ScanContext,
    private readonly path: string | null,
    private readonly nestedPath: string | null,
    depth: number,
    decodes: number,
  ) {
    this.parser = new TarStreamParser((entry: TarEntry) => {
      if (entry.type !== 'file' || entry.size === 0) return null;
      const memberPath = joinNested(nestedPath, entry.name);
      // onEntry runs right after the header: the parser's offset is where the body starts.
      const start = this.parser.offset;
      this.memberRanges.push({ start, end: start + entry.size, nestedPath: memberPath });
      return createFileSink(ctx, path, memberPath, depth, decodes);
    });
  }

  private fail(error: unknown): void {
    this.failed = true;
    this.ctx.notes.push({
      kind: 'nested-unreadable',
      detector: null,
      path: this.path,
      nestedPath: this.nestedPath,
      message: `nested tar could not be read to the end (${error instanceof Error ? error.message : String(error)}); its raw bytes were scanned`,
    });
  }

  write(chunk: Uint8Array): void | Promise<void> {
    if (this.failed) return;
    try {
      const written = this.parser.write(chunk);
      if (written) return written.catch((error: unknown) => this.fail(error));
    } catch (error) {
      this.fail(error);
    }
  }

  end(): void {
    if (this.failed) return;
    try {
      this.parser.end();
    } catch (error) {
      this.fail(error);
    }
  }
}

const ZIP_LOCAL = 0x04034b50;

/**
 * A zip (jar, wheel, apk…) read front to back through its local headers, without the central
 * directory (a stream cannot seek). Stored and deflated members with sizes in the local header are
 * unpacked; members whose sizes only follow in a data descriptor end the walk with a note (the
 * zip's raw bytes were still scanned).
 */
class ZipStreamSink implements EntrySink {
  private header: Uint8Array = new Uint8Array(0);
  private state: 'header' | 'data' | 'done' = 'header';
  private remaining = 0;
  private member: EntrySink | null = null;
  /** Bytes of the zip consumed so far. */
  private position = 0;
  /** Body ranges of stored (uncompressed) members, in the zip's bytes. */
  readonly memberRanges: MemberRange[] = [];

  constructor(
    private readonly ctx: ScanContext,
    private readonly path: string | null,
    private readonly nestedPath: string | null,
    private readonly depth: number,
    private readonly decodes: number,
  ) {}

  private stop(kind: LayerNote['kind'], message: string): void {
    this.state = 'done';
    this.ctx.notes.push({ kind, detector: null, path: this.path, nestedPath: this.nestedPath, message });
  }

  /** Parse a complete local header if buffered; returns header length or 0 if more bytes are needed. */
  private startMember(): number {
    const h = this.header;
    if (h.length < 30) return 0;
    const view = new DataView(h.buffer, h.byteOffset, h.byteLength);
    if (view.getUint32(0, true) !== ZIP_LOCAL) {
      // Central directory or anything else: the members are over.
      this.state = 'done';
      return 0;
    }
    const flags = view.getUint16(6, true);
    const method = view.getUint16(8, true);
    let compressed = view.getUint32(18, true);
    const nameLength = view.getUint16(26, true);
    const extraLength = view.getUint16(28, true);
    const total = 30 + nameLength + extraLength;
    if (h.length < total) return 0;
    const name = new TextDecoder().decode(h.subarray(30, 30 + nameLength));
    if (compressed === 0xffffffff) {
      // zip64: sizes in extra field 0x0001 (uncompressed, then compressed).
      const extra = new DataView(h.buffer, h.byteOffset + 30 + nameLength, extraLength);
      for (let at = 0; at + 4 <= extraLength; ) {
        const id = extra.getUint16(at, true);
        const size = extra.getUint16(at + 2, true);
        if (id === 1 && size >= 16) compressed = Number(extra.getBigUint64(at + 12, true));
        at += 4 + size;
      }
    }
    if (flags & 0x08 && compressed === 0) {
      this.stop('nested-bounded', `zip member '${name}' has its size only in a data descriptor; members from here on were not unpacked (the raw bytes were scanned)`);
      return 0;
    }
    const memberPath = joinNested(this.nestedPath, name);
    this.remaining = compressed;
    if (flags & 0x01) {
      this.ctx.notes.push({ kind: 'nested-unreadable', detector: null, path: this.path, nestedPath: memberPath, message: 'encrypted zip member: not unpacked' });
      this.member = null;
    } else if (name.endsWith('/')) {
      this.member = null;
    } else if (method === 0) {
      // The header is consumed: the stored body starts here.
      this.memberRanges.push({ start: this.position, end: this.position + compressed, nestedPath: memberPath });
      this.member = createFileSink(this.ctx, this.path, memberPath, this.depth, this.decodes);
    } else if (method === 8) {
      const inner = createFileSink(this.ctx, this.path, memberPath, this.depth, this.decodes + 1);
      this.member = new DecompressSink(this.ctx, createInflateRaw({ chunkSize: 1 << 20 }), inner, this.path, memberPath);
    } else {
      this.ctx.notes.push({ kind: 'nested-unreadable', detector: null, path: this.path, nestedPath: memberPath, message: `zip compression method ${method} is not supported: not unpacked` });
      this.member = null;
    }
    this.state = 'data';
    return total;
  }

  write(chunk: Uint8Array): void | Promise<void> {
    let pos = 0;
    while (pos < chunk.length && this.state !== 'done') {
      if (this.state === 'header') {
        // Copy only what the header needs: 30 fixed bytes, then name and extra field.
        const have = this.header.length;
        let want = 30;
        if (have >= 30) {
          const view = new DataView(this.header.buffer, this.header.byteOffset, this.header.byteLength);
          if (view.getUint32(0, true) !== ZIP_LOCAL) {
            // Central directory or anything else: the members are over.
            this.state = 'done';
            continue;
          }
          want = 30 + view.getUint16(26, true) + view.getUint16(28, true);
        }
        const take = Math.min(want - have, chunk.length - pos);
        const merged = new Uint8Array(have + take);
        merged.set(this.header);
        merged.set(chunk.subarray(pos, pos + take), have);
        this.header = merged;
        pos += take;
        this.position += take;
        if (merged.length < want) continue;
        const used = this.startMember();
        if (used === 0) continue;
        this.header = new Uint8Array(0);
        if (this.remaining === 0) {
          const ended = this.finishMemberAsync();
          if (ended) return ended.then(() => this.write(chunk.subarray(pos)));
        }
        continue;
      }
      const n = Math.min(this.remaining, chunk.length - pos);
      const piece = chunk.subarray(pos, pos + n);
      pos += n;
      this.position += n;
      this.remaining -= n;
      const member = this.member;
      const written = member ? member.write(piece) : undefined;
      if (this.remaining === 0) {
        if (written) return written.then(() => this.finishMemberAsync()).then(() => this.write(chunk.subarray(pos)));
        const ended = this.finishMemberAsync();
        if (ended) return ended.then(() => this.write(chunk.subarray(pos)));
      } else if (written) {
        return written.then(() => this.write(chunk.subarray(pos)));
      }
    }
  }

  private finishMemberAsync(): void | Promise<void> {
    const member = this.member;
    this.member = null;
    this.state = this.state === 'done' ? 'done' : 'header';
    return member ? member.end() : undefined;
  }

  end(): void | Promise<void> {
    if (this.state === 'data' && this.remaining > 0) {
      const member = this.member;
      this.member = null;
      this.stop('nested-unreadable', 'zip ends inside a member (truncated); its raw bytes were scanned');
      return member ? member.end() : undefined;
    }
  }
}
