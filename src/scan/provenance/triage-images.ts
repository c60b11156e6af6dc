// Adapt scanned images and per-layer results to what triage reads. Pure.
import type { ImageRef } from '../image.js';
import type { LayerScanResult } from '../layer-scan.js';
import type { TriageImage } from './triage.js';

/** One TriageImage per scanned image, its layers bottom first (layers without collected data are empty). */
export function triageImages(images: readonly ImageRef[], results: ReadonlyMap<string, LayerScanResult>): TriageImage[] {
  return images.map((image) => ({
    image: { manifestDigest: image.manifestDigest, configDigest: image.configDigest, platform: image.platform, kind: image.kind },
    layers: image.layers.map((layer) => {
      const result = results.get(layer.blobName);
      return {
        digest: layer.digest,
        skippedRecords: result?.provenance?.skippedRecords ?? [],
        files: result?.files ?? [],
        whiteouts: result?.whiteouts ?? [],
        opaqueDirs: result?.opaqueDirs ?? [],
        records: result?.provenance?.records ?? [],
        digests: result?.provenance?.digests ?? [],
      };
    }),
  }));
}
