// A stand-in content scanner for walker tests: it reports every occurrence of MARKER, also across
// chunk boundaries. The walker's job is to deliver each file's bytes; the real detectors are tested
// by their own module and end to end in scan-target.test.ts.
import type { ScannerFactory } from '../../src/scan/entry-sink.js';

export const MARKER = 'EICBUILD-TEST-MARKER';

/** Factory plus a log of which paths were opened (to check every file was seen once). */
export function markerScanner(): { factory: ScannerFactory; opened: (string | null)[] } {
  const opened: (string | null)[] = [];
  const factory: ScannerFactory = ({ path }) => {
    opened.push(path);
    let tail = '';
    let offset = 0;
    const hits: number[] = [];
    return {
      write(chunk) {
        const text = tail + Buffer.from(chunk).toString('latin1');
        let at = text.indexOf(MARKER);
        while (at >= 0) {
          hits.push(offset - tail.length + at);
          at = text.indexOf(MARKER, at + 1);
        }
        offset += chunk.length;
        tail = text.slice(Math.max(0, text.length - (MARKER.length - 1)));
      },
      end() {
        return {
          findings: hits.map((hit) => ({
            detector: 'test-marker',
            kind: 'test',
            severity: 'high',
            offset: hit,
            fingerprints: [],
            keygrips: [],
            matchesPublicKey: false,
            excerpt: '[marker]',
            message: 'test marker',
          })),
          notes: [],
        };
      },
    };
  };
  return { factory, opened };
}
