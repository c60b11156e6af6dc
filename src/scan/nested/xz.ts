// A single-file .xz (or a .tar.xz, a .deb's data.tar.xz) inside a layer, unpacked by the system's
// `xz` (xz-utils) as a child process: Node has no xz decoder. Its dictionary memory is capped by
// maxHeldBytes, its output by the usual ratio, size and time bounds.
import { sniffNestedCompression } from '../compression.js';
import { DecompressSink, innerNameOf } from './decompress.js';
import type { NestedFormat } from './nested-format.js';
import { createProcessDecompressor } from './process-decompressor.js';

export const xzFormat: NestedFormat = {
  name: 'xz',
  matches: (head) => sniffNestedCompression(head) === 'xz',
  open: ({ ctx, path, nestedPath, depth, decodes, openInner }) =>
    new DecompressSink(
      ctx,
      createProcessDecompressor({ command: 'xz', args: ['-d', '-c', '-q', '-T1', `--memlimit-decompress=${ctx.limits.maxHeldBytes}`], packageName: 'xz-utils' }),
      openInner(innerNameOf(nestedPath, path, 'xz'), depth, decodes + 1),
      path,
      nestedPath,
      'xz',
    ),
};
