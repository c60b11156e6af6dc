// Whether a file found in one layer is still in the final image, or which later layer hid it.
// Pure: works on the change lists the layer walker records.

/** What one layer changes about the layers below it. */
export interface LayerChanges {
  /** Non-directory entries: they replace (overwrite) the same path below. */
  files: string[];
  /** Paths deleted by `.wh.<name>` entries. */
  whiteouts: string[];
  /** Directories whose lower contents are hidden by `.wh..wh..opq`. */
  opaqueDirs: string[];
}

/** How a later layer hid a path. */
export type HiddenHow = 'whiteout' | 'opaque-directory' | 'overwritten';

/** Visible in the final image, or hidden by a later layer (index into the image's layers). */
export type Visibility = { visible: true } | { visible: false; layerIndex: number; how: HiddenHow };

interface ChangeSets {
  files: Set<string>;
  whiteouts: Set<string>;
  opaqueDirs: Set<string>;
}

/** Precomputed lookups for deciding many paths against the same layer stack. */
export class VisibilityIndex {
  private readonly sets: ChangeSets[];

  constructor(layers: LayerChanges[]) {
    this.sets = layers.map((layer) => ({
      files: new Set(layer.files),
      whiteouts: new Set(layer.whiteouts),
      opaqueDirs: new Set(layer.opaqueDirs),
    }));
  }

  /** Decide for `path` added by layer `layerIndex`: the first later layer that hides it, if any. */
  decide(path: string, layerIndex: number): Visibility {
    const ancestors = ancestorsOf(path);
    for (let j = layerIndex + 1; j < this.sets.length; j++) {
      const set = this.sets[j]!;
      if (set.whiteouts.has(path) || ancestors.some((dir) => set.whiteouts.has(dir))) return { visible: false, layerIndex: j, how: 'whiteout' };
      if (ancestors.some((dir) => set.opaqueDirs.has(dir)) || (set.opaqueDirs.has('') && path !== '')) {
        return { visible: false, layerIndex: j, how: 'opaque-directory' };
      }
      // The same path written again, or a parent directory replaced by a file or link.
      if (set.files.has(path) || ancestors.some((dir) => set.files.has(dir))) return { visible: false, layerIndex: j, how: 'overwritten' };
    }
    return { visible: true };
  }
}

/** `a/b/c` → [`a`, `a/b`]. */
export function ancestorsOf(path: string): string[] {
  const parts = path.split('/');
  const out: string[] = [];
  for (let i = 1; i < parts.length; i++) out.push(parts.slice(0, i).join('/'));
  return out;
}

/** One-shot form of VisibilityIndex.decide. */
export function decideVisibility(path: string, layerIndex: number, layers: LayerChanges[]): Visibility {
  return new VisibilityIndex(layers).decide(path, layerIndex);
}
