// Git packfiles (`.git/objects/pack/pack-*.pack`, v2/v3), parsed from memory: each entry's header,
// its zlib-deflated body, and OFS/REF deltas resolved against bases in the same pack. Every size a
// header declares is checked against the budget before anything that size is allocated. Pure.
import { createHash } from 'node:crypto';
import { inflateSync } from 'node:zlib';

/** A pack that cannot be read (truncated, corrupt, or hostile). */
export class GitPackError extends Error {
  override name = 'GitPackError';
}

/** A pack past a bound: what was resolved before it is still returned. */
export class GitPackBound extends Error {
  override name = 'GitPackBound';
  /** Objects resolved before the bound. */
  partial: GitPackObject[] = [];
}

const TYPES = ['', 'commit', 'tree', 'blob', 'tag'] as const;
const OFS_DELTA = 6;
const REF_DELTA = 7;
/** Longest delta chain followed (git's default --depth is 50). */
export const MAX_DELTA_DEPTH = 64;

/** One object of the pack, resolved. */
export interface GitPackObject {
  oid: string;
  type: string;
  data: Buffer;
}

interface RawEntry {
  offset: number;
  type: number;
  data: Buffer;
  /** OFS: base offset; REF: base oid. */
  base: number | string | null;
}

/** True for `PACK`, version 2 or 3. */
export function looksLikeGitPack(head: Uint8Array): boolean {
  return (
    head.length >= 12 &&
    head[0] === 0x50 &&
    head[1] === 0x41 &&
    head[2] === 0x43 &&
    head[3] === 0x4b &&
    head[4] === 0 &&
    head[5] === 0 &&
    head[6] === 0 &&
    (head[7] === 2 || head[7] === 3)
  );
}

function objectId(type: string, data: Buffer): string {
  return createHash('sha1').update(`${type} ${data.length}\0`).update(data).digest('hex');
}

function readVarint(data: Uint8Array, at: number, what: string): { value: number; next: number } {
  let value = 0;
  let shift = 0;
  for (;;) {
    if (at >= data.length) throw new GitPackError(`${what} runs past the end`);
    const byte = data[at++]!;
    value += (byte & 0x7f) * 2 ** shift;
    shift += 7;
    if (!(byte & 0x80)) return { value, next: at };
    if (shift > 49) throw new GitPackError(`${what} is too long`);
  }
}

/** Apply a git delta to `base`; the result size is checked against `budget` before allocation. */
export function applyGitDelta(base: Buffer, delta: Buffer, budget: number): Buffer {
  const source = readVarint(delta, 0, 'delta source size');
  if (source.value !== base.length) throw new GitPackError(`delta expects a ${source.value}-byte base, the base has ${base.length}`);
  const target = readVarint(delta, source.next, 'delta target size');
  if (target.value > budget) throw new GitPackBound(`a delta declares a ${target.value}-byte object, over the ${budget} bytes left of maxHeldBytes`);
  const out = Buffer.allocUnsafe(target.value);
  let written = 0;
  let at = target.next;
  while (at < delta.length) {
    const op = delta[at++]!;
    if (op & 0x80) {
      let offset = 0;
      let size = 0;
      for (let i = 0; i < 4; i++) if (op & (1 << i)) offset += (delta[at++] ?? 0) * 2 ** (8 * i);
      for (let i = 0; i < 3; i++) if (op & (0x10 << i)) size += (delta[at++] ?? 0) * 2 ** (8 * i);
      if (size === 0) size = 0x10000;
      if (at > delta.length || offset + size > base.length || written + size > out.length) throw new GitPackError('delta copies outside its base or its declared size');
      base.copy(out, written, offset, offset + size);
      written += size;
    } else if (op > 0) {
      if (at + op > delta.length || written + op > out.length) throw new GitPackError('delta inserts past its end or its declared size');
      delta.copy(out, written, at, at + op);
      written += op;
      at += op;
    } else {
      throw new GitPackError('delta opcode 0 is reserved');
    }
  }
  if (written !== out.length) throw new GitPackError(`delta produced ${written} bytes, it declares ${out.length}`);
  return out;
}

/**
 * Every object of the pack in `pack`, deltas resolved. `maxBytes` bounds the inflated bytes held
 * (entries and resolved objects). Throws GitPackError when the pack is unreadable; a GitPackBound
 * carries the objects resolved so far on `partial`.
 */
export function parseGitPack(pack: Buffer, maxBytes: number): GitPackObject[] {
  if (!looksLikeGitPack(pack)) throw new GitPackError('no PACK header');
  const count = pack.readUInt32BE(8);
  // Each entry needs at least 2 bytes (a header byte, a zlib stream): a larger count is a lie.
  if (count > (pack.length - 12) / 2) throw new GitPackError(`header claims ${count} objects in ${pack.length} bytes`);
  let held = 0;
  const entries: RawEntry[] = [];
  const byOffset = new Map<number, RawEntry>();
  let at = 12;
  let bound: GitPackBound | null = null;
  for (let i = 0; i < count; i++) {
    const offset = at;
    if (at >= pack.length) throw new GitPackError(`entry ${i} of ${count} starts past the end (truncated)`);
    let byte = pack[at++]!;
    const type = (byte >> 4) & 7;
    let size = byte & 0x0f;
    let shift = 4;
    while (byte & 0x80) {
      if (at >= pack.length || shift > 49) throw new GitPackError(`entry ${i}: size runs past the end`);
      byte = pack[at++]!;
      size += (byte & 0x7f) * 2 ** shift;
      shift += 7;
    }
    let base: number | string | null = null;
    if (type === OFS_DELTA) {
      if (at >= pack.length) throw new GitPackError(`entry ${i}: delta offset runs past the end`);
      byte = pack[at++]!;
      let back = byte & 0x7f;
      while (byte & 0x80) {
        if (at >= pack.length || back > 2 ** 45) throw new GitPackError(`entry ${i}: delta offset runs past the end`);
        byte = pack[at++]!;
        back = (back + 1) * 128 + (byte & 0x7f);
      }
      base = offset - back;
      if (back === 0 || base < 12) throw new GitPackError(`entry ${i}: delta base offset ${base} is outside the pack`);
    } else if (type === REF_DELTA) {
      if (at + 20 > pack.length) throw new GitPackError(`entry ${i}: delta base id runs past the end`);
      base = pack.toString('hex', at, at + 20);
      at += 20;
    } else if (!TYPES[type]) {
      throw new GitPackError(`entry ${i}: object type ${type} is not valid`);
    }
    if (size > maxBytes - held) {
      bound = new GitPackBound(`entry ${i} declares ${size} bytes, over the ${maxBytes - held} bytes left of maxHeldBytes (${maxBytes})`);
      break;
    }
    let inflated: { buffer: Buffer; engine: { bytesWritten: number } };
    try {
      // maxOutputLength: the declared size is the most zlib may produce (no allocation beyond it).
      inflated = inflateSync(pack.subarray(at), { info: true, maxOutputLength: Math.max(1, size) }) as unknown as typeof inflated;
    } catch (error) {
      throw new GitPackError(`entry ${i}: zlib data is corrupt, truncated or larger than declared (${error instanceof Error ? error.message : String(error)})`);
    }
    if (inflated.buffer.length !== size) throw new GitPackError(`entry ${i}: inflates to ${inflated.buffer.length} bytes, the header declares ${size}`);
    held += size;
    at += inflated.engine.bytesWritten;
    const entry: RawEntry = { offset, type, data: inflated.buffer, base };
    entries.push(entry);
    byOffset.set(offset, entry);
  }

  // Non-deltas first; then deltas whose base is resolved, pass after pass (a base may come later
  // in the pack, or be a delta itself): at most MAX_DELTA_DEPTH passes, each linear.
  const resolved = new Map<RawEntry, GitPackObject>();
  const byOid = new Map<string, GitPackObject>();
  const keep = (entry: RawEntry, type: string, data: Buffer) => {
    const object = { oid: objectId(type, data), type, data };
    resolved.set(entry, object);
    byOid.set(object.oid, object);
  };
  for (const entry of entries) if (entry.base === null) keep(entry, TYPES[entry.type]!, entry.data);
  let pending = entries.filter((entry) => entry.base !== null);
  try {
    for (let pass = 0; pass < MAX_DELTA_DEPTH && pending.length > 0; pass++) {
      const waiting: RawEntry[] = [];
      for (const entry of pending) {
        const baseEntry = typeof entry.base === 'number' ? byOffset.get(entry.base) : undefined;
        if (typeof entry.base === 'number' && !baseEntry) throw new GitPackError(`delta at byte ${entry.offset}: no entry at base offset ${entry.base}`);
        const base = baseEntry ? resolved.get(baseEntry) : byOid.get(entry.base as string);
        if (!base) {
          waiting.push(entry);
          continue;
        }
        const data = applyGitDelta(base.data, entry.data, maxBytes - held);
        held += data.length;
        keep(entry, base.type, data);
      }
      if (waiting.length === pending.length) break;
      pending = waiting;
    }
  } catch (error) {
    if (error instanceof GitPackBound) bound ??= error;
    else throw error;
  }
  const objects = entries.map((entry) => resolved.get(entry)).filter((object): object is GitPackObject => object !== undefined);
  const unresolved = entries.length - objects.length;
  if (!bound && unresolved > 0) {
    bound = new GitPackBound(`${unresolved} delta object(s) have no base in this pack (a thin pack) or a chain deeper than ${MAX_DELTA_DEPTH}`);
  }
  if (bound) {
    bound.partial = objects;
    throw bound;
  }
  return objects;
}
