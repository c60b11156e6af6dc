// A single-file .bz2 (or a .tar.bz2) inside a layer, unpacked by the system's `bzip2` as a child
// process: Node has no bzip2 decoder. bzip2 needs under 4 MB of memory; its output is bounded by
// the usual ratio, size and time bounds.
import { sniffNestedCompression } from '../compression.js';
import { DecompressSink, innerNameOf } from './decompress.js';
import type { NestedFormat } from './nested-format.js';
import { createProcessDecompressor } from './process-decompressor.js';

export const bz2Format: NestedFormat = {
  name: 'bz2',
  matches: (head) => sniffNestedCompression(head) === 'bz2',
  open: ({ ctx, path, nestedPath, depth, decodes, openInner }) =>
    new DecompressSink(
      ctx,
      createProcessDecompressor({ command: 'bzip2', args: ['-d', '-c', '-q'], packageName: 'bzip2' }),
      openInner(innerNameOf(nestedPath, path, 'bz2'), depth, decodes + 1),
      path,
      nestedPath,
      'bzip2',
    ),
};
