// What happens to the bytes of one file found in a layer: they go to a detector, and when they
// start like an archive (gzip, zstd, tar) the archive's inner files are scanned too, bounded.
import type { Transform } from 'node:stream';
import type { ContentFinding, ContentScanner, KeyIdentity } from './detector-api.js';
import { createDecompressor, sniffCompression, type Compression } from './compression.js';
import { waitForDrain } from './drain.js';
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
export type ScannerFactory = (options: { path: string | null; knownKeys: KeyIdentity[] }) => ContentScanner;

/** Shared state of one layer scan. */
export interface ScanContext {
  createScanner: ScannerFactory;
  knownKeys: KeyIdentity[];
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
  const scanner = ctx.createScanner({ path: nestedPath ?? path, knownKeys: ctx.knownKeys });
  const canNest = depth < ctx.limits.maxDepth && decodes < ctx.limits.maxDepth * 2;
  let decided = !canNest;
  let head: Uint8Array | null = null;
  let nested: EntrySink | null = null;

  // Pick the nested reader from the first block and feed it that block.
  const decide = (bytes: Uint8Array): void | Promise<void> => {
    decided = true;
    head = null;
    const compression = sniffCompression(bytes);
    if (compression !== 'none') {
      const inner = createFileSink(ctx, path, innerNameOf(nestedPath, path, compression), depth, decodes + 1);
      nested = new DecompressSink(ctx, compression, inner, path, nestedPath);
    } else if (looksLikeTar(bytes)) {
      nested = new NestedTarSink(ctx, path, nestedPath, depth + 1, decodes);
    }
    if (nested && bytes.length > 0) return nested.write(bytes);
  };

  const then = (first: void | Promise<void>, next: () => void | Promise<void>): void | Promise<void> =>
    first ? first.then(next) : next();

  const finish = (): void => {
    const result = scanner.end();
    for (const finding of result.findings) ctx.findings.push({ ...finding, path, nestedPath });
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
      finish();
      return then(decided$, () => (nested ? nested.end() : undefined));
    },
  };
}

/** Decompress a nested stream and hand the inflated bytes to the sink of the inner file. */
class DecompressSink implements EntrySink {
  private readonly stream: Transform;
  private readonly done: Promise<void>;
  private stopped = false;
  private compressedIn = 0;
  private inflatedOut = 0;

  constructor(
    private readonly ctx: ScanContext,
    compression: Compression,
    inner: EntrySink,
    private readonly path: string | null,
    private readonly nestedPath: string | null,
  ) {
    this.stream = createDecompressor(compression)!;
    const stream = this.stream;
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

  constructor(
    private readonly ctx: ScanContext,
    private readonly path: string | null,
    private readonly nestedPath: string | null,
    depth: number,
    decodes: number,
  ) {
    this.parser = new TarStreamParser((entry: TarEntry) => {
      if (entry.type !== 'file' || entry.size === 0) return null;
      return createFileSink(ctx, path, joinNested(nestedPath, entry.name), depth, decodes);
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
