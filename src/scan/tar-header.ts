// Pure parsing of tar header blocks (ustar, GNU and PAX), shared by the outer-archive index and
// the streaming layer walker. No I/O here.

/** Size of one tar block. */
export const BLOCK = 512;

/** One parsed 512-byte header, before PAX/GNU long-name records are applied. */
export interface RawTarHeader {
  name: string;
  mode: number;
  size: number;
  typeflag: string;
  linkname: string;
}

/** Why a block is not a header: the caller turns this into an error naming the archive. */
export type HeaderResult = { kind: 'header'; header: RawTarHeader } | { kind: 'zero' } | { kind: 'invalid'; reason: string };

const decoder = new TextDecoder('utf-8');

function readString(block: Uint8Array, offset: number, length: number): string {
  let end = offset;
  const limit = offset + length;
  while (end < limit && block[end] !== 0) end++;
  return decoder.decode(block.subarray(offset, end));
}

/** Numeric field: octal text, or GNU base-256 (high bit set) for values that do not fit. */
function readNumber(block: Uint8Array, offset: number, length: number): number | null {
  const first = block[offset]!;
  if (first & 0x80) {
    // base-256, big endian; negative values are never valid sizes.
    if (first & 0x40) return null;
    let value = first & 0x3f;
    for (let i = offset + 1; i < offset + length; i++) value = value * 256 + block[i]!;
    return Number.isSafeInteger(value) ? value : null;
  }
  let value = 0;
  let seen = false;
  for (let i = offset; i < offset + length; i++) {
    const c = block[i]!;
    if (c === 0 || c === 0x20) {
      if (seen) break;
      continue;
    }
    if (c < 0x30 || c > 0x37) return null;
    value = value * 8 + (c - 0x30);
    seen = true;
  }
  return value;
}

/** True when all 512 bytes are zero (the end-of-archive marker). */
export function isZeroBlock(block: Uint8Array): boolean {
  for (let i = 0; i < BLOCK; i++) if (block[i] !== 0) return false;
  return true;
}

/** Parse one header block; checks the checksum so that random bytes are never taken for a header. */
export function parseTarHeader(block: Uint8Array): HeaderResult {
  if (block.length < BLOCK) return { kind: 'invalid', reason: 'short header block' };
  if (isZeroBlock(block)) return { kind: 'zero' };
  const stored = readNumber(block, 148, 8);
  if (stored === null) return { kind: 'invalid', reason: 'unreadable header checksum' };
  let unsigned = 0;
  let signed = 0;
  for (let i = 0; i < BLOCK; i++) {
    const c = i >= 148 && i < 156 ? 0x20 : block[i]!;
    unsigned += c;
    signed += c > 127 ? c - 256 : c;
  }
  if (stored !== unsigned && stored !== signed) return { kind: 'invalid', reason: 'header checksum mismatch' };
  const size = readNumber(block, 124, 12);
  if (size === null) return { kind: 'invalid', reason: 'unreadable entry size' };
  const mode = readNumber(block, 100, 8) ?? 0;
  const typeflag = block[156] === 0 ? '0' : String.fromCharCode(block[156]!);
  let name = readString(block, 0, 100);
  const magic = readString(block, 257, 6);
  if (magic === 'ustar' || magic.startsWith('ustar')) {
    // POSIX ustar prefix; GNU tar uses these bytes for times, and says so with "ustar  " magic.
    const isGnu = block[262] === 0x20 && block[263] === 0x20;
    if (!isGnu) {
      const prefix = readString(block, 345, 155);
      if (prefix) name = `${prefix}/${name}`;
    }
  }
  return { kind: 'header', header: { name, mode, size, typeflag, linkname: readString(block, 157, 100) } };
}

/** Where one PAX record's key and value sit in the header body (byte offsets). */
export interface PaxRecordSpan {
  key: string;
  valueStart: number;
  valueEnd: number;
}

/** The records of a PAX extended header body ('x' or 'g'): "<len> key=value\n", up to the first malformed one. */
export function paxRecordSpans(body: Uint8Array): PaxRecordSpan[] {
  const spans: PaxRecordSpan[] = [];
  let pos = 0;
  while (pos < body.length) {
    let space = pos;
    while (space < body.length && space - pos < 20 && body[space] !== 0x20) space++;
    const length = Number(decoder.decode(body.subarray(pos, space)));
    if (!Number.isInteger(length) || length <= 0 || pos + length > body.length || space >= pos + length) break;
    const end = pos + length - 1;
    let eq = space + 1;
    while (eq < end && body[eq] !== 0x3d) eq++;
    if (eq > space + 1 && eq < end) spans.push({ key: decoder.decode(body.subarray(space + 1, eq)), valueStart: eq + 1, valueEnd: end });
    pos += length;
  }
  return spans;
}

/** Parse the body of a PAX extended header ('x' or 'g'): "<len> key=value\n" records. */
export function parsePaxRecords(body: Uint8Array): Map<string, string> {
  const records = new Map<string, string>();
  for (const span of paxRecordSpans(body)) records.set(span.key, decoder.decode(body.subarray(span.valueStart, span.valueEnd)));
  return records;
}

/** What kind of entry a typeflag names, after long-name records are folded in. */
export type EntryType = 'file' | 'hardlink' | 'symlink' | 'directory' | 'other';

/** Map a typeflag to an entry type ('0', '7', '\0' and unknown flags with data are files). */
export function entryType(typeflag: string): EntryType {
  switch (typeflag) {
    case '1':
      return 'hardlink';
    case '2':
      return 'symlink';
    case '5':
      return 'directory';
    case '3':
    case '4':
    case '6':
      return 'other';
    default:
      return 'file';
  }
}

/** Typeflags whose body describes the next entry instead of being one. */
export function isMetaTypeflag(typeflag: string): boolean {
  return typeflag === 'x' || typeflag === 'g' || typeflag === 'L' || typeflag === 'K';
}

/** Name as the tar names it, without a leading `./` (and without a trailing `/` on directories). */
export function normalizeEntryName(name: string): string {
  let out = name;
  while (out.startsWith('./')) out = out.slice(2);
  if (out.length > 1 && out.endsWith('/')) out = out.slice(0, -1);
  return out;
}

/** An entry name that would escape the root if extracted: absolute, or with a `..` segment. */
export function isUnsafeEntryName(name: string): boolean {
  return name.startsWith('/') || name.split('/').includes('..');
}

/** Bytes of padding after a body of `size` bytes. */
export function paddingFor(size: number): number {
  const rest = size % BLOCK;
  return rest === 0 ? 0 : BLOCK - rest;
}
