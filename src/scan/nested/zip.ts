// A zip (jar, wheel, apk…) inside a layer.
import { createInflateRaw } from 'node:zlib';
import type { LayerNote } from '../layer-findings.js';
import type { MemberRange } from '../member-dedupe.js';
import type { EntrySink } from '../tar-parser.js';
import { joinNested, type ScanContext } from './context.js';
import { DecompressSink } from './decompress.js';
import type { NestedFormat, NestedOrigin, NestedReader } from './nested-format.js';

const ZIP_LOCAL = 0x04034b50;

/**
 * A zip (jar, wheel, apk…) read front to back through its local headers, without the central
 * directory (a stream cannot seek). Stored and deflated members with sizes in the local header are
 * unpacked; members whose sizes only follow in a data descriptor end the walk with a note (the
 * zip's raw bytes were still scanned).
 */
class ZipStreamSink implements NestedReader {
  private header: Uint8Array = new Uint8Array(0);
  private state: 'header' | 'data' | 'done' = 'header';
  private remaining = 0;
  private member: EntrySink | null = null;
  /** Bytes of the zip consumed so far. */
  private position = 0;
  /** Body ranges of stored (uncompressed) members, in the zip's bytes. */
  readonly memberRanges: MemberRange[] = [];

  private readonly ctx: ScanContext;
  private readonly path: string | null;
  private readonly nestedPath: string | null;

  constructor(private readonly origin: NestedOrigin) {
    this.ctx = origin.ctx;
    this.path = origin.path;
    this.nestedPath = origin.nestedPath;
  }

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
      this.member = this.origin.openInner(memberPath, this.origin.depth + 1, this.origin.decodes);
    } else if (method === 8) {
      const inner = this.origin.openInner(memberPath, this.origin.depth + 1, this.origin.decodes + 1);
      this.member = new DecompressSink(this.ctx, createInflateRaw({ chunkSize: 1 << 20 }), inner, this.path, memberPath, 'deflate');
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

export const zipFormat: NestedFormat = {
  name: 'zip',
  matches: (head) => head.length >= 4 && head[0] === 0x50 && head[1] === 0x4b && head[2] === 0x03 && head[3] === 0x04,
  open: (origin) => new ZipStreamSink(origin),
};
