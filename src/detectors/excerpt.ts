/** A redacted excerpt: a description or marker line and the number of bytes withheld. */
export function redactedExcerpt(head: string, withheld: number): string {
  return `${head} [REDACTED ${withheld} bytes]`;
}

/** The printable marker line of an armored block (`-----BEGIN X-----`), never anything after it. */
export function markerLine(type: string): string {
  return `-----BEGIN ${type}-----`;
}

/** Describe keys by fingerprint/keygrip for a message (public identifiers, not secrets). */
export function describeKeys(fingerprints: string[], keygrips: string[]): string {
  const parts: string[] = [];
  if (fingerprints.length > 0) parts.push(`fingerprint${fingerprints.length > 1 ? 's' : ''} ${fingerprints.join(', ')}`);
  if (keygrips.length > 0) parts.push(`keygrip${keygrips.length > 1 ? 's' : ''} ${keygrips.join(', ')}`);
  return parts.join('; ');
}

/** True when a captured block sits inside a JSON string: its BEGIN line ends in an escaped `\n` or `\r\n`. */
export function isJsonEscapedBlock(text: string, type: string): boolean {
  const afterMarker = text.slice(markerLine(type).length, markerLine(type).length + 2);
  return afterMarker === '\\n' || afterMarker === '\\r';
}

/** Undo JSON string escaping of a captured armored block (`\n`, `\r`, `\/`, `\"`, `\\`). */
export function unescapeJson(text: string): string {
  return text.replace(/\\(r\\n|n|r|\/|"|\\|t)/g, (_m, e: string) => (e === 'r\\n' || e === 'n' ? '\n' : e === 'r' ? '\r' : e === 't' ? '\t' : e));
}
