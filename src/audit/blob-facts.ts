// What an audit keeps about one blob once it has been scanned: the findings (with their paths),
// what the layer changes below it (whiteouts, opaque directories; the file list and the package
// records are kept apart, see fact-store) and the digests of its files with findings (triage).
// Per-image verdicts (visible or hidden, published or not) are computed from these, so a blob
// shared by many tags is scanned once. Pure.
import { createHash } from 'node:crypto';
import { describeCreatedBy, historyIndexPerLayer, scanConfig, type ConfigFinding, type ConfigNote } from '../scan/config-scan.js';
import { DETECTORS, type DetectorKeys } from '../scan/detector-api.js';
import type { LayerFinding, LayerNote } from '../scan/entry-sink.js';
import type { LayerScanResult } from '../scan/layer-scan.js';
import type { FileDigests } from '../scan/provenance/index.js';
import { platformOfConfig } from '../scan/registry-source.js';
import { version } from '../version.js';

/** Version of the records written to a --state directory; bump when their shape changes. */
export const STATE_SCHEMA = 2;

/** Facts about one layer blob. */
export interface LayerFacts {
  kind: 'layer';
  digest: string;
  format: 'tar' | 'raw';
  blobBytes: number;
  bytesScanned: number;
  findings: LayerFinding[];
  notes: LayerNote[];
  whiteouts: string[];
  opaqueDirs: string[];
  /** How many non-directory entries the layer has (their paths are stored beside the facts). */
  fileCount: number;
  /** Digests of the layer's files with findings (provenance triage). */
  digests: FileDigests[];
  /** Package record files too large to keep. */
  skippedRecords: string[];
  /** How many package record files the layer holds (their text is stored beside the facts). */
  recordCount: number;
}

/** Facts about one image config blob. */
export interface ConfigFacts {
  kind: 'config';
  digest: string;
  blobBytes: number;
  findings: ConfigFinding[];
  notes: ConfigNote[];
  platform: string | null;
  /** The instruction that made each layer (rootfs.diff_ids order), safe to print; null where history does not line up. */
  createdBy: (string | null)[];
}

/** Facts about a layer or config blob. */
export type BlobFacts = LayerFacts | ConfigFacts;

/** Facts of a scanned layer (its file list goes to the store separately). */
export function layerFacts(digest: string, format: 'tar' | 'raw', result: LayerScanResult): LayerFacts {
  return {
    kind: 'layer',
    digest,
    format,
    blobBytes: result.blobBytes,
    bytesScanned: result.bytesScanned,
    findings: result.findings,
    notes: result.notes,
    whiteouts: result.whiteouts,
    opaqueDirs: result.opaqueDirs,
    fileCount: result.files.length,
    digests: result.provenance?.digests ?? [],
    skippedRecords: result.provenance?.skippedRecords ?? [],
    recordCount: result.provenance?.records.length ?? 0,
  };
}

/** Scan an image config's values (Env, Labels, Cmd, history…) and keep what verdicts need. */
export function configFacts(digest: string, bytes: Buffer, keys: DetectorKeys): ConfigFacts {
  let json: unknown = null;
  try {
    json = JSON.parse(bytes.toString('utf8'));
  } catch {
    // Not JSON (some attestation configs): nothing to read value by value, as scan does.
  }
  const scanned = scanConfig(json, keys);
  const tainted = new Set<number>();
  for (const finding of scanned.findings) {
    const match = /^history\[(\d+)\]/.exec(finding.field);
    if (match) tainted.add(Number(match[1]));
  }
  const diffIds = (json as { rootfs?: { diff_ids?: unknown } } | null)?.rootfs?.diff_ids;
  const layerCount = Array.isArray(diffIds) ? diffIds.length : 0;
  return {
    kind: 'config',
    digest,
    blobBytes: bytes.length,
    findings: scanned.findings,
    notes: scanned.notes,
    platform: platformOfConfig(bytes),
    createdBy: historyIndexPerLayer(json, layerCount).map((index) => describeCreatedBy(json, index, tainted)),
  };
}

/**
 * What a verdict depends on besides the blob: the detectors (eic-build version and rule ids), the
 * public keys and the allow list. Records made under another fingerprint are not reused.
 */
export function factsFingerprint(keys: DetectorKeys): string {
  const material = JSON.stringify({
    schema: STATE_SCHEMA,
    eicBuild: version,
    detectors: DETECTORS.map((detector) => detector.id),
    knownKeys: keys.knownKeys.map((key) => JSON.stringify(key)).sort(),
    allowKeys: [...keys.allowKeys].sort(),
  });
  return createHash('sha256').update(material).digest('hex').slice(0, 32);
}
