import type { Destination } from '../build-options.js';
import type { ScanItem } from '../plan.js';
import type { PushedTag } from '../publish.js';
import type { Run } from '../run.js';

/**
 * How a built image reaches a place the scanner reads before anything else sees it, and how exactly
 * that scanned image is published afterwards: one driver per scan route (plan.ts chooseScanRoute).
 */

/** An image built for the scan, where it is. */
export type BuiltImage =
  /** In the engine under a private tag; the ID is known from --iidfile. */
  | { kind: 'engine'; scanTarget: string; configDigest: string; tag: string }
  /** A docker-archive tar in the run's work dir. */
  | { kind: 'docker-archive'; scanTarget: string; configDigest: undefined; archive: string }
  /** An OCI layout directory in the run's work dir. */
  | { kind: 'oci-layout'; scanTarget: string; configDigest: undefined; layoutDir: string };

/** What publishing did. */
export interface Published {
  /** The tags the image now has (the private scan tag when --load had none). */
  tags: string[];
  pushed: PushedTag[];
  /** The manifest digest, where a push or the layout tells it. */
  manifestDigest: string | undefined;
}

/** One scan route's steps. */
export interface ScanRouteDriver<B extends BuiltImage = BuiltImage> {
  /** Build one scan item (the `n`th) into a place the scanner reads. */
  build(run: Run, item: ScanItem, n: number): Promise<B>;
  /**
   * Layer digests of the base image, as the scan of this route names layers (engine: diff IDs;
   * exported images: blob digests), so inherited findings compare like with like. Empty: unknown.
   */
  baseLayers(run: Run, baseImage: string | undefined): Promise<Set<string>>;
  /** Publish the scanned final image (`configDigest` as the scan read it) to `destination`. */
  publish(run: Run, final: B, configDigest: string | undefined, destination: Destination): Promise<Published>;
}
