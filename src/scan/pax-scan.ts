// The values of PAX extended headers are published bytes like file contents: GNU tar stores
// extended attributes there (`SCHILY.xattr.user.*`, raw), bsdtar too (`LIBARCHIVE.xattr.*`, base64),
// and any writer may add its own records. No extractor makes them a file, so the file walk never
// sees them: this scans each header's body as it comes out of the tar parser.
import { scanConfigValue, type ContentScanner, type DetectorKeys } from './detector-api.js';
import type { LayerFinding, LayerNote, ScannerFactory } from './entry-sink.js';
import { paxRecordSpans } from './tar-header.js';
import type { ExtendedHeader } from './tar-parser.js';

/** Base64 values shorter than this cannot hold a key (the config-value scanner's own floor). */
const MIN_BASE64_VALUE = 40;

/** Where a finding in a PAX header is: the entry it describes, and the record holding the bytes. */
function placeOf(header: ExtendedHeader, offset: number): { path: string; nestedPath: string } {
  const span = paxRecordSpans(header.body).find((record) => offset >= record.valueStart && offset < record.valueEnd);
  const kind = header.typeflag === 'g' ? 'global PAX header' : 'PAX header';
  return {
    path: header.describes ?? `(${kind} at byte ${header.headerOffset})`,
    nestedPath: span ? `${kind} record ${span.key}` : `${kind} at byte ${header.headerOffset}`,
  };
}

/**
 * Scan one PAX extended header: its whole body with the streaming detectors (raw binary values,
 * armored text, base64-wrapped armor), and each value with the config-value scanner (base64 of any
 * key form, `NAME=<base64>`). The same key found both ways is reported once.
 */
export function scanExtendedHeader(header: ExtendedHeader, keys: DetectorKeys, createScanner: ScannerFactory): { findings: LayerFinding[]; notes: LayerNote[] } {
  const scanner: ContentScanner = createScanner({ path: null, knownKeys: keys.knownKeys, allowKeys: keys.allowKeys });
  scanner.write(header.body);
  const direct = scanner.end();
  const findings: LayerFinding[] = direct.findings.map((finding) => ({ ...finding, ...placeOf(header, finding.offset) }));
  const notes: LayerNote[] = direct.notes.map((note) => ({ kind: 'detector', detector: note.detector, ...placeOf(header, note.offset), message: note.message }));
  const seen = new Set(findings.map((finding) => `${finding.detector}|${[...finding.fingerprints, ...finding.keygrips].join(',')}`));
  for (const span of paxRecordSpans(header.body)) {
    if (span.valueEnd - span.valueStart < MIN_BASE64_VALUE) continue;
    const value = Buffer.from(header.body.subarray(span.valueStart, span.valueEnd)).toString('latin1');
    if (!/[A-Za-z0-9+/]{40}/.test(value)) continue;
    const decoded = scanConfigValue(value, keys.knownKeys, keys.allowKeys);
    for (const finding of decoded.findings) {
      const identity = `${finding.detector}|${[...finding.fingerprints, ...finding.keygrips].join(',')}`;
      if (seen.has(identity) || !finding.kind.startsWith('base64-')) continue;
      seen.add(identity);
      findings.push({ ...finding, offset: span.valueStart + finding.offset, ...placeOf(header, span.valueStart) });
    }
  }
  return { findings, notes };
}
