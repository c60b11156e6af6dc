import { scanBytes } from './content-scanner.js';
import type { ContentFinding, ContentNote, ContentScanResult, KeyIdentity } from './types.js';

const BASE64_TOKEN = /[A-Za-z0-9+/_-]{40,}={0,2}/g;
const MAX_VALUE = 4 << 20;

/**
 * Scan one image-config string (an Env entry, a label, a history `created_by`) for private key
 * material: the value as-is, and every base64 form of it decoded — the whole value, the value of
 * `NAME=<base64>`, and each long base64 token inside a shell command (`echo LS0t... | base64 -d`),
 * so that a key passed as a base64 build argument is found. Offsets are character offsets in the value.
 * Well-known test keys and `allowKeys` identities are notes, as in file contents.
 */
export function scanConfigValue(value: string, knownKeys: KeyIdentity[], allowKeys: string[] = []): ContentScanResult {
  const options = { path: null, knownKeys, allowKeys };
  const text = value.length > MAX_VALUE ? value.slice(0, MAX_VALUE) : value;
  const direct = scanBytes(Buffer.from(text, 'utf8'), options);
  const findings: ContentFinding[] = [...direct.findings];
  const notes: ContentNote[] = [...direct.notes];
  if (value.length > MAX_VALUE)
    notes.push({ detector: 'config-scanner', offset: MAX_VALUE, message: `config value longer than ${MAX_VALUE} characters: only the first ${MAX_VALUE} were scanned` });
  const identity = (finding: ContentFinding): string => `${finding.detector}|${[...finding.fingerprints, ...finding.keygrips].sort().join(',')}`;
  const found = new Set(findings.filter((f) => f.fingerprints.length + f.keygrips.length > 0).map(identity));
  const tokens = new Map<number, string>();
  const trimmed = text.trim();
  tokens.set(text.indexOf(trimmed), trimmed);
  const assignment = /^([A-Za-z_][A-Za-z0-9_]*)=([\s\S]*)$/.exec(text);
  if (assignment) tokens.set(assignment[1]!.length + 1, assignment[2]!.trim());
  for (const match of text.matchAll(BASE64_TOKEN)) tokens.set(match.index, match[0]);
  for (const [offset, token] of tokens) {
    const compact = token.replace(/\s+/g, '');
    if (compact.length < 40 || !/^[A-Za-z0-9+/_-]+={0,2}$/.test(compact)) continue;
    const decoded = Buffer.from(compact, compact.includes('-') || compact.includes('_') ? 'base64url' : 'base64');
    if (decoded.length < 16) continue;
    const inner = scanBytes(decoded, options);
    for (const finding of inner.findings) {
      const alreadyFound =
        finding.fingerprints.length + finding.keygrips.length > 0 ? found.has(identity(finding)) : findings.some((f) => f.detector === finding.detector && f.offset === offset);
      if (alreadyFound) continue;
      found.add(identity(finding));
      findings.push({
        ...finding,
        offset,
        kind: finding.kind.startsWith('base64-') ? finding.kind : `base64-${finding.kind}`,
        excerpt: finding.excerpt.endsWith('(base64-encoded)') ? finding.excerpt : `${finding.excerpt} (base64-encoded)`,
        message: finding.message.startsWith('base64-encoded') ? finding.message : `base64-encoded ${finding.message}`,
      });
    }
    for (const note of inner.notes) notes.push({ ...note, offset, message: `in base64-decoded text: ${note.message}` });
  }
  findings.sort((a, b) => a.offset - b.offset);
  return { findings, notes };
}
