// A zstd stream inside a layer (a .tar.zst, a .zst).
import { createDecompressor, sniffCompression } from '../compression.js';
import { DecompressSink, innerNameOf } from './decompress.js';
import type { NestedFormat } from './nested-format.js';

export const zstdFormat: NestedFormat = {
  name: 'zstd',
  matches: (head) => sniffCompression(head) === 'zstd',
  open: ({ ctx, path, nestedPath, depth, decodes, openInner }) =>
    new DecompressSink(ctx, createDecompressor('zstd')!, openInner(innerNameOf(nestedPath, path, 'zstd'), depth, decodes + 1), path, nestedPath),
};
