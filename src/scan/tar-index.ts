// Index of an outer archive (a `docker save` tar or an OCI archive): where each member's bytes
// start, read from the headers alone, so blobs are read by (offset, size) without extraction.
import { open, type FileHandle } from 'node:fs/promises';
import { EicBuildError } from '../errors.js';
import { BLOCK, entryType, isMetaTypeflag, normalizeEntryName, paddingFor, parsePaxRecords, parseTarHeader, type EntryType } from './tar-header.js';

/** One member of an outer archive. */
export interface TarIndexEntry {
  name: string;
  type: EntryType;
  /** Byte offset of the member's body in the archive file. */
  offset: number;
  size: number;
  linkname: string;
}

async function readExactly(handle: FileHandle, length: number, position: number): Promise<Buffer> {
  const buffer = Buffer.alloc(length);
  let filled = 0;
  while (filled < length) {
    const { bytesRead } = await handle.read(buffer, filled, length - filled, position + filled);
    if (bytesRead === 0) break;
    filled += bytesRead;
  }
  return filled === length ? buffer : buffer.subarray(0, filled);
}

/** Read the member table of a tar file. Throws 'input-corrupt' naming the archive on anything odd. */
export async function readTarIndex(file: string): Promise<Map<string, TarIndexEntry>> {
  const handle = await open(file, 'r');
  try {
    const { size: fileSize } = await handle.stat();
    const entries = new Map<string, TarIndexEntry>();
    let position = 0;
    let zeros = 0;
    let pax: Map<string, string> | null = null;
    const globalPax = new Map<string, string>();
    let longName: string | null = null;
    let longLink: string | null = null;
    const corrupt = (reason: string) =>
      new EicBuildError('input-corrupt', `${file}: not a readable tar archive: ${reason}`, {
        hint: 'the archive is damaged or truncated (or not an image archive); re-export it with docker save / skopeo copy.',
      });
    for (;;) {
      const block = await readExactly(handle, BLOCK, position);
      if (block.length === 0) break; // tolerated: no end marker after the last member
      if (block.length < BLOCK) throw corrupt(`truncated header at byte ${position}`);
      const parsed = parseTarHeader(block);
      if (parsed.kind === 'zero') {
        position += BLOCK;
        if (++zeros >= 2) break;
        continue;
      }
      if (parsed.kind === 'invalid') throw corrupt(`${parsed.reason} at byte ${position}`);
      zeros = 0;
      const header = parsed.header;
      const bodyStart = position + BLOCK;
      let size = header.size;
      if (isMetaTypeflag(header.typeflag)) {
        if (size > 1 << 20) throw corrupt(`extended header at byte ${position} claims ${size} bytes`);
        const body = await readExactly(handle, size, bodyStart);
        if (body.length < size) throw corrupt(`truncated extended header at byte ${position}`);
        if (header.typeflag === 'x') pax = parsePaxRecords(body);
        else if (header.typeflag === 'g') for (const [k, v] of parsePaxRecords(body)) globalPax.set(k, v);
        else {
          const end = body.indexOf(0);
          const text = body.subarray(0, end < 0 ? body.length : end).toString('utf8');
          if (header.typeflag === 'L') longName = text;
          else longLink = text;
        }
        position = bodyStart + size + paddingFor(size);
        continue;
      }
      const paxSize = pax?.get('size');
      if (paxSize !== undefined) size = Number(paxSize);
      if (!Number.isSafeInteger(size) || size < 0) throw corrupt(`invalid size at byte ${position}`);
      const type = entryType(header.typeflag);
      const bodySize = type === 'symlink' || type === 'directory' ? 0 : size;
      if (bodyStart + bodySize > fileSize) {
        throw corrupt(
          `member '${normalizeEntryName(pax?.get('path') ?? longName ?? header.name)}' needs ${bodySize} bytes at byte ${bodyStart}, but the file ends at ${fileSize} (truncated)`,
        );
      }
      const name = normalizeEntryName(pax?.get('path') ?? globalPax.get('path') ?? longName ?? header.name);
      entries.set(name, { name, type, offset: bodyStart, size: bodySize, linkname: pax?.get('linkpath') ?? longLink ?? header.linkname });
      pax = null;
      longName = null;
      longLink = null;
      position = bodyStart + bodySize + paddingFor(bodySize);
    }
    return entries;
  } finally {
    await handle.close();
  }
}

/** Read a whole (small) member into memory: manifests, configs, indexes. Bounded. */
export async function readTarMember(file: string, entry: TarIndexEntry, limit = 64 * 1024 * 1024): Promise<Buffer> {
  if (entry.size > limit) {
    throw new EicBuildError('input-corrupt', `${file}: member '${entry.name}' is ${entry.size} bytes; a manifest or config over ${limit} bytes is not plausible`);
  }
  const handle = await open(file, 'r');
  try {
    const body = await readExactly(handle, entry.size, entry.offset);
    if (body.length < entry.size) throw new EicBuildError('input-corrupt', `${file}: member '${entry.name}' is truncated`);
    return body;
  } finally {
    await handle.close();
  }
}
