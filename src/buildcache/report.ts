import type { Signer } from './pgp-verify.js';
import type { LockEntry, SpackLockSelection } from './spack-lock.js';
import type { TrustedKey } from './trust.js';

/** Status of one buildcache entry. */
export type EntryKind =
  | 'verified'
  | 'unsigned'
  | 'bad-signature'
  | 'untrusted-signer'
  | 'checksum-mismatch'
  | 'missing-blob'
  | 'not-found'
  /** `--spack-lock`: the lock names it, this mirror does not hold it (not a failure: another mirror may). */
  | 'absent';

/** A blob an entry lists (spec, tarball, OCI config or layer). */
export interface EntryBlob {
  digest: string;
  size?: number;
  mediaType?: string;
}

/** The verdict on one entry, with what a person needs to act on it. */
export interface EntryResult {
  kind: EntryKind;
  /** `name-version-hash` */
  id: string;
  /** Manifest path, URL or `host/repo:tag`. */
  location: string;
  /** One sentence: why this status. */
  detail: string;
  signer?: Signer;
  signers?: Signer[];
  /** sha256 of the signed document (file mirrors: the spec manifest file; OCI: the image manifest). */
  manifestDigest?: string;
  /** OCI: `host/repo@sha256:…`, what an install should pin to. */
  reference?: string;
  blobs?: EntryBlob[];
}

/** A public key published inside the mirror: information, never trust. */
export interface MirrorKey {
  fingerprint: string;
  userIds: string[];
  trusted: boolean;
}

/** Everything `buildcache verify` found. */
export interface VerifyReport {
  mirror: string;
  layout: 'v2' | 'v3' | 'oci';
  trusted: { fingerprint: string; userIds: string[]; source: string }[];
  mirrorKeys: MirrorKey[];
  entries: EntryResult[];
  /** Set when the entries were selected from a Spack lockfile (`--spack-lock`). */
  lock?: LockSelectionInfo;
}

/** What a `--spack-lock` selection was made of (counts of the outcome come from lockCounts). */
export interface LockSelectionInfo {
  file: string;
  lockfileVersion: number;
  includeBuildDeps: boolean;
  /** Entries selected from the lock. */
  selected: number;
  /** Lock nodes not selected: externals, build-only dependencies (unless includeBuildDeps), nodes no root reaches. */
  skipped: { external: number; buildOnly: number; unreachable: number };
}

/** The lock part of a report, from a parsed selection. */
export function lockSelectionInfo(selection: SpackLockSelection): LockSelectionInfo {
  return {
    file: selection.file,
    lockfileVersion: selection.lockfileVersion,
    includeBuildDeps: selection.includeBuildDeps,
    selected: selection.entries.length,
    skipped: {
      external: selection.skipped.filter((s) => s.reason === 'external').length,
      buildOnly: selection.skipped.filter((s) => s.reason === 'build-only').length,
      unreachable: selection.skipped.filter((s) => s.reason === 'unreachable').length,
    },
  };
}

/** The verdict on a lock entry this mirror does not hold. */
export function absentEntry(entry: LockEntry, location: string): EntryResult {
  return { kind: 'absent', id: entry.id, location, detail: 'not in this mirror; another mirror must provide it, or spack install fails' };
}

/** Counts of a `--spack-lock` run: selected from the lock, present in this mirror, verified, absent. */
export function lockCounts(report: VerifyReport): { selected: number; present: number; verified: number; absent: number } {
  const absent = report.entries.filter((e) => e.kind === 'absent').length;
  return {
    selected: report.lock?.selected ?? report.entries.length,
    present: report.entries.length - absent,
    verified: report.entries.filter((e) => e.kind === 'verified').length,
    absent,
  };
}

/** Describe pinned keys for a report. */
export function describeTrusted(keys: readonly TrustedKey[]): VerifyReport['trusted'] {
  return keys.map((k) => ({ fingerprint: k.fingerprint, userIds: k.userIds, source: k.source }));
}

/** Count of entries per status. */
export function summarizeEntries(entries: readonly EntryResult[]): Partial<Record<EntryKind, number>> {
  const counts: Partial<Record<EntryKind, number>> = {};
  for (const entry of entries) counts[entry.kind] = (counts[entry.kind] ?? 0) + 1;
  return counts;
}

/**
 * 0 when every requested entry verified (and there was at least one), else 1. With a lockfile selection,
 * 0 when every entry the mirror holds verified, even none: absent entries are for other mirrors.
 */
export function verifyExitCode(report: VerifyReport): 0 | 1 {
  if (report.lock) return report.entries.every((e) => e.kind === 'verified' || e.kind === 'absent') ? 0 : 1;
  return report.entries.length > 0 && report.entries.every((e) => e.kind === 'verified') ? 0 : 1;
}

/** The report's line about a lockfile selection. */
export function formatLockLine(report: VerifyReport): string | undefined {
  const lock = report.lock;
  if (!lock) return undefined;
  const counts = lockCounts(report);
  const left = [
    `${lock.skipped.external} external`,
    ...(lock.includeBuildDeps ? [] : [`${lock.skipped.buildOnly} build-only`]),
    ...(lock.skipped.unreachable ? [`${lock.skipped.unreachable} unreachable`] : []),
  ].join(', ');
  const head = `lock: ${lock.file} (lockfile v${lock.lockfileVersion}): ${counts.selected} entries selected (${left} not selected)`;
  if (counts.present === 0) {
    return `${head}; none is in this mirror: nothing to verify (${counts.absent} absent; another mirror must provide them, or spack install fails)`;
  }
  return `${head}; ${counts.present} in this mirror, ${counts.verified} verified; ${counts.absent} absent (another mirror must provide them, or spack install fails)`;
}

/** Sentence naming a signer. */
export function formatSigner(signer: Signer): string {
  const who = signer.userIds?.length ? ` "${signer.userIds[0]}"` : '';
  return `key ${signer.keyId}${signer.fingerprint ? ` (fingerprint ${signer.fingerprint})` : ''}${who}`;
}

/** The explanation for an untrusted signer, naming what is trusted instead. */
export function untrustedDetail(signers: readonly Signer[], trusted: readonly TrustedKey[], mirrorKeys: readonly MirrorKey[]): string {
  const published = signers.some((s) => s.fingerprint && mirrorKeys.some((k) => k.fingerprint === s.fingerprint));
  const names = signers.map(formatSigner).join(', ');
  const pinned = trusted.length ? trusted.map((k) => k.fingerprint).join(', ') : 'none (pass --public-key FILE)';
  return `signed by ${names}${published ? ', a key the mirror publishes but you have not pinned' : ''}; trusted: ${pinned}`;
}

/** The report for people: one line per entry, then a summary. */
export function formatVerifyText(report: VerifyReport): string {
  const lines: string[] = [];
  lines.push(`mirror: ${report.mirror} (layout ${report.layout})`);
  lines.push(`trusted keys: ${report.trusted.length ? report.trusted.map((k) => `${k.fingerprint}${k.userIds[0] ? ` "${k.userIds[0]}"` : ''}`).join(', ') : 'none'}`);
  for (const key of report.mirrorKeys) {
    lines.push(`key published in the mirror (information only): ${key.fingerprint}${key.userIds[0] ? ` "${key.userIds[0]}"` : ''}${key.trusted ? ' [pinned]' : ' [not pinned]'}`);
  }
  const width = Math.max(0, ...report.entries.map((e) => e.kind.length));
  for (const entry of report.entries) {
    lines.push(`${entry.kind.padEnd(width)}  ${entry.id}  ${entry.detail}${entry.manifestDigest ? ` [${entry.manifestDigest}]` : ''}`);
  }
  const counts = summarizeEntries(report.entries);
  const summary = Object.entries(counts)
    .map(([kind, n]) => `${n} ${kind}`)
    .join(', ');
  lines.push(`${report.entries.length} entries: ${summary || 'none found'}`);
  const lock = formatLockLine(report);
  if (lock) lines.push(lock);
  return `${lines.join('\n')}\n`;
}

/** The report's fields for scripts; with a lockfile selection, `lock` also carries the counts. */
export function verifyJsonFields(report: VerifyReport): Record<string, unknown> {
  return {
    ...report,
    ...(report.lock ? { lock: { ...report.lock, ...lockCounts(report) } } : {}),
    summary: summarizeEntries(report.entries),
    ok: verifyExitCode(report) === 0,
  };
}

/** The report for scripts (stable field names). */
export function formatVerifyJson(report: VerifyReport): string {
  return `${JSON.stringify(verifyJsonFields(report), null, 2)}\n`;
}

/** Does `id` (`name-version-hash`) answer a `--spec` selector (the full id, the hash, or a hash prefix of 7+ characters after '/')? */
export function matchesSpec(id: string, selector: string): boolean {
  if (id === selector) return true;
  const hash = id.slice(id.lastIndexOf('-') + 1);
  if (selector === hash) return true;
  if (selector.startsWith('/') && selector.length >= 8) return hash.startsWith(selector.slice(1));
  return false;
}

/** Keep the selected entries, adding 'not-found' for selectors that matched none. */
export function selectEntries<T extends { id: string }>(entries: readonly T[], selectors: readonly string[] | undefined): { picked: T[]; missing: string[] } {
  if (!selectors || selectors.length === 0) return { picked: [...entries], missing: [] };
  const picked = entries.filter((e) => selectors.some((s) => matchesSpec(e.id, s)));
  const missing = selectors.filter((s) => !entries.some((e) => matchesSpec(e.id, s)));
  return { picked, missing };
}
