// The second read of layers for triage: digests of the large files with findings that triage can
// use (provenance/deferred-needs.ts), taken once every layer of the store was walked, so a file
// that no package record names never costs its layer a second decode.
import { availableParallelism } from 'node:os';
import { mapLimit } from '../registry/pool.js';
import type { BlobLocation } from './blob-decode.js';
import type { ImageRef } from './image.js';
import type { LayerScanResult } from './layer-scan.js';
import { neededDeferredDigests } from './provenance/deferred-needs.js';
import type { FileDigests } from './provenance/types.js';
import { digestLayerFiles } from './range-digests.js';
import { decodeToolsEnabled } from './scan-tuning.js';

/** Where a layer blob is, and how errors name it. */
export interface RereadableLayer {
  location: BlobLocation;
  label: string;
}

/**
 * `results` with the needed deferred digests added (under hard-link names too) and `readTwice` set
 * on the layers that were read again. Throws EicBuildError when a blob cannot be read again or
 * hashes otherwise than when it was scanned.
 */
export async function completeDeferredDigests(
  images: readonly ImageRef[],
  results: ReadonlyMap<string, LayerScanResult>,
  layers: ReadonlyMap<string, RereadableLayer>,
  env: NodeJS.ProcessEnv = process.env,
): Promise<Map<string, LayerScanResult>> {
  const completed = new Map(results);
  const needed = [...neededDeferredDigests(images, results)].filter(([name]) => layers.has(name));
  const tools = decodeToolsEnabled(env);
  // Each read is mostly a decoder process: one per core.
  await mapLimit(needed, availableParallelism(), async ([name, files]) => {
    const result = results.get(name)!;
    const layer = layers.get(name)!;
    const digests = await digestLayerFiles(layer.location, files, { label: layer.label, tools, blobDigest: result.blobDigest });
    const linked = digests.flatMap((digest): FileDigests[] => {
      const links = files.find((file) => file.path === digest.path)?.links ?? [];
      return [digest, ...links.map((path) => ({ ...digest, path }))];
    });
    const provenance = result.provenance!;
    completed.set(name, { ...result, readTwice: true, provenance: { ...provenance, digests: [...provenance.digests, ...linked] } });
  });
  return completed;
}
