import { createContentScanner, type ContentScanResult, type KeyIdentity } from '../../src/detectors/index.js';

/** Scan `bytes` whole, or in the chunk sizes `sizes` draws (streaming must not change the result). */
export function scanInChunks(bytes: Uint8Array, options: { path: string | null; knownKeys: KeyIdentity[] }, sizes: (() => number) | null = null): ContentScanResult {
  const scanner = createContentScanner(options);
  if (sizes === null) scanner.write(bytes);
  else
    for (let i = 0; i < bytes.length;) {
      const size = sizes();
      scanner.write(bytes.subarray(i, i + size));
      i += size;
    }
  return scanner.end();
}
