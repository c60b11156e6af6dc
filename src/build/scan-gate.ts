/** The fields of a scan finding the gate decides on (src/scan ReportFinding fits). */
export interface GateFinding {
  detector: string;
  source: string;
  path: string | null;
  layer: { index: number; digest: string } | null;
  matchesPublicKey: boolean;
}

/** Where a finding sits, as far as the gate cares. */
export type FindingOrigin = 'signing-key' | 'config' | 'added-layer' | 'base-layer';

/** The gate's policy: what `eic-build build` was told to let through. */
export interface GatePolicy {
  /** `--allow-inherited-keys`: findings in base-image layers that are not the signing key only warn. */
  allowInheritedKeys: boolean;
}

/** Which findings stop the build, and which are let through with a warning. */
export interface GateResult<F extends GateFinding = GateFinding> {
  blocking: F[];
  /** Of `blocking`: base-image keys (not the signing key) that `--allow-inherited-keys` would let through. */
  blockingInherited: F[];
  /** Base-image keys (not the signing key) let through by `--allow-inherited-keys`: published, so warned about loudly. */
  allowedInherited: F[];
}

/**
 * Pure: where a finding is. The signing key wins over everything (wherever it is); a layer counts
 * as the base image's only when its digest is one of the base image's layers.
 */
export function findingOrigin(finding: GateFinding, baseLayerDigests: ReadonlySet<string>): FindingOrigin {
  if (finding.matchesPublicKey) return 'signing-key';
  if (finding.source !== 'layer' || finding.layer === null) return 'config';
  return baseLayerDigests.has(finding.layer.digest) ? 'base-layer' : 'added-layer';
}

/**
 * Pure: the publish gate. By default every finding blocks, so that `eic-build scan` of a published
 * image never reports a leak (well-known public self-test keys are notes in the scanner, not
 * findings). `allowInheritedKeys` lets findings in base-image layers through with a warning, except
 * the signing key; anything in a layer this build added or in the config always blocks.
 */
export function gateFindings<F extends GateFinding>(findings: F[], baseLayerDigests: ReadonlySet<string>, policy: GatePolicy): GateResult<F> {
  const result: GateResult<F> = { blocking: [], blockingInherited: [], allowedInherited: [] };
  for (const finding of findings) {
    const origin = findingOrigin(finding, baseLayerDigests);
    if (origin === 'base-layer' && policy.allowInheritedKeys) result.allowedInherited.push(finding);
    else {
      result.blocking.push(finding);
      if (origin === 'base-layer') result.blockingInherited.push(finding);
    }
  }
  return result;
}

/** Pure: one line per distinct finding (detector, path, layer), for messages to people. */
export function describeFindings(findings: GateFinding[]): string[] {
  return [...new Set(findings.map((f) => `${f.detector} in ${f.path ?? '?'} (layer ${f.layer?.index ?? '?'})`))];
}
