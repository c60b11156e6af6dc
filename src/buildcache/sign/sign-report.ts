/** What `buildcache sign` did to one entry. */
export interface SignOutcome {
  kind: 'signed' | 'skipped' | 'failed';
  id: string;
  detail: string;
  manifestDigest?: string;
  /** OCI: digest of the signature manifest. */
  signatureDigest?: string;
}

/** One line per entry and a count, for people. */
export function formatSignText(mirror: string, fingerprint: string, outcomes: readonly SignOutcome[]): string {
  const lines = [`mirror: ${mirror}`, `signing key: ${fingerprint}`];
  for (const o of outcomes) lines.push(`${o.kind.padEnd(7)}  ${o.id}  ${o.detail}`);
  const count = (kind: SignOutcome['kind']) => outcomes.filter((o) => o.kind === kind).length;
  lines.push(`${outcomes.length} entries: ${count('signed')} signed, ${count('skipped')} skipped, ${count('failed')} failed`);
  return `${lines.join('\n')}\n`;
}

/** The sign result for scripts. */
export function formatSignJson(mirror: string, fingerprint: string, outcomes: readonly SignOutcome[]): string {
  return `${JSON.stringify({ mirror, fingerprint, entries: outcomes, ok: outcomes.every((o) => o.kind !== 'failed') }, null, 2)}\n`;
}
