// The members of a zip held in memory from some local header on, for members whose sizes follow
// only in a data descriptor (general-purpose flag bit 3: written by a streaming writer, e.g.
// `zip -` to a pipe, `jar`, Python's zipfile on an unseekable stream). Sizes come from the central
// directory; without one (a truncated zip), deflated members are walked to the end of their deflate
// stream. Pure.
import { inflateRawSync } from 'node:zlib';

/** One member located in the held bytes. */
export interface HeldZipMember {
  name: string;
  method: number;
  flags: number;
  /** The member's compressed bytes (a view into the held buffer). */
  data: Buffer;
  /** Offset of `data` in the held buffer. */
  dataStart: number;
}

/** A zip that cannot be read. */
export class ZipFormatError extends Error {
  override name = 'ZipFormatError';
}

const LOCAL = 0x04034b50;
const CENTRAL = 0x02014b50;
const END = 0x06054b50;
const END64_LOCATOR = 0x07064b50;
const END64 = 0x06064b50;
const DESCRIPTOR = 0x08074b50;
const DESCRIPTOR_BYTES = Buffer.from([0x50, 0x4b, 0x07, 0x08]);

function u16(b: Buffer, at: number): number {
  if (at + 2 > b.length) throw new ZipFormatError(`field at byte ${at} runs past the end`);
  return b.readUInt16LE(at);
}
function u32(b: Buffer, at: number): number {
  if (at + 4 > b.length) throw new ZipFormatError(`field at byte ${at} runs past the end`);
  return b.readUInt32LE(at);
}
function u64(b: Buffer, at: number): number {
  if (at + 8 > b.length) throw new ZipFormatError(`field at byte ${at} runs past the end`);
  return Number(b.readBigUInt64LE(at));
}

/** Where the local header at `at` puts its data, and its name. */
function localHeader(held: Buffer, at: number): { name: string; flags: number; method: number; dataStart: number } {
  if (u32(held, at) !== LOCAL) throw new ZipFormatError(`no local header at byte ${at}`);
  const nameLength = u16(held, at + 26);
  const dataStart = at + 30 + nameLength + u16(held, at + 28);
  if (dataStart > held.length) throw new ZipFormatError(`local header at byte ${at} runs past the end`);
  return { name: held.toString('utf8', at + 30, at + 30 + nameLength), flags: u16(held, at + 6), method: u16(held, at + 8), dataStart };
}

/** The end-of-central-directory record's view of the zip, or null when there is none. */
function findCentralDirectory(held: Buffer): { offset: number; count: number } | null {
  const floor = Math.max(0, held.length - 22 - 0xffff);
  for (let at = held.length - 22; at >= floor; at--) {
    if (held.readUInt32LE(at) !== END) continue;
    let count = u16(held, at + 10);
    const offset = u32(held, at + 16);
    if (offset === 0xffffffff && at >= 20 && u32(held, at - 20) === END64_LOCATOR) {
      // The zip64 record's absolute offset is in the locator; resolved by the caller's base.
      return { offset: -1 - u64(held, at - 12), count };
    }
    if (count === 0xffff) count = Number.MAX_SAFE_INTEGER;
    return { offset, count };
  }
  return null;
}

/**
 * Members whose local header lies in `held` (the zip's bytes from absolute offset `base` to its end).
 * The walk without a central directory inflates each member (at most `maxInflate` bytes) to find its end.
 * Throws ZipFormatError when neither the central directory nor a walk can place them.
 */
export function locateHeldZipMembers(held: Buffer, base: number, maxInflate: number): HeldZipMember[] {
  const directory = findCentralDirectory(held);
  if (directory) {
    let { offset, count } = directory;
    if (offset < 0) {
      const record = -1 - offset - base;
      if (record < 0 || u32(held, record) !== END64) throw new ZipFormatError('zip64 end record is not where its locator says');
      count = u64(held, record + 32);
      offset = u64(held, record + 48);
    }
    let at = offset - base;
    if (at < 0 || at > held.length) throw new ZipFormatError(`central directory at byte ${offset} is outside the held bytes`);
    const members: HeldZipMember[] = [];
    for (let i = 0; i < count && at + 4 <= held.length && u32(held, at) === CENTRAL; i++) {
      let compressed = u32(held, at + 20);
      let uncompressed = u32(held, at + 24);
      const nameLength = u16(held, at + 28);
      const extraLength = u16(held, at + 30);
      const commentLength = u16(held, at + 32);
      let local = u32(held, at + 42);
      // zip64: the 0x0001 extra field holds, in order, the fields that are 0xffffffff.
      for (let e = at + 46 + nameLength; e + 4 <= at + 46 + nameLength + extraLength;) {
        const id = u16(held, e);
        const size = u16(held, e + 2);
        if (id === 1) {
          let f = e + 4;
          if (uncompressed === 0xffffffff) {
            uncompressed = u64(held, f);
            f += 8;
          }
          if (compressed === 0xffffffff) {
            compressed = u64(held, f);
            f += 8;
          }
          if (local === 0xffffffff) local = u64(held, f);
        }
        e += 4 + size;
      }
      at += 46 + nameLength + extraLength + commentLength;
      if (local < base) continue; // before the held bytes: already read while streaming
      const header = localHeader(held, local - base);
      if (header.dataStart + compressed > held.length) throw new ZipFormatError(`member '${header.name}' runs past the end`);
      members.push({ ...header, data: held.subarray(header.dataStart, header.dataStart + compressed), dataStart: header.dataStart });
    }
    return members;
  }
  // No central directory (truncated): walk deflate streams to their ends.
  const members: HeldZipMember[] = [];
  let at = 0;
  while (at + 4 <= held.length && held.readUInt32LE(at) === LOCAL) {
    const header = localHeader(held, at);
    if (!(header.flags & 0x08)) {
      // Sizes in the local header (only some members of a zip need a descriptor).
      const size = u32(held, at + 18);
      if (size === 0xffffffff || header.dataStart + size > held.length) throw new ZipFormatError(`member '${header.name}' runs past the end`);
      members.push({ ...header, data: held.subarray(header.dataStart, header.dataStart + size), dataStart: header.dataStart });
      at = header.dataStart + size;
      continue;
    }
    if (header.method === 0) {
      // Stored: the data ends where a signed descriptor names exactly that many bytes.
      let end = header.dataStart - 1;
      let length = -1;
      while ((end = held.indexOf(DESCRIPTOR_BYTES, end + 1)) >= 0) {
        if (end + 12 <= held.length && held.readUInt32LE(end + 8) === end - header.dataStart) {
          length = end - header.dataStart;
          break;
        }
      }
      if (length < 0)
        throw new ZipFormatError(`member '${header.name}' is stored with its size only in a data descriptor that cannot be found, and the central directory is missing`);
      members.push({ ...header, data: held.subarray(header.dataStart, header.dataStart + length), dataStart: header.dataStart });
      at = header.dataStart + length + 16;
      continue;
    }
    if (header.method !== 8)
      throw new ZipFormatError(`member '${header.name}' uses method ${header.method} with its size only in a data descriptor, and the central directory is missing`);
    let consumed: number;
    try {
      const result = inflateRawSync(held.subarray(header.dataStart), { info: true, maxOutputLength: Math.max(1, maxInflate) }) as unknown as { engine: { bytesWritten: number } };
      consumed = result.engine.bytesWritten;
    } catch (error) {
      const reason =
        (error as NodeJS.ErrnoException).code === 'ERR_BUFFER_TOO_LARGE' ? `inflates past ${maxInflate} bytes` : `deflate data is corrupt (${(error as Error).message})`;
      throw new ZipFormatError(`member '${header.name}' ${reason}, and without the central directory its end cannot be found otherwise`);
    }
    members.push({ ...header, data: held.subarray(header.dataStart, header.dataStart + consumed), dataStart: header.dataStart });
    at = header.dataStart + consumed;
    at += at + 4 <= held.length && held.readUInt32LE(at) === DESCRIPTOR ? 16 : 12;
  }
  return members;
}
