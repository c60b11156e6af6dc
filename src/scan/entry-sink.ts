// What happens to the bytes of one file found in a layer: they go to a detector, and when they
// start like a nested format (src/scan/nested/: gzip, zstd, tar, zip …) its inner files are
// scanned too, bounded.
import type { LayerFinding } from './layer-findings.js';
import { isMemberDuplicate, type MemberRange } from './member-dedupe.js';
import { addNestedNote, type ScanContext } from './nested/context.js';
import { NESTED_FORMATS, type NestedReader } from './nested/index.js';
import { BLOCK } from './tar-header.js';
import type { EntrySink } from './tar-parser.js';

export type { LayerFinding, LayerNote } from './layer-findings.js';
export { DEFAULT_NESTED_LIMITS, type NestedLimits, type ScanContext, type ScannerFactory } from './nested/context.js';

/**
 * The sink for one file: every byte goes to a content scanner; the first block decides whether the
 * file is also read as a nested format (depth permitting).
 * `depth` counts archive containers already entered; `decodes` counts nested decompressions.
 */
export function createFileSink(ctx: ScanContext, path: string | null, nestedPath: string | null, depth: number, decodes = 0): EntrySink {
  // The detector judges names (e.g. `private-keys-v1.d/*.key`) by the innermost name.
  const scanner = ctx.createScanner({ path: nestedPath ?? path, knownKeys: ctx.keys.knownKeys, allowKeys: ctx.keys.allowKeys });
  const canNest = depth < ctx.limits.maxDepth && decodes < ctx.limits.maxDepth * 2;
  // Past the bounds the first block is still read: a nested format there is a note, not silence.
  let decided = false;
  let head: Uint8Array | null = null;
  let nested: NestedReader | null = null;

  // Pick the nested reader from the first block and feed it that block.
  const decide = (bytes: Uint8Array): void | Promise<void> => {
    decided = true;
    head = null;
    const name = nestedPath ?? path ?? '';
    const format = NESTED_FORMATS.find((candidate) => candidate.matches(bytes, name));
    if (format && !canNest) {
      const bound =
        depth >= ctx.limits.maxDepth
          ? `nesting depth bound (maxDepth ${ctx.limits.maxDepth} containers)`
          : `decompression bound (${ctx.limits.maxDepth * 2} nested decompressions)`;
      addNestedNote(ctx, 'nested-bounded', path, nestedPath, `${format.name} data not unpacked: the ${bound} is reached; its raw bytes were scanned`);
    } else if (format) {
      nested = format.open({
        ctx,
        path,
        nestedPath,
        depth,
        decodes,
        openInner: (innerPath, innerDepth, innerDecodes) => createFileSink(ctx, path, innerPath, innerDepth, innerDecodes),
      });
    }
    if (nested && bytes.length > 0) return nested.write(bytes);
  };

  const then = (first: void | Promise<void>, next: () => void | Promise<void>): void | Promise<void> => (first ? first.then(next) : next());

  // Runs after the members ended, so their findings are in ctx.findings to compare with.
  const finish = (): void => {
    const result = scanner.end();
    const own = result.findings.map((finding): LayerFinding => ({ ...finding, path, nestedPath }));
    // Where members sit verbatim in this file's bytes (an uncompressed tar or zip's stored members).
    const memberRanges: readonly MemberRange[] = (nested as NestedReader | null)?.memberRanges ?? [];
    for (const finding of own) {
      // The same key already reported inside a member (more precise): once is enough.
      if (memberRanges.length > 0 && isMemberDuplicate(finding, memberRanges, ctx.findings)) continue;
      ctx.findings.push(finding);
    }
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
      return then(decided$, () => then(nested ? nested.end() : undefined, finish));
    },
  };
}
