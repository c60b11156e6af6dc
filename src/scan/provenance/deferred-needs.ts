// Which deferred files (layer files with findings, too large to keep until their end: see
// layer-collector.ts) triage can use the digests of, so a layer is decoded a second time only for
// them. Pure.
import type { ImageRef } from '../image.js';
import type { LayerScanResult } from '../layer-scan.js';
import { PackageIndex } from './package-index.js';
import { triageImages } from './triage-images.js';
import type { DeferredDigest } from './types.js';

/**
 * Per layer blob name, the deferred files whose digests can change a verdict: a package record
 * names the file (or a hard link to it) as of its own layer or in the final image, where triage
 * looks records up; or it holds findings without a public identity, whose block ids may match a
 * published key's. A file that no record names stays a finding whatever its digests, so it is
 * not read again. A blob shared by several images is asked about in each.
 */
export function neededDeferredDigests(images: readonly ImageRef[], results: ReadonlyMap<string, LayerScanResult>): Map<string, DeferredDigest[]> {
  const needed = new Map<string, Set<DeferredDigest>>();
  const triage = triageImages(images, results);
  images.forEach((image, imageIndex) => {
    const layers = triage[imageIndex]!.layers;
    image.layers.forEach((layer, index) => {
      const deferred = results.get(layer.blobName)?.provenance?.deferred ?? [];
      if (deferred.length === 0) return;
      const names = (file: DeferredDigest) => [file.path, ...file.links];
      const wanted = new Set(deferred.flatMap(names));
      const views = [new PackageIndex(layers.slice(0, index + 1), wanted), new PackageIndex(layers, wanted)];
      for (const file of deferred) {
        const recorded = names(file).some((path) => views.some((view) => view.recordsOf(path).length > 0));
        if (!recorded && file.blockOffsets.length === 0) continue;
        let files = needed.get(layer.blobName);
        if (!files) needed.set(layer.blobName, (files = new Set()));
        files.add(file);
      }
    });
  });
  return new Map([...needed].map(([name, files]) => [name, [...files]]));
}
