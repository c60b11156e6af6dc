// The scan report (the JSON object of `eic-build scan --format json`) and how it is put together
// from per-layer results and config findings. Pure apart from calling the config detectors.
import type { DetectorKeys } from './detector-api.js';
import { describeCreatedBy, historyIndexPerLayer, scanConfig, type ConfigFinding, type ConfigNote } from './config-scan.js';
import type { ImageRef } from './image.js';
import type { LayerScanResult } from './layer-scan.js';
import { VisibilityIndex, type HiddenHow, type Visibility } from './visibility.js';
import type { Provenance } from './provenance/types.js';

/** A layer as reports name it. */
export interface LayerPointer {
  index: number;
  digest: string;
}

/** The image a finding or note belongs to. */
export interface ImagePointer {
  manifestDigest: string | null;
  configDigest: string;
  platform: string | null;
  kind: 'image' | 'attestation';
}

/** One leak. Field names and types follow issue 2 exactly; extra fields come after. */
export interface ReportFinding {
  detector: string;
  kind: string;
  severity: string;
  source: 'layer' | 'config';
  layer: LayerPointer | null;
  path: string | null;
  nestedPath: string | null;
  field: string | null;
  visibleInFinalImage: boolean;
  fingerprints: string[];
  keygrips: string[];
  matchesPublicKey: boolean;
  createdBy: string | null;
  /** The later layer that hid this file, when visibleInFinalImage is false. */
  hiddenBy: (LayerPointer & { how: HiddenHow }) | null;
  image: ImagePointer;
  offset: number | null;
  /** Redacted: never key bytes. */
  excerpt: string;
  message: string;
  /** Provenance triage: on findings always null (no package record vouches for the bytes). */
  provenance: Provenance | null;
}

/** Something worth saying that is not a leak. */
export interface ReportNote {
  kind: string;
  detector: string | null;
  source: 'layer' | 'config' | 'image';
  layer: LayerPointer | null;
  path: string | null;
  nestedPath: string | null;
  field: string | null;
  message: string;
  /** For kind `published-key`: the package whose record holds the key's file byte for byte; else null. */
  provenance: Provenance | null;
}

/** The whole report. */
export interface ScanReport {
  target: string;
  leaked: boolean;
  findings: ReportFinding[];
  notes: ReportNote[];
  /** layersReadTwice: layers decoded a second time for the digests of large files that held findings (triage). */
  stats: { layers: number; bytesScanned: number; seconds: number; images: number; layersReadTwice: number };
  images: ImagePointer[];
}

/** Put per-layer results (keyed by blob name) and the configs together into one report. */
export function assembleReport(
  target: string,
  images: ImageRef[],
  results: Map<string, LayerScanResult>,
  keys: DetectorKeys,
  seconds: number,
  extraNotes: ReportNote[] = [],
): ScanReport {
  const findings: ReportFinding[] = [];
  const notes: ReportNote[] = [...extraNotes];
  const seenLayerNotes = new Set<string>();
  let bytesScanned = 0;
  for (const result of results.values()) bytesScanned += result.bytesScanned;

  for (const image of images) {
    const pointer: ImagePointer = { manifestDigest: image.manifestDigest, configDigest: image.configDigest, platform: image.platform, kind: image.kind };
    let configJson: unknown = null;
    try {
      configJson = JSON.parse(image.config.toString('utf8'));
    } catch {
      // Attestation configs are sometimes not JSON objects we know; the raw bytes are scanned below.
    }
    bytesScanned += image.config.length;
    const layerResults = image.layers.map((layer) => {
      const result = results.get(layer.blobName);
      if (!result) throw new Error(`internal: layer ${layer.blobName} was not scanned`);
      return result;
    });
    const visibility = new VisibilityIndex(layerResults);
    const layerDigests = image.layers.map((layer) => layer.digest);
    const config = scanConfig(configJson, keys, image.annotations);
    const tainted = new Set<number>();
    for (const finding of config.findings) {
      const match = /^history\[(\d+)\]/.exec(finding.field);
      if (match) tainted.add(Number(match[1]));
    }
    const createdBy = historyIndexPerLayer(configJson, image.layers.length).map((i) => describeCreatedBy(configJson, i, tainted));
    layerResults.forEach((result, index) => {
      const layer: LayerPointer = { index, digest: image.layers[index]!.digest };
      for (const finding of result.findings) {
        const seen = finding.path === null ? ({ visible: true } as const) : visibility.decide(finding.path, index);
        findings.push(reportLayerFinding(finding, { image: pointer, layer, createdBy: createdBy[index] ?? null, seen, layerDigests }));
      }
      // A layer shared by several images says its notes once.
      const noteKey = `${image.layers[index]!.blobName}`;
      if (seenLayerNotes.has(noteKey)) return;
      seenLayerNotes.add(noteKey);
      for (const note of result.notes) {
        notes.push(reportLayerNote(note, layer));
      }
    });
    for (const finding of config.findings) findings.push(reportConfigFinding(finding, pointer));
    for (const note of config.notes) notes.push(reportConfigNote(note));
  }
  return sanitizeStrings({
    target,
    leaked: findings.length > 0,
    findings,
    notes,
    stats: { layers: results.size, bytesScanned, seconds, images: images.length, layersReadTwice: [...results.values()].filter((result) => result.readTwice).length },
    images: images.map((image) => ({ manifestDigest: image.manifestDigest, configDigest: image.configDigest, platform: image.platform, kind: image.kind })),
  });
}

/** Where a layer finding is: its image and layer, the step that made the layer, whether a later layer hides it. */
export interface LayerFindingPlace {
  image: ImagePointer;
  layer: LayerPointer;
  createdBy: string | null;
  seen: Visibility;
  /** The image's layer digests, in order (names the layer that hides the finding). */
  layerDigests: readonly string[];
}

/** A layer scan's finding as a report says it (scan and audit alike). Pure. */
export function reportLayerFinding(finding: LayerScanResult['findings'][number], place: LayerFindingPlace): ReportFinding {
  const { seen } = place;
  return {
    detector: finding.detector,
    kind: finding.kind,
    severity: finding.severity,
    source: 'layer',
    layer: place.layer,
    path: finding.path,
    nestedPath: finding.nestedPath,
    field: null,
    visibleInFinalImage: seen.visible,
    fingerprints: finding.fingerprints,
    keygrips: finding.keygrips,
    matchesPublicKey: finding.matchesPublicKey,
    createdBy: place.createdBy,
    hiddenBy: seen.visible ? null : { index: seen.layerIndex, digest: place.layerDigests[seen.layerIndex]!, how: seen.how },
    image: place.image,
    offset: finding.offset,
    excerpt: finding.excerpt,
    message: finding.message,
    provenance: null,
  };
}

/**
 * A config or annotation value's finding as a report says it. Pure. A finding in `history[N]` means
 * that step's created_by itself carries key material: it is named as redacted, never quoted.
 */
export function reportConfigFinding(finding: ConfigFinding, image: ImagePointer): ReportFinding {
  const history = /^history\[(\d+)\]/.exec(finding.field);
  const step = history ? Number(history[1]) : null;
  return {
    detector: finding.detector,
    kind: finding.kind,
    severity: finding.severity,
    source: 'config',
    layer: null,
    path: null,
    nestedPath: null,
    field: finding.field,
    visibleInFinalImage: true,
    fingerprints: finding.fingerprints,
    keygrips: finding.keygrips,
    matchesPublicKey: finding.matchesPublicKey,
    createdBy: step === null ? null : describeCreatedBy(null, step, new Set([step])),
    hiddenBy: null,
    image,
    offset: finding.offset,
    excerpt: finding.excerpt,
    message: finding.message,
    provenance: null,
  };
}

/** A layer scan's note as a report says it. Pure. */
export function reportLayerNote(note: LayerScanResult['notes'][number], layer: LayerPointer): ReportNote {
  return { kind: note.kind, detector: note.detector, source: 'layer', layer, path: note.path, nestedPath: note.nestedPath, field: null, message: note.message, provenance: null };
}

/** A config or annotation value's note as a report says it. Pure. */
export function reportConfigNote(note: ConfigNote): ReportNote {
  return { kind: 'detector', detector: note.detector, source: 'config', layer: null, path: null, nestedPath: null, field: note.field, message: note.message, provenance: null };
}

const ARMOR_MARKER = /-----(BEGIN|END) ([A-Z0-9 ]*PRIVATE KEY(?: BLOCK)?)-----/g;
const SEXP_MARKER = /\((?:\d+:)?(protected-private-key|private-key|shadowed-private-key)/g;

/**
 * Defuse key markers in text taken from the image (excerpts, names, commands): the output
 * redactor censors from a BEGIN marker to its END (or the end of the output), so a bare marker in
 * one field would otherwise swallow the rest of a JSON report.
 */
export function defuseMarkers(text: string): string {
  return text.replace(ARMOR_MARKER, '[$1 $2]').replace(SEXP_MARKER, (match) => `( ${match.slice(1)}`);
}

function sanitizeStrings<T>(value: T): T {
  if (typeof value === 'string') return defuseMarkers(value) as T;
  if (Array.isArray(value)) return value.map(sanitizeStrings) as T;
  if (value && typeof value === 'object') {
    const out: Record<string, unknown> = {};
    for (const [key, inner] of Object.entries(value)) out[key] = sanitizeStrings(inner);
    return out as T;
  }
  return value;
}
