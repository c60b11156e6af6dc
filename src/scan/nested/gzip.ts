// A gzip stream inside a layer (a .tar.gz, a .gz, a multi-member gzip).
import { gunzipSync } from 'node:zlib';
import { createDecompressor, sniffCompression } from '../compression.js';
import { DecompressSink, innerNameOf } from './decompress.js';
import type { NestedFormat } from './nested-format.js';

export const gzipFormat: NestedFormat = {
  name: 'gzip',
  matches: (head) => sniffCompression(head) === 'gzip',
  open: ({ ctx, path, nestedPath, depth, decodes, openInner }) =>
    new DecompressSink(
      ctx,
      () => createDecompressor('gzip')!,
      openInner(innerNameOf(nestedPath, path, 'gzip'), depth, decodes + 1),
      path,
      nestedPath,
      'gzip',
      (input, maxOutputLength) => gunzipSync(input, { maxOutputLength }),
    ),
};
