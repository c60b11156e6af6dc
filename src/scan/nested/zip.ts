// A zip (jar, wheel, apk…) inside a layer.
import { createInflateRaw, inflateRawSync } from 'node:zlib';
import type { LayerNote } from '../layer-findings.js';
import type { MemberRange } from '../member-dedupe.js';
import type { EntrySink } from '../tar-parser.js';
import { inflateBudget, joinNested, type ScanContext } from './context.js';
import { DecompressSink, wholeChunkSize } from './decompress.js';
import { locateHeldZipMembers, ZipFormatError, type HeldZipMember } from './zip-held.js';
import type { NestedFormat, NestedOrigin, NestedReader } from './nested-format.js';

const ZIP_LOCAL = 0x04034b50;

/**
 * A zip (jar, wheel, apk…) read front to back through its local headers (a stream cannot seek).
 * Stored and deflated members with sizes in the local header are unpacked as they stream by; from
 * the first member whose sizes only follow in a data descriptor (a streaming writer), the rest of
 * the zip is held in memory (up to maxHeldBytes) and read at its end through the central directory.
 */
class ZipStreamSink implements NestedReader {
  private header: Uint8Array = new Uint8Array(0);
  private state: 'header' | 'data' | 'descriptor' | 'held' | 'done' = 'header';
  /** The member being read has a data descriptor after its data (flag bit 3), zip64-sized or not. */
  private descriptor: 'none' | 'plain' | 'zip64' = 'none';
  /** Descriptor bytes still to skip. */
  private skip = 0;
  /** Bytes from the first member with a data descriptor on (read at the end via the central directory). */
  private held: Buffer[] = [];
  private heldLength = 0;
  private heldStart = 0;
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
      for (let at = 0; at + 4 <= extraLength;) {
        const id = extra.getUint16(at, true);
        const size = extra.getUint16(at + 2, true);
        if (id === 1 && size >= 16) compressed = Number(extra.getBigUint64(at + 12, true));
        at += 4 + size;
      }
    }
    if (flags & 0x08 && compressed === 0) {
      // A streaming writer: the size follows the data. Hold the rest of the zip (bounded) and read
      // it at the end through the central directory.
      this.state = 'held';
      this.heldStart = this.position - h.length;
      this.held = [Buffer.from(h)];
      this.heldLength = h.length;
      return -1;
    }
    this.remaining = compressed;
    this.descriptor = flags & 0x08 ? (view.getUint32(18, true) === 0xffffffff ? 'zip64' : 'plain') : 'none';
    this.member = this.openMember(name, flags, method, this.position, compressed, flags & 0x08 ? null : view.getUint32(22, true));
    this.state = 'data';
    return total;
  }

  write(chunk: Uint8Array): void | Promise<void> {
    let pos = 0;
    while (pos < chunk.length && this.state !== 'done') {
      if (this.state === 'held') {
        this.hold(chunk.subarray(pos));
        return;
      }
      if (this.state === 'descriptor') {
        // crc, sizes (4+4 or 8+8), after an optional signature: skip it, the local header told the sizes.
        if (this.skip > 0) {
          const n = Math.min(this.skip, chunk.length - pos);
          this.skip -= n;
          pos += n;
          this.position += n;
          if (this.skip === 0) {
            this.state = 'header';
            this.descriptor = 'none';
          }
          continue;
        }
        // Four bytes decide: the descriptor's optional signature, or its CRC (kept across chunks).
        const take = Math.min(4 - this.header.length, chunk.length - pos);
        const merged = new Uint8Array(this.header.length + take);
        merged.set(this.header);
        merged.set(chunk.subarray(pos, pos + take), this.header.length);
        this.header = merged;
        pos += take;
        this.position += take;
        if (merged.length < 4) continue;
        const signed = merged[0] === 0x50 && merged[1] === 0x4b && merged[2] === 0x07 && merged[3] === 0x08;
        this.header = new Uint8Array(0);
        // Left: the CRC when signed, then the two sizes.
        this.skip = (signed ? 4 : 0) + (this.descriptor === 'zip64' ? 16 : 8);
        continue;
      }
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
        if (used < 0) continue;
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
    if (this.state !== 'done') this.state = this.descriptor === 'none' ? 'header' : 'descriptor';
    return member ? member.end() : undefined;
  }

  /**
   * The sink for one member's compressed bytes (starting at `start` in the zip), or null when it is
   * not unpacked. `size`: the uncompressed size its header declares (null: not known), to size the
   * output buffer of a whole decode.
   */
  private openMember(name: string, flags: number, method: number, start: number, compressed: number, size: number | null): EntrySink | null {
    const memberPath = joinNested(this.nestedPath, name);
    if (flags & 0x01) {
      this.ctx.notes.push({ kind: 'nested-unreadable', detector: null, path: this.path, nestedPath: memberPath, message: 'encrypted zip member: not unpacked' });
      return null;
    }
    if (name.endsWith('/')) return null;
    if (method === 0) {
      this.memberRanges.push({ start, end: start + compressed, nestedPath: memberPath });
      return this.origin.openInner(memberPath, this.origin.depth + 1, this.origin.decodes);
    }
    if (method === 8) {
      const inner = this.origin.openInner(memberPath, this.origin.depth + 1, this.origin.decodes + 1);
      const declared = size === 0xffffffff ? null : size;
      return new DecompressSink(
        this.ctx,
        () => createInflateRaw({ chunkSize: 1 << 20 }),
        inner,
        this.path,
        memberPath,
        'deflate',
        (input, maxOutputLength) => inflateRawSync(input, { maxOutputLength, chunkSize: wholeChunkSize(declared, input.length) }),
      );
    }
    this.ctx.notes.push({
      kind: 'nested-unreadable',
      detector: null,
      path: this.path,
      nestedPath: memberPath,
      message: `zip compression method ${method} is not supported: not unpacked`,
    });
    return null;
  }

  private hold(bytes: Uint8Array): void {
    this.heldLength += bytes.length;
    this.position += bytes.length;
    if (this.heldLength > this.ctx.limits.maxHeldBytes) {
      this.held = [];
      this.stop(
        'nested-bounded',
        `bound reached: zip members with sizes only in data descriptors are read from memory, and this zip holds more than maxHeldBytes (${this.ctx.limits.maxHeldBytes}) from there; members from there on were not unpacked (the raw bytes were scanned)`,
      );
      return;
    }
    this.held.push(Buffer.from(bytes));
  }

  /** Read the held members (sizes from the central directory) through the usual member sinks. */
  private async readHeld(): Promise<void> {
    const held = Buffer.concat(this.held, this.heldLength);
    this.held = [];
    let members: HeldZipMember[];
    try {
      members = locateHeldZipMembers(held, this.heldStart, Math.min(inflateBudget(this.ctx), this.ctx.limits.maxHeldBytes));
    } catch (error) {
      if (!(error instanceof ZipFormatError)) throw error;
      this.stop('nested-unreadable', `zip members with sizes only in data descriptors could not be placed (${error.message}); their raw bytes were scanned`);
      return;
    }
    for (const member of members) {
      const sink = this.openMember(member.name, member.flags, member.method, this.heldStart + member.dataStart, member.data.length, null);
      if (!sink) continue;
      const written = sink.write(member.data);
      if (written) await written;
      const ended = sink.end();
      if (ended) await ended;
    }
  }

  end(): void | Promise<void> {
    if (this.state === 'held') return this.readHeld();
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
