// Types of provenance triage: who put a private key into an image. Plain data (crosses to workers).

/** The package manager whose record vouches for a file. */
export type PackageManager = 'dpkg' | 'python' | 'spack';

/** Which package recorded a file byte for byte: the key in it is published content of that package. */
export interface Provenance {
  manager: PackageManager;
  package: string;
  version: string;
  /** The digest the record holds, `md5:<hex>` or `sha256:<hex>`. */
  recordedDigest: string;
}

/** Package database files the layer walker keeps (only these few paths are captured). */
export type RecordFileKind = 'dpkg-md5sums' | 'dpkg-status' | 'python-record' | 'spack-version';

/** A package database file as one layer holds it. */
export interface CapturedRecord {
  path: string;
  kind: RecordFileKind;
  text: string;
}

/** Digests of a layer file that held private key material. */
export interface FileDigests {
  path: string;
  size: number;
  md5: string;
  sha256: string;
  /** For the file's keys without a public identity: BODY-SHA256 of the block at each finding's offset. */
  blockIds?: { offset: number; id: string }[];
}

/**
 * A layer file that held a finding but was too large to keep until its end: its digests need a
 * second read of the layer, paid only when triage can use them (see deferred-needs.ts).
 */
export interface DeferredDigest {
  path: string;
  size: number;
  /** Where its bytes start in the uncompressed layer tar. */
  offset: number;
  /** Offsets of its findings without a public identity, for their block ids (files up to RETAIN_LIMIT). */
  blockOffsets: number[];
  /** Hard links to it in the same layer: they get its digests under their own names. */
  links: string[];
}

/** What the layer walk learns for triage. */
export interface LayerProvenance {
  records: CapturedRecord[];
  /** Digests of the layer's files with findings (hard links included under their own names). */
  digests: FileDigests[];
  /** Files with findings whose digests wait for a second read of the layer (a layer in a file only). */
  deferred: DeferredDigest[];
  /** Record files too large to keep (their package's files then stay findings). */
  skippedRecords: string[];
}
