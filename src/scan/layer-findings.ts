// What a layer scan produces: findings (leaks) and notes, before they are placed in an image.
// Plain data shared by the walker, the nested readers, member de-duplication and hard links.
import type { ContentFinding } from './detector-api.js';

/** A finding inside a layer, before it is placed in an image. */
export interface LayerFinding extends ContentFinding {
  path: string | null;
  nestedPath: string | null;
}

/** Something worth saying about a layer that is not a leak. */
export interface LayerNote {
  kind: 'detector' | 'secret-mount-stub' | 'unsafe-name' | 'nested-bounded' | 'nested-unreadable' | 'raw-blob';
  detector: string | null;
  path: string | null;
  nestedPath: string | null;
  message: string;
}
