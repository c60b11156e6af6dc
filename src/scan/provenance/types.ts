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

/** What the layer walk learns for triage. */
export interface LayerProvenance {
  records: CapturedRecord[];
  /** Digests of the layer's files with findings (hard links included under their own names). */
  digests: FileDigests[];
  /** Record files too large to keep (their package's files then stay findings). */
  skippedRecords: string[];
}
