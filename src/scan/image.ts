// The small interface at the centre of the scanner: a source of blobs by name, the images those
// blobs make up, and their layers. Formats (docker save, OCI layout/archive, the daemon) only differ
// in how they make a BlobStore.
import type { ConfigValue } from './config-scan.js';
import type { BlobLocation, DigestCheck } from './layer-scan.js';

/** Named blobs of one image source (names as the archive or layout directory spells them). */
export interface BlobStore {
  /** The target as the user gave it, for messages. */
  readonly target: string;
  has(name: string): boolean;
  /** Read a small blob (manifest, config, index) whole. */
  read(name: string): Promise<Buffer>;
  /** Where a blob's bytes are on disk, or null for stream-only sources. */
  location(name: string): BlobLocation | null;
}

/** One layer of one image. */
export interface LayerRef {
  /** Blob name inside the source (e.g. `blobs/sha256/<hex>` or `<id>/layer.tar`). */
  blobName: string;
  /** Digest the report names the layer by: the manifest digest, or the diff id for legacy archives. */
  digest: string;
  mediaType: string | null;
  size: number | null;
  check: DigestCheck | null;
  format: 'tar' | 'raw';
}

/** One image manifest (a platform image or an attestation manifest) with its config. */
export interface ImageRef {
  kind: 'image' | 'attestation';
  manifestDigest: string | null;
  configDigest: string;
  platform: string | null;
  /** The raw config bytes (JSON), already checked against configDigest. */
  config: Buffer;
  layers: LayerRef[];
  /**
   * Annotation values of the manifest, its descriptors and the indexes above it (OCI layouts), by
   * field (`manifest.annotations["k"]`, `index.json.annotations["k"]`): free text anyone can set, so
   * scanned like config values. An index's annotations go with the first image under it (the first image at all when it lists only images already seen).
   */
  annotations?: ConfigValue[];
}
