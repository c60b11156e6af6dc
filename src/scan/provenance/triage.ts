// Provenance triage: for every private key a scan found, decide who put it there. A key in a file
// that a package manager recorded byte for byte in the same image (or the same key elsewhere in
// that image) is published content of that package: a note naming it, not a finding. Everything
// else stays a finding: the secret half of a --public-key always; a file whose bytes differ from its
// record, or that no record names; keys generated at install time (SSH host keys). Pure.
import type { ImagePointer, ReportFinding, ReportNote, ScanReport } from '../report.js';
import { defuseMarkers } from '../report.js';
import { PackageIndex, type LayerRecords, type PathRecord } from './package-index.js';
import type { FileDigests, Provenance } from './types.js';
import { RECORD_LIMIT } from './layer-collector.js';

/** One image's layers as triage needs them (bottom first). */
export interface TriageImage {
  image: ImagePointer;
  layers: (LayerRecords & { digest: string; digests: FileDigests[]; skippedRecords: string[] })[];
}

const SSH_HOST_KEY = /(^|\/)etc\/ssh\/ssh_host_[^/]*_key$/;

/** True for OpenSSH host keys, which openssh-server generates when it is installed. */
export function isSshHostKeyPath(path: string | null): boolean {
  return path !== null && SSH_HOST_KEY.test(path);
}

/** "test key", "example key" or "key", from where the package put the file. */
export function keyWord(path: string): string {
  const lower = path.toLowerCase();
  if (/(^|[/_.-])(tests?|testing|testdata|test_?data|mock|fixtures?|selftests?)([/_.-]|$)/.test(lower)) return 'test key';
  if (/(^|[/_.-])(examples?|samples?|demos?|doc)([/_.-]|$)/.test(lower)) return 'example key';
  return 'key';
}

/** "published test key of python3-twisted 22.4.0-4" */
export function describeProvenance(provenance: Provenance, path: string): string {
  const who = provenance.manager === 'python' ? `Python package ${provenance.package}` : provenance.package;
  return `published ${keyWord(path)} of ${who} ${provenance.version}`;
}

function sameImage(a: ImagePointer, b: ImagePointer): boolean {
  return a.configDigest === b.configDigest && a.manifestDigest === b.manifestDigest && a.platform === b.platform && a.kind === b.kind;
}

function matchingRecord(records: PathRecord[], digests: FileDigests): PathRecord | null {
  return records.find((r) => r.digest === (r.algorithm === 'md5' ? digests.md5 : digests.sha256)) ?? null;
}

/** The identities of a finding's keys; for a key without one, the BODY-SHA256 of its block (if the walk computed it). */
function identitiesOf(finding: ReportFinding, layers: TriageImage['layers']): string[] {
  if (finding.fingerprints.length > 0 || finding.keygrips.length > 0) return [...finding.fingerprints, ...finding.keygrips];
  if (!finding.layer || finding.nestedPath !== null) return [];
  const digests = layers[finding.layer.index]?.digests.find((d) => d.path === finding.path);
  const id = digests?.blockIds?.find((b) => b.offset === finding.offset)?.id;
  return id ? [id] : [];
}

/** True when every key of the finding has an identity in `known` (a finding without one never). */
function allKeysKnown(finding: ReportFinding, known: Map<string, unknown>, anonymousId: string | undefined): boolean {
  const { fingerprints, keygrips } = finding;
  if (fingerprints.length === 0 && keygrips.length === 0) return anonymousId !== undefined && known.has(anonymousId);
  if (fingerprints.length === 0) return keygrips.every((grip) => known.has(grip));
  const paired = keygrips.length === fingerprints.length;
  return fingerprints.every((fp, i) => known.has(fp) || (paired && known.has(keygrips[i]!)));
}

type Verdict = { kind: 'published'; provenance: Provenance; how: string } | { kind: 'finding'; reason: string | null };

/**
 * Triage a report: published keys move from findings to notes (kind `published-key`, with
 * `provenance`); the rest stay findings, their message saying why when a record was involved.
 */
export function triageReport(report: ScanReport, images: TriageImage[]): ScanReport {
  const { findings, notes } = triageFindings(report.findings, report.notes, images);
  return { ...report, leaked: findings.length > 0, findings, notes };
}

/** triageReport's work on a list of findings and notes (an audit triages each tag's). */
export function triageFindings(
  reportFindings: readonly ReportFinding[],
  reportNotes: readonly ReportNote[],
  images: TriageImage[],
): { findings: ReportFinding[]; notes: ReportNote[] } {
  const verdicts = new Map<ReportFinding, Verdict>();
  for (const { image, layers } of images) {
    const findings = reportFindings.filter((f) => sameImage(f.image, image));
    const wanted = new Set(findings.flatMap((f) => (f.source === 'layer' && f.path !== null ? [f.path] : [])));
    if (wanted.size === 0) continue;
    const views = new Map<number, PackageIndex>();
    const view = (top: number) => {
      let index = views.get(top);
      if (!index) views.set(top, (index = new PackageIndex(layers.slice(0, top + 1), wanted)));
      return index;
    };
    // Keys in recorded, byte-identical files: published; their identities are published with them.
    const publishedIdentities = new Map<string, { provenance: Provenance; path: string }>();
    for (const finding of findings) {
      if (finding.matchesPublicKey) {
        verdicts.set(finding, { kind: 'finding', reason: null });
        continue;
      }
      if (finding.source !== 'layer' || finding.path === null || !finding.layer) continue;
      const layer = layers[finding.layer.index];
      const digests = layer?.digests.find((d) => d.path === finding.path);
      // The database as of the finding's own layer (a later upgrade may record newer bytes), then the final one.
      const records = [...view(finding.layer.index).recordsOf(finding.path), ...view(layers.length - 1).recordsOf(finding.path)];
      const match = digests ? matchingRecord(records, digests) : null;
      if (match) {
        verdicts.set(finding, { kind: 'published', provenance: match.provenance, how: `${match.provenance.manager} records this file byte for byte` });
        for (const id of identitiesOf(finding, layers)) publishedIdentities.set(id, { provenance: match.provenance, path: finding.path });
      } else if (records.length > 0) {
        const r = records[0]!.provenance;
        verdicts.set(finding, { kind: 'finding', reason: `the file's bytes differ from what ${r.manager} recorded for ${r.package} ${r.version}` });
      }
    }
    // The same keys anywhere else in the image (e.g. a .pyc compiled from a recorded .py).
    for (const finding of findings) {
      if (verdicts.has(finding)) continue;
      const ids = identitiesOf(finding, layers);
      const anonymous = finding.fingerprints.length === 0 && finding.keygrips.length === 0 ? ids[0] : undefined;
      if (allKeysKnown(finding, publishedIdentities, anonymous)) {
        const origin = ids.map((id) => publishedIdentities.get(id)).find((o) => o !== undefined)!;
        verdicts.set(finding, {
          kind: 'published',
          provenance: origin.provenance,
          how: `the same key as /${origin.path}, which ${origin.provenance.manager} records byte for byte`,
        });
      } else if (isSshHostKeyPath(finding.path)) {
        verdicts.set(finding, {
          kind: 'finding',
          reason: 'an SSH host key generated when openssh-server was installed; no package records it, and every container of this image would share it',
        });
      }
    }
  }
  const findings: ReportFinding[] = [];
  const notes: ReportNote[] = [...reportNotes];
  const said = new Set<string>();
  for (const { layers } of images) {
    layers.forEach((layer, index) => {
      for (const path of layer.skippedRecords) {
        if (said.has(`${layer.digest}/${path}`)) continue;
        said.add(`${layer.digest}/${path}`);
        const message = `package record larger than ${RECORD_LIMIT} bytes was not read; files it names are triaged as if unrecorded (they stay findings)`;
        notes.push({
          kind: 'provenance-record-skipped',
          detector: null,
          source: 'layer',
          layer: { index, digest: layer.digest },
          path,
          nestedPath: null,
          field: null,
          message,
          provenance: null,
        });
      }
    });
  }
  for (const finding of reportFindings) {
    const verdict = verdicts.get(finding);
    if (verdict?.kind === 'published') {
      notes.push({
        kind: 'published-key',
        detector: finding.detector,
        source: finding.source,
        layer: finding.layer,
        path: finding.path,
        nestedPath: finding.nestedPath,
        field: finding.field,
        message: defuseMarkers(`${describeProvenance(verdict.provenance, finding.path ?? '')} (${verdict.how}): ${finding.message}`),
        provenance: verdict.provenance,
      });
    } else if (verdict?.reason) {
      findings.push({ ...finding, message: defuseMarkers(`${finding.message} (${verdict.reason})`) });
    } else findings.push(finding);
  }
  return { findings, notes };
}
