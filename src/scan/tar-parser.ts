// A push-based tar reader: bytes in (any chunking), entries out, bodies handed to a sink as
// zero-copy subarrays. Pure (no I/O) so it can be fed from a file, a decompressor or a socket.
import { BLOCK, entryType, isMetaTypeflag, normalizeEntryName, paddingFor, parsePaxRecords, parseTarHeader, type EntryType } from './tar-header.js';

/** One entry of a tar archive, with PAX and GNU long names already applied. */
export interface TarEntry {
  /** Name as the tar names it, without a leading `./`. */
  name: string;
  type: EntryType;
  size: number;
  mode: number;
  linkname: string;
  /** Byte offset of the entry's header inside the (uncompressed) tar stream. */
  headerOffset: number;
}

/** Receives the body of one entry. A returned promise is awaited (backpressure for nested archives). */
export interface EntrySink {
  write(chunk: Uint8Array): void | Promise<void>;
  end(): void | Promise<void>;
}

/** A PAX extended header ('x' for the next entry, 'g' global) and the entry it came before. */
export interface ExtendedHeader {
  typeflag: 'x' | 'g';
  /** Byte offset of the extended header's own header block. */
  headerOffset: number;
  /** The raw record bytes ("<len> key=value\n"…); values may be binary (xattrs). */
  body: Uint8Array;
  /** Name of the entry that follows it, or null when the archive ends first. */
  describes: string | null;
}

/** A tar stream that cannot be read as one: truncated, or a block that is not a header. */
export class TarFormatError extends Error {
  override name = 'TarFormatError';
}

const MAX_META_BYTES = 1 << 20;

type State = 'header' | 'body' | 'meta' | 'pad' | 'end';

/** Streaming tar parser. Call write() with every chunk (awaiting what it returns), then end(). */
export class TarStreamParser {
  private state: State = 'header';
  private readonly headerBuf = new Uint8Array(BLOCK);
  private headerFill = 0;
  private remaining = 0;
  private pad = 0;
  private sink: EntrySink | null = null;
  private current: TarEntry | null = null;
  private metaType = '';
  private metaChunks: Uint8Array[] = [];
  private metaLength = 0;
  private pax: Map<string, string> | null = null;
  private globalPax = new Map<string, string>();
  /** Extended headers read but not yet reported (their entry's name comes with the next header). */
  private pendingExtended: Array<Omit<ExtendedHeader, 'describes'>> = [];
  private longName: string | null = null;
  private longLink: string | null = null;
  private zeroBlocks = 0;
  private headerStart = 0;
  /** Bytes consumed so far. */
  offset = 0;
  /** Number of entries seen (meta entries excluded). */
  entries = 0;
  /** True once the end-of-archive marker was read. */
  sawEndMarker = false;

  /** Bytes after the end-of-archive marker (no extractor reads them, but they ship in the blob). */
  trailingBytes = 0;

  constructor(
    private readonly onEntry: (entry: TarEntry) => EntrySink | null,
    private readonly trailing: EntrySink | null = null,
    /** Receives every PAX extended header body: its values are published bytes too (xattrs). */
    private readonly onExtendedHeader: ((header: ExtendedHeader) => void) | null = null,
  ) {}

  /** Feed bytes. When a promise is returned, wait for it before the next write. */
  write(chunk: Uint8Array): void | Promise<void> {
    return this.process(chunk, 0);
  }

  private process(chunk: Uint8Array, start: number): void | Promise<void> {
    let pos = start;
    const length = chunk.length;
    while (pos < length) {
      switch (this.state) {
        case 'end': {
          // Bytes after the end marker (usually record padding) are never extracted, but they are
          // published with the blob: hand them to the trailing sink.
          const rest = chunk.subarray(pos);
          this.offset += rest.length;
          this.trailingBytes += rest.length;
          return this.trailing && rest.length > 0 ? this.trailing.write(rest) : undefined;
        }
        case 'header': {
          const n = Math.min(BLOCK - this.headerFill, length - pos);
          if (this.headerFill === 0) this.headerStart = this.offset;
          this.headerBuf.set(chunk.subarray(pos, pos + n), this.headerFill);
          this.headerFill += n;
          pos += n;
          this.offset += n;
          if (this.headerFill === BLOCK) {
            this.headerFill = 0;
            this.onHeaderBlock();
          }
          break;
        }
        case 'body': {
          const n = Math.min(this.remaining, length - pos);
          const piece = chunk.subarray(pos, pos + n);
          pos += n;
          this.offset += n;
          this.remaining -= n;
          const done = this.remaining === 0;
          if (done) this.afterBody();
          const sink = this.sink;
          if (sink) {
            const written = n > 0 ? sink.write(piece) : undefined;
            if (done) {
              this.sink = null;
              if (written) return written.then(() => sink.end()).then(() => this.process(chunk, pos));
              const ended = sink.end();
              if (ended) return ended.then(() => this.process(chunk, pos));
            } else if (written) {
              return written.then(() => this.process(chunk, pos));
            }
          }
          break;
        }
        case 'meta': {
          const n = Math.min(this.remaining, length - pos);
          this.metaChunks.push(chunk.slice(pos, pos + n));
          this.metaLength += n;
          pos += n;
          this.offset += n;
          this.remaining -= n;
          if (this.remaining === 0) this.onMetaBody();
          break;
        }
        case 'pad': {
          const n = Math.min(this.pad, length - pos);
          pos += n;
          this.offset += n;
          this.pad -= n;
          if (this.pad === 0) this.state = 'header';
          break;
        }
      }
    }
  }

  private onHeaderBlock(): void {
    const parsed = parseTarHeader(this.headerBuf);
    if (parsed.kind === 'zero') {
      this.zeroBlocks++;
      if (this.zeroBlocks >= 2) {
        this.state = 'end';
        this.sawEndMarker = true;
        this.reportExtended(null);
      }
      return;
    }
    if (parsed.kind === 'invalid') {
      throw new TarFormatError(`not a valid tar header at byte ${this.headerStart}: ${parsed.reason}`);
    }
    this.zeroBlocks = 0;
    const header = parsed.header;
    if (isMetaTypeflag(header.typeflag)) {
      if (header.size > MAX_META_BYTES) {
        throw new TarFormatError(`extended header at byte ${this.headerStart} claims ${header.size} bytes (limit ${MAX_META_BYTES})`);
      }
      this.metaType = header.typeflag;
      this.metaChunks = [];
      this.metaLength = 0;
      this.remaining = header.size;
      this.pad = paddingFor(header.size);
      if (header.size === 0) this.onMetaBody();
      else this.state = 'meta';
      return;
    }
    const pax = this.pax;
    const paxPath = pax?.get('path') ?? this.globalPax.get('path');
    const paxLink = pax?.get('linkpath') ?? this.globalPax.get('linkpath');
    const paxSize = pax?.get('size');
    let size = header.size;
    if (paxSize !== undefined) {
      const value = Number(paxSize);
      if (!Number.isSafeInteger(value) || value < 0) {
        throw new TarFormatError(`PAX size '${paxSize}' of entry at byte ${this.headerStart} is not a valid size`);
      }
      size = value;
    }
    const type = entryType(header.typeflag);
    const name = normalizeEntryName(paxPath ?? this.longName ?? header.name);
    const entry: TarEntry = {
      name,
      type,
      // Links, directories and devices carry no body even if a size is written.
      size: type === 'file' ? size : header.typeflag === '1' || header.typeflag === '2' || header.typeflag === '5' ? 0 : size,
      mode: header.mode,
      linkname: paxLink ?? this.longLink ?? header.linkname,
      headerOffset: this.headerStart,
    };
    // GNU tar does write a size on hard links in rare cases; the body still follows in the stream.
    const bodySize = header.typeflag === '2' || header.typeflag === '5' ? 0 : size;
    this.pax = null;
    this.longName = null;
    this.longLink = null;
    this.reportExtended(name);
    this.entries++;
    this.current = entry;
    this.sink = this.onEntry(entry);
    this.remaining = bodySize;
    this.pad = paddingFor(bodySize);
    if (bodySize === 0) {
      const sink = this.sink;
      this.sink = null;
      this.afterBody();
      if (sink) {
        const ended = sink.end();
        if (ended) throw new TarFormatError('internal: async end on an empty entry is not supported');
      }
    } else {
      this.state = 'body';
    }
  }

  private afterBody(): void {
    this.current = null;
    this.state = this.pad > 0 ? 'pad' : 'header';
  }

  private reportExtended(describes: string | null): void {
    if (this.pendingExtended.length === 0) return;
    const pending = this.pendingExtended;
    this.pendingExtended = [];
    for (const header of pending) this.onExtendedHeader?.({ ...header, describes });
  }

  private onMetaBody(): void {
    const body = this.metaChunks.length === 1 ? this.metaChunks[0]! : Buffer.concat(this.metaChunks, this.metaLength);
    this.metaChunks = [];
    if (this.onExtendedHeader && (this.metaType === 'x' || this.metaType === 'g') && body.length > 0) {
      this.pendingExtended.push({ typeflag: this.metaType, headerOffset: this.headerStart, body });
    }
    switch (this.metaType) {
      case 'x':
        this.pax = parsePaxRecords(body);
        break;
      case 'g':
        for (const [key, value] of parsePaxRecords(body)) this.globalPax.set(key, value);
        break;
      case 'L':
        this.longName = cString(body);
        break;
      case 'K':
        this.longLink = cString(body);
        break;
    }
    this.state = this.pad > 0 ? 'pad' : 'header';
  }

  /**
   * Declare the end of input. Throws when the input stopped inside a header, a body or its padding:
   * a truncated archive is never a clean one.
   */
  end(): void {
    // Extended headers read before the input stopped are reported even when it stopped badly.
    this.reportExtended(null);
    if (this.state === 'end') return;
    if (this.state === 'body' && this.current) {
      throw new TarFormatError(`truncated: entry '${this.current.name}' ends after ${this.current.size - this.remaining} of ${this.current.size} bytes`);
    }
    if (this.state === 'meta') throw new TarFormatError('truncated inside an extended header');
    if (this.state === 'pad') throw new TarFormatError('truncated inside the padding after an entry');
    if (this.headerFill !== 0) throw new TarFormatError(`truncated inside a header at byte ${this.headerStart}`);
  }
}

function cString(body: Uint8Array): string {
  let end = body.indexOf(0);
  if (end < 0) end = body.length;
  return new TextDecoder().decode(body.subarray(0, end));
}
