// scanTarget: resolve the target, read its images, scan every layer blob once (in parallel for
// file sources), scan the configs, and return the report. Outcomes are data; errors are EicBuildErrors.
import { performance } from 'node:perf_hooks';
import { EicBuildError } from '../errors.js';
import { AllowKeyError, parseAllowKeys, type DetectorKeys, type KeyIdentity } from './detector-api.js';
import { connectDocker } from '../docker/endpoint.js';
import { decompressArchive, sniffArchiveCompression } from './compressed-archive.js';
import { scanDaemonImage } from './daemon-source.js';
import type { BlobStore, ImageRef } from './image.js';
import type { LayerScanResult } from './layer-scan.js';
import { readImages } from './layout.js';
import { assembleReport, type ScanReport } from './report.js';
import { openDirStore, openTarStore } from './stores.js';
import { resolveTarget } from './target.js';
import { completeDeferredDigests } from './deferred-digests.js';
import { triageImages, triageReport } from './provenance/index.js';
import { parseScanTuning } from './scan-tuning.js';
import { scanRegistryImage } from './registry-source.js';
import { scanLayers, type LayerTask } from './worker-pool.js';

/** Options of scanTarget. */
export interface ScanOptions {
  /** Public keys to match findings against (`--public-key`). */
  publicKeys?: KeyIdentity[];
  /**
   * Key identities that are not a leak (`--allow-key`): keygrip or OpenPGP fingerprint hex,
   * `SHA256:<b64>` or `SPKI-SHA256:<b64>`. A key they name is a note, unless it is a public key's.
   */
  allowKeys?: string[];
  /** Environment (EIC_BUILD_SCAN_WORKERS; DOCKER_HOST/DOCKER_CONTEXT for docker-daemon:); defaults to process.env. */
  env?: NodeJS.ProcessEnv;
  /** The docker client whose engine `docker-daemon:` reads (default: $EIC_BUILD_DOCKER, else `docker` on PATH). */
  dockerClient?: string;
  /** Hears how far the scan is (layers and bytes done of the total, when known): for a progress bar. */
  onProgress?: (progress: ScanProgress) => void;
  /**
   * Provenance triage (default true): keys in files a package manager recorded byte for byte in the
   * same image are notes naming the package. false (`--no-provenance`): every key is a finding.
   */
  provenance?: boolean;
}

/** How far a scan is. Totals are undefined while unknown (an engine image's layers are known at the end). */
export interface ScanProgress {
  layersDone: number;
  layersTotal: number | undefined;
  bytesDone: number;
  bytesTotal: number | undefined;
}

async function scanStore(
  store: BlobStore,
  keys: DetectorKeys,
  env: NodeJS.ProcessEnv,
  provenance: boolean,
  onProgress?: (progress: ScanProgress) => void,
): Promise<{ images: ImageRef[]; results: Map<string, LayerScanResult> }> {
  const images = await readImages(store);
  const tasks: LayerTask[] = [];
  const names: string[] = [];
  for (const image of images) {
    image.layers.forEach((layer) => {
      if (names.includes(layer.blobName)) return;
      const location = store.location(layer.blobName);
      if (!location) throw new EicBuildError('input-corrupt', `${store.target}: layer blob '${layer.blobName}' is missing`);
      names.push(layer.blobName);
      tasks.push({
        location,
        job: {
          label: `${store.target}: layer ${layer.digest} ('${layer.blobName}')`,
          format: layer.format,
          check: layer.check,
          expectedSize: layer.size,
          keys,
          provenance,
        },
      });
    });
  }
  const bytesTotal = tasks.reduce((sum, task) => sum + task.location.size, 0);
  let layersDone = 0;
  let bytesDone = 0;
  onProgress?.({ layersDone, layersTotal: tasks.length, bytesDone, bytesTotal });
  const scanned = await scanLayers(tasks, env, (index) => {
    layersDone++;
    bytesDone += tasks[index]!.location.size;
    onProgress?.({ layersDone, layersTotal: tasks.length, bytesDone, bytesTotal });
  });
  const results = new Map(names.map((name, i) => [name, scanned[i]!]));
  if (!provenance) return { images, results };
  const layers = new Map(names.map((name, i) => [name, { location: tasks[i]!.location, label: tasks[i]!.job.label }]));
  return { images, results: await completeDeferredDigests(images, results, layers, env) };
}

/**
 * Check allowed key identities before any blob is read (a bad one must not fail a worker half way)
 * and return them normalized. `source` names them in the message, e.g. `--allow-key`.
 */
export function validateAllowKeys(values: string[], source: string): string[] {
  try {
    return parseAllowKeys(values);
  } catch (error) {
    if (!(error instanceof AllowKeyError)) throw error;
    throw new EicBuildError('usage', `${source}: ${error.message}`, {
      hint: 'copy the identity from a finding (fingerprints/keygrips), from gpg --with-keygrip -k, or from ssh-keygen -l -f KEY.pub.',
    });
  }
}

/**
 * Scan an image (docker save archive, OCI layout or archive, an image in the local engine or in a registry) for
 * private key material. Resolves to the report whatever it finds; throws EicBuildError
 * ('input-not-found' | 'input-unreadable' | 'input-corrupt' | 'digest-mismatch' | 'docker-unavailable',
 * or 'usage' for a malformed allowKeys entry or EIC_BUILD_SCAN_* variable)
 * when the target cannot be read whole, so a partly read image never passes.
 */
export async function scanTarget(target: string, options: ScanOptions = {}): Promise<ScanReport> {
  const started = performance.now();
  const keys: DetectorKeys = { knownKeys: options.publicKeys ?? [], allowKeys: validateAllowKeys(options.allowKeys ?? [], 'allowKeys') };
  const env = options.env ?? process.env;
  const provenance = options.provenance !== false;
  // Before anything is read: a malformed tuning variable must not surface half-way through a scan.
  parseScanTuning(env);
  const resolved = await resolveTarget(target);
  let scanned: { images: ImageRef[]; results: Map<string, LayerScanResult> };
  switch (resolved.kind) {
    case 'docker-daemon':
      scanned = await scanDaemonImage(resolved.reference, keys, await connectDocker(env, options.dockerClient ?? env.EIC_BUILD_DOCKER ?? 'docker'), options.onProgress);
      break;
    case 'oci':
      scanned = await scanStore(await openDirStore(target, resolved.path), keys, env, provenance, options.onProgress);
      break;
    case 'tar-archive': {
      // `docker save | gzip` (zstd, xz, bzip2): read a decompressed copy, removed when done.
      const compression = await sniffArchiveCompression(resolved.path);
      const plain = compression ? await decompressArchive(target, resolved.path, compression) : null;
      try {
        scanned = await scanStore(await openTarStore(target, plain?.path ?? resolved.path), keys, env, provenance, options.onProgress);
      } catch (error) {
        // Name the user's file, not the temp copy.
        if (plain && error instanceof EicBuildError && error.message.includes(plain.path)) {
          throw new EicBuildError(error.code, error.message.split(plain.path).join(`${target} (decompressed)`), { hint: error.hint, cause: error });
        }
        throw error;
      } finally {
        await plain?.remove();
      }
      break;
    }
    case 'registry':
      scanned = await scanRegistryImage(resolved.target, keys, env);
      break;
  }
  const report = assembleReport(target, scanned.images, scanned.results, keys, 0);
  const triaged = provenance ? triageReport(report, triageImages(scanned.images, scanned.results)) : report;
  return { ...triaged, stats: { ...triaged.stats, seconds: (performance.now() - started) / 1000 } };
}
