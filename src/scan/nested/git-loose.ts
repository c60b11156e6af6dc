// A loose git object (`.git/objects/ab/cdef…`): zlib-deflated `<type> <size>\0<content>`. A key
// committed and then deleted from the working tree still sits here. Recognised by its path (the
// zlib header alone is two bytes, too weak to claim arbitrary files), unpacked with the usual bounds;
// the content after the object header is scanned as the inner file `<oid>:<type>`.
import { createInflate, inflateSync } from 'node:zlib';
import type { EntrySink } from '../tar-parser.js';
import { addNestedNote } from './context.js';
import { DecompressSink } from './decompress.js';
import type { NestedFormat, NestedOrigin } from './nested-format.js';

const LOOSE_OBJECT_PATH = /(^|\/)objects\/([0-9a-f]{2})\/([0-9a-f]{38}|[0-9a-f]{62})$/;
const GIT_TYPES = new Set(['blob', 'tree', 'commit', 'tag']);
const MAX_HEADER = 32;

/** True for a zlib stream header (deflate, a valid check value, no preset dictionary). */
export function looksLikeZlib(head: Uint8Array): boolean {
  return head.length >= 2 && (head[0]! & 0x0f) === 8 && head[0]! >> 4 <= 7 && (head[1]! & 0x20) === 0 && ((head[0]! << 8) | head[1]!) % 31 === 0;
}

/** Strips `<type> <size>\0` and hands the rest to the sink opened for the object. */
class GitObjectSink implements EntrySink {
  private header: number[] = [];
  private inner: EntrySink | null = null;
  private failed = false;

  constructor(
    private readonly origin: NestedOrigin,
    private readonly oid: string,
  ) {}

  private fail(reason: string): void {
    this.failed = true;
    addNestedNote(this.origin.ctx, 'nested-unreadable', this.origin.path, this.origin.nestedPath, `not a git object: ${reason}; its raw bytes were scanned`);
  }

  write(chunk: Uint8Array): void | Promise<void> {
    if (this.failed) return;
    if (this.inner) return this.inner.write(chunk);
    const nul = chunk.indexOf(0);
    const take = nul < 0 ? chunk : chunk.subarray(0, nul);
    if (this.header.length + take.length > MAX_HEADER) return this.fail('object header longer than 32 bytes');
    this.header.push(...take);
    if (nul < 0) return;
    const text = Buffer.from(this.header).toString('latin1');
    const match = /^([a-z]+) (\d+)$/.exec(text);
    if (!match || !GIT_TYPES.has(match[1]!)) return this.fail(`object header '${text.replace(/[^ -~]/g, '?')}'`);
    const { depth, decodes, nestedPath, openInner } = this.origin;
    this.inner = openInner(joinName(nestedPath, `${this.oid}:${match[1]}`), depth, decodes + 1);
    const rest = chunk.subarray(nul + 1);
    return rest.length > 0 ? this.inner.write(rest) : undefined;
  }

  end(): void | Promise<void> {
    if (this.failed) return;
    if (!this.inner) return this.fail('ends inside the object header');
    return this.inner.end();
  }
}

function joinName(prefix: string | null, name: string): string {
  return prefix ? `${prefix}/${name}` : name;
}

export const gitLooseFormat: NestedFormat = {
  name: 'git-loose',
  matches: (head, name) => LOOSE_OBJECT_PATH.test(name) && looksLikeZlib(head),
  open: (origin) => {
    const match = LOOSE_OBJECT_PATH.exec(origin.nestedPath ?? origin.path ?? '')!;
    const oid = `${match[2]}${match[3]}`;
    return new DecompressSink(
      origin.ctx,
      () => createInflate({ chunkSize: 1 << 20 }),
      new GitObjectSink(origin, oid),
      origin.path,
      origin.nestedPath,
      'git object (zlib)',
      (input, maxOutputLength) => inflateSync(input, { maxOutputLength }),
    );
  },
};
