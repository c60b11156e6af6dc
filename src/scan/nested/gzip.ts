// A gzip stream inside a layer (a .tar.gz, a .gz, a multi-member gzip).
import { gunzipSync } from 'node:zlib';
import { createDecompressor, sniffCompression } from '../compression.js';
import { DecompressSink, innerNameOf, wholeChunkSize } from './decompress.js';
import type { NestedFormat } from './nested-format.js';

/** The size a gzip stream's last member declares (ISIZE, its last 4 bytes: the whole output for the usual single member). */
function declaredSize(input: Buffer): number | null {
  return input.length >= 18 ? input.readUInt32LE(input.length - 4) : null;
}

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
      (input, maxOutputLength) => gunzipSync(input, { maxOutputLength, chunkSize: wholeChunkSize(declaredSize(input), input.length) }),
    ),
};
