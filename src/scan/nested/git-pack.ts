// A git packfile inside a layer (what `git gc` leaves of a committed key): held in memory up to
// maxHeldBytes (deltas need their bases), then every object, deltas resolved, is scanned as the
// inner file `<oid>:<type>`. A pack over the bound, or unreadable, is a note naming it.
import type { EntrySink } from '../tar-parser.js';
import { addNestedNote, joinNested } from './context.js';
import { GitPackBound, GitPackError, looksLikeGitPack, parseGitPack, type GitPackObject } from './git-pack-parse.js';
import type { NestedFormat, NestedOrigin } from './nested-format.js';

class GitPackSink implements EntrySink {
  private chunks: Buffer[] = [];
  private length = 0;
  private overBound = false;

  constructor(private readonly origin: NestedOrigin) {}

  private note(kind: 'nested-bounded' | 'nested-unreadable', message: string): void {
    addNestedNote(this.origin.ctx, kind, this.origin.path, this.origin.nestedPath, message);
  }

  write(chunk: Uint8Array): void {
    if (this.overBound) return;
    this.length += chunk.length;
    if (this.length > this.origin.ctx.limits.maxHeldBytes) {
      this.overBound = true;
      this.chunks = [];
      this.note(
        'nested-bounded',
        `bound reached: git pack larger than maxHeldBytes (${this.origin.ctx.limits.maxHeldBytes}); its objects were not unpacked (its raw bytes were scanned)`,
      );
      return;
    }
    this.chunks.push(Buffer.from(chunk));
  }

  async end(): Promise<void> {
    if (this.overBound) return;
    const pack = Buffer.concat(this.chunks, this.length);
    this.chunks = [];
    let objects: GitPackObject[];
    try {
      objects = parseGitPack(pack, this.origin.ctx.limits.maxHeldBytes);
    } catch (error) {
      if (error instanceof GitPackBound) {
        this.note('nested-bounded', `bound reached: ${error.message}; the ${error.partial.length} object(s) resolved before it were scanned`);
        objects = error.partial;
      } else if (error instanceof GitPackError) {
        this.note('nested-unreadable', `git pack could not be read (${error.message}); its raw bytes were scanned`);
        return;
      } else {
        throw error;
      }
    }
    const { ctx, nestedPath, depth, decodes, openInner } = this.origin;
    for (const object of objects) {
      ctx.inflated += object.data.length;
      if (ctx.inflated > ctx.limits.maxInflatedBytes) {
        this.note(
          'nested-bounded',
          `bound reached: nested archives in this layer inflate past maxInflatedBytes (${ctx.limits.maxInflatedBytes}); the rest of this pack was not scanned`,
        );
        return;
      }
      const sink = openInner(joinNested(nestedPath, `${object.oid}:${object.type}`), depth + 1, decodes);
      const written = sink.write(object.data);
      if (written) await written;
      const ended = sink.end();
      if (ended) await ended;
    }
  }
}

export const gitPackFormat: NestedFormat = {
  name: 'git-pack',
  matches: (head) => looksLikeGitPack(head),
  open: (origin) => new GitPackSink(origin),
};
