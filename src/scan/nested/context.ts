// Shared state of one layer scan, and the limits every nested reader obeys.
import type { ContentScanner, DetectorKeys, KeyIdentity } from '../detector-api.js';
import type { LayerFinding, LayerNote } from '../layer-findings.js';

/** Limits on archives found inside layers, so that a decompression bomb ends in a note, not a crash. */
export interface NestedLimits {
  /** Containers (tar) inside containers, counted from the layer. */
  maxDepth: number;
  /** Inflated bytes of nested compressed streams per layer. */
  maxInflatedBytes: number;
  /** Inflated/compressed ratio above which (past 16 MiB) a nested stream is treated as a bomb. */
  maxRatio: number;
}

/** Defaults: deep enough for a tar.gz in a tar.gz in a layer; generous enough for real content. */
export const DEFAULT_NESTED_LIMITS: NestedLimits = { maxDepth: 3, maxInflatedBytes: 4 * 1024 ** 3, maxRatio: 1000 };

/** Makes the streaming detector for one file (the detectors module's createContentScanner in production). */
export type ScannerFactory = (options: { path: string | null; knownKeys: KeyIdentity[]; allowKeys: string[] }) => ContentScanner;

/** Shared state of one layer scan. */
export interface ScanContext {
  createScanner: ScannerFactory;
  keys: DetectorKeys;
  findings: LayerFinding[];
  notes: LayerNote[];
  limits: NestedLimits;
  inflated: number;
  bytesScanned: number;
}

/** A member's nested path below its container's. */
export function joinNested(prefix: string | null, name: string): string {
  return prefix ? `${prefix}/${name}` : name;
}
