// Per-tag verdicts from per-blob facts: clean, leaked (which keys, which layers, visible or hidden
// in each image) or unreadable (why). Visibility depends on each image's layer order, so it is
// decided here, per image, from the whiteouts and file lists the shared blob scans recorded.
import { reportConfigFinding, reportConfigNote, reportLayerFinding, reportLayerNote, type ImagePointer, type ReportFinding, type ReportNote } from '../scan/report.js';
import type { RegistryImage } from '../scan/registry-source.js';
import { VisibilityIndex, type LayerChanges } from '../scan/visibility.js';
import type { ConfigFinding, ConfigNote, ConfigValue } from '../scan/config-scan.js';
import { triageFindings, type CapturedRecord, type TriageImage } from '../scan/provenance/index.js';
import type { BlobFacts, ConfigFacts, LayerFacts } from './blob-facts.js';

/** A tag resolved to its image manifests, or why it could not be. */
export type TagResolution = { tag: string; ok: true; digest: string; images: RegistryImage[] } | { tag: string; ok: false; reason: string };

/** What the blob scans gave, looked up by kind and digest. */
export interface BlobOutcomes {
  facts(kind: 'layer', digest: string): LayerFacts | undefined;
  facts(kind: 'config', digest: string): ConfigFacts | undefined;
  /** Why the blob could not be read whole, when it could not. */
  failure(kind: BlobFacts['kind'], digest: string): string | undefined;
  /** Non-directory paths of a scanned layer (read only for images with findings). */
  files(digest: string): Promise<string[]>;
  /** Package record files of a scanned layer (read only for tags with findings); without it, no provenance triage. */
  records?(digest: string): Promise<CapturedRecord[]>;
  /** Scan a manifest's annotation values (index, manifest, descriptors) like config values. */
  annotations?(values: readonly ConfigValue[]): { findings: ConfigFinding[]; notes: ConfigNote[] };
}

/** The verdict on one tag. */
export interface TagVerdict {
  tag: string;
  /** The digest the tag pointed at (null when it could not be read). */
  digest: string | null;
  status: 'clean' | 'leaked' | 'unreadable';
  /** Identities of the leaked keys (see keyIdOf), sorted. */
  keys: string[];
  findings: ReportFinding[];
  /** Why the verdict cannot be trusted (parts that could not be read); empty when it can. */
  unreadable: string[];
  /** What the blob scans said that is not a leak (a bound hit, an unreadable nested member…), once per blob and message. */
  notes: ReportNote[];
  images: ImagePointer[];
}

/** How a finding's key is named: its first fingerprint, else keygrip, else the detector. */
export function keyIdOf(finding: Pick<ReportFinding, 'fingerprints' | 'keygrips' | 'detector'>): string {
  return finding.fingerprints[0] ?? finding.keygrips[0] ?? `unidentified ${finding.detector} key`;
}

function describeImage(image: RegistryImage, platform: string | null): string {
  const what = image.kind === 'attestation' ? 'attestation manifest' : `${platform ?? 'image'} manifest`;
  return `${what} ${image.manifestDigest}`;
}

/**
 * What provenance triage reads of one image: its layers' records, digests and changes. File lists
 * are read only when some layer holds package records (their visibility needs them).
 */
async function triageImage(image: RegistryImage, pointer: ImagePointer, outcomes: BlobOutcomes): Promise<TriageImage> {
  const facts = image.layers.map((layer) => outcomes.facts('layer', layer.digest));
  const anyRecords = facts.some((layer) => (layer?.recordCount ?? 0) > 0);
  const layers: TriageImage['layers'] = [];
  for (const [index, layer] of facts.entries()) {
    layers.push({
      digest: image.layers[index]!.digest,
      files: layer && anyRecords ? await outcomes.files(layer.digest) : [],
      whiteouts: layer?.whiteouts ?? [],
      opaqueDirs: layer?.opaqueDirs ?? [],
      records: layer && layer.recordCount > 0 && outcomes.records ? await outcomes.records(layer.digest) : [],
      digests: layer?.digests ?? [],
      skippedRecords: layer?.skippedRecords ?? [],
    });
  }
  return { image: pointer, layers };
}

/**
 * Decide one tag from the facts of its blobs. With provenance triage (the default, when the
 * outcomes can read records), keys in files a package manager recorded byte for byte in the same
 * image are `published-key` notes, as `eic-build scan` says them.
 */
export async function decideTag(resolution: TagResolution, outcomes: BlobOutcomes, options: { provenance?: boolean } = {}): Promise<TagVerdict> {
  if (!resolution.ok) {
    return { tag: resolution.tag, digest: null, status: 'unreadable', keys: [], findings: [], unreadable: [resolution.reason], notes: [], images: [] };
  }
  const findings: ReportFinding[] = [];
  const unreadable: string[] = [];
  const images: ImagePointer[] = [];
  const notes: ReportNote[] = [];
  // A blob shared by several images of the tag says each note once.
  const seenNotes = new Set<string>();
  const addNote = (digest: string, note: ReportNote) => {
    const key = `${digest}\0${note.message}`;
    if (seenNotes.has(key)) return;
    seenNotes.add(key);
    notes.push(note);
  };
  for (const image of resolution.images) {
    const config = outcomes.facts('config', image.config.digest);
    const platform = image.kind === 'attestation' ? null : (image.platform ?? config?.platform ?? null);
    const pointer: ImagePointer = { manifestDigest: image.manifestDigest, configDigest: image.config.digest, platform, kind: image.kind };
    images.push(pointer);
    const where = describeImage(image, platform);
    if (!config) unreadable.push(`config ${image.config.digest} of ${where}: ${outcomes.failure('config', image.config.digest) ?? 'not scanned'}`);
    const layerDigests = image.layers.map((layer) => layer.digest);
    const layers = image.layers.map((layer, index) => {
      const facts = outcomes.facts('layer', layer.digest);
      if (!facts) unreadable.push(`layer ${index} ${layer.digest} of ${where}: ${outcomes.failure('layer', layer.digest) ?? 'not scanned'}`);
      return facts;
    });
    const lowest = layers.findIndex((facts) => facts?.findings.some((finding) => finding.path !== null));
    // File lists are read only for the layers above the lowest finding, only in images with findings.
    let visibility: VisibilityIndex | null = null;
    if (lowest >= 0) {
      const changes: LayerChanges[] = [];
      for (const [index, facts] of layers.entries()) {
        const files = facts && index > lowest ? await outcomes.files(facts.digest) : [];
        changes.push({ files, whiteouts: facts?.whiteouts ?? [], opaqueDirs: facts?.opaqueDirs ?? [] });
      }
      visibility = new VisibilityIndex(changes);
    }
    layers.forEach((facts, index) => {
      for (const note of facts?.notes ?? []) {
        const layer = { index, digest: image.layers[index]!.digest };
        addNote(layer.digest, reportLayerNote(note, layer));
      }
      for (const finding of facts?.findings ?? []) {
        const seen = finding.path === null || !visibility ? ({ visible: true } as const) : visibility.decide(finding.path, index);
        findings.push(
          reportLayerFinding(finding, { image: pointer, layer: { index, digest: image.layers[index]!.digest }, createdBy: config?.createdBy[index] ?? null, seen, layerDigests }),
        );
      }
    });
    for (const note of config?.notes ?? []) {
      addNote(image.config.digest, reportConfigNote(note));
    }
    // Annotations are free text on the manifest and the indexes above it: scanned per manifest, like config values.
    const annotated = image.annotations?.length && outcomes.annotations ? outcomes.annotations(image.annotations) : { findings: [], notes: [] };
    for (const note of annotated.notes) {
      addNote(image.manifestDigest, reportConfigNote(note));
    }
    for (const finding of [...(config?.findings ?? []), ...annotated.findings]) findings.push(reportConfigFinding(finding, pointer));
  }
  let triaged = { findings, notes };
  if (options.provenance !== false && outcomes.records && findings.some((finding) => finding.source === 'layer' && finding.path !== null)) {
    const inputs: TriageImage[] = [];
    for (const [index, image] of resolution.images.entries()) inputs.push(await triageImage(image, images[index]!, outcomes));
    triaged = triageFindings(findings, notes, inputs);
  }
  const keys = [...new Set(triaged.findings.map(keyIdOf))].sort();
  const status = triaged.findings.length > 0 ? 'leaked' : unreadable.length > 0 ? 'unreadable' : 'clean';
  return { tag: resolution.tag, digest: resolution.digest, status, keys, findings: triaged.findings, unreadable, notes: triaged.notes, images };
}

/** One leaked key and the tags that ship it (every one of them must be deleted). */
export interface LeakedKey {
  key: string;
  fingerprints: string[];
  keygrips: string[];
  detectors: string[];
  matchesPublicKey: boolean;
  /** Tags to delete, in listing order. */
  tags: string[];
}

/** Group the leaked tags by key. Pure. */
export function leakedKeys(verdicts: readonly TagVerdict[]): LeakedKey[] {
  const byKey = new Map<string, LeakedKey>();
  for (const verdict of verdicts) {
    for (const finding of verdict.findings) {
      const key = keyIdOf(finding);
      let entry = byKey.get(key);
      if (!entry) {
        entry = { key, fingerprints: finding.fingerprints, keygrips: finding.keygrips, detectors: [], matchesPublicKey: false, tags: [] };
        byKey.set(key, entry);
      }
      if (!entry.detectors.includes(finding.detector)) entry.detectors.push(finding.detector);
      entry.matchesPublicKey ||= finding.matchesPublicKey;
      if (!entry.tags.includes(verdict.tag)) entry.tags.push(verdict.tag);
    }
  }
  return [...byKey.values()].sort((a, b) => a.key.localeCompare(b.key));
}
