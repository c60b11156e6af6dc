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
  /** Seconds one nested stream may take to unpack before the rest of it is skipped. */
  maxSeconds: number;
  /** Bytes a reader that must hold a whole member (a git pack, to resolve deltas) may hold. */
  maxHeldBytes: number;
}

/**
 * Defaults: deep enough for a tar.gz in a tar.gz in a layer; generous enough for real content.
 * The ratio sits well below gzip's ceiling (1032x, all zeros) so a gzip bomb is stopped after its
 * first 16 MiB instead of at the size bound; text and binaries compress far less than 500x.
 */
export const DEFAULT_NESTED_LIMITS: NestedLimits = {
  maxDepth: 3,
  maxInflatedBytes: 4 * 1024 ** 3,
  maxRatio: 500,
  maxSeconds: 60,
  maxHeldBytes: 256 * 1024 ** 2,
};

/** Bytes past which the ratio bound applies (small, highly repetitive files are common). */
export const RATIO_FLOOR = 16 * 1024 * 1024;

/** Records a note about a nested file. */
export function addNestedNote(ctx: ScanContext, kind: 'nested-bounded' | 'nested-unreadable', path: string | null, nestedPath: string | null, message: string): void {
  ctx.notes.push({ kind, detector: null, path, nestedPath, message });
}

/** What is left of the layer's inflate budget. */
export function inflateBudget(ctx: ScanContext): number {
  return Math.max(0, ctx.limits.maxInflatedBytes - ctx.inflated);
}

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
