// An uncompressed container (a tar, a zip's stored members) holds its members' bytes verbatim, so
// scanning the container's raw bytes finds every member's key a second time, reported only at the
// container. The raw scan stays (bytes outside members, e.g. after the end-of-archive marker, are
// only seen by it); this decides which of its findings are the same key already reported, more
// precisely, inside a member. Pure.
import type { LayerFinding } from './layer-findings.js';

/** Where one member's bytes sit, verbatim, in its container's raw bytes. */
export interface MemberRange {
  /** Offset of the first body byte in the container's raw bytes. */
  start: number;
  /** Offset just after the last body byte. */
  end: number;
  /** The member's nestedPath (findings in it, or deeper inside it, start with this). */
  nestedPath: string;
}

function identity(finding: LayerFinding): string {
  return `${[...finding.fingerprints].sort().join(',')}|${[...finding.keygrips].sort().join(',')}`;
}

/** The same key material: the same identities when the detector could name the key, else the same detector and form. */
function sameKey(a: LayerFinding, b: LayerFinding): boolean {
  const ia = identity(a);
  if (ia !== '|' || identity(b) !== '|') return ia === identity(b);
  return a.detector === b.detector && a.kind === b.kind;
}

function within(nestedPath: string | null, member: string): boolean {
  return nestedPath !== null && (nestedPath === member || nestedPath.startsWith(`${member}/`));
}

/**
 * True when the container-level `raw` finding starts inside a member's verbatim bytes and the
 * same key (fingerprints and keygrips; detector and form when unnamed) was reported in that member or deeper: the
 * raw finding then says nothing new. `found` is every finding of the layer so far (same `path`).
 */
export function isMemberDuplicate(raw: LayerFinding, ranges: readonly MemberRange[], found: readonly LayerFinding[]): boolean {
  for (const range of ranges) {
    if (raw.offset < range.start || raw.offset >= range.end) continue;
    if (found.some((other) => other !== raw && other.path === raw.path && within(other.nestedPath, range.nestedPath) && sameKey(raw, other))) return true;
  }
  return false;
}
