/** The fields of a scan finding the gate decides on (src/scan ReportFinding fits). */
export interface GateFinding {
  detector: string;
  source: string;
  path: string | null;
  layer: { index: number; digest: string } | null;
  matchesPublicKey: boolean;
}

/** Which findings stop the build, and which are reported only. */
export interface GateResult<F extends GateFinding = GateFinding> {
  blocking: F[];
  /** Private keys already in the base image's layers that are not this build's signing key. */
  inherited: F[];
}

/**
 * Pure: the publish gate. Blocking: anything that is this build's signing key (wherever it is),
 * anything in a layer this build added, and anything in the config. Findings in layers the base
 * image already had (by layer digest) that are not the signing key are reported but do not block,
 * unless `strict`: base images carry self-test keys (libgcrypt, libgnutls) that no build can remove.
 */
export function gateFindings<F extends GateFinding>(findings: F[], baseLayerDigests: ReadonlySet<string>, strict: boolean): GateResult<F> {
  const blocking: F[] = [];
  const inherited: F[] = [];
  for (const finding of findings) {
    const fromBase = finding.source === 'layer' && finding.layer !== null && baseLayerDigests.has(finding.layer.digest);
    if (strict || finding.matchesPublicKey || !fromBase) blocking.push(finding);
    else inherited.push(finding);
  }
  return { blocking, inherited };
}

/** Pure: one line per distinct inherited finding (detector and path), for a note to people. */
export function describeInherited(findings: GateFinding[]): string[] {
  return [...new Set(findings.map((f) => `${f.detector} in ${f.path ?? '?'} (layer ${f.layer?.index ?? '?'})`))];
}
