import { EicBuildError } from '../errors.js';

/** One blob record of a layout-v3 manifest (`{"version":3,"data":[…]}`). */
export interface V3Blob {
  contentLength: number;
  mediaType: string;
  compression: string;
  checksumAlgorithm: string;
  checksum: string;
}

/** Parse a v3 manifest body (the signed text of a spec manifest, or an unsigned key/index manifest). */
export function parseV3Manifest(text: string, what: string): V3Blob[] {
  let body: { version?: unknown; data?: unknown };
  try {
    body = JSON.parse(text) as typeof body;
  } catch {
    throw new EicBuildError('input-corrupt', `${what} is not JSON`, { hint: 'the mirror is damaged: push the entry again' });
  }
  if (body.version !== 3 || !Array.isArray(body.data)) {
    throw new EicBuildError('input-corrupt', `${what} is not a layout-v3 manifest ({"version":3,"data":[…]})`, { hint: 'the mirror is damaged: push the entry again' });
  }
  return body.data.map((item, i) => {
    const blob = item as Partial<V3Blob>;
    if (typeof blob.checksum !== 'string' || typeof blob.checksumAlgorithm !== 'string') {
      throw new EicBuildError('input-corrupt', `${what}: data[${i}] has no checksum`, { hint: 'the mirror is damaged: push the entry again' });
    }
    return {
      contentLength: Number(blob.contentLength ?? -1),
      mediaType: String(blob.mediaType ?? ''),
      compression: String(blob.compression ?? ''),
      checksumAlgorithm: blob.checksumAlgorithm,
      checksum: blob.checksum,
    };
  });
}

/** Where layout v3 stores a blob: `blobs/<algorithm>/<first two hex>/<checksum>`. */
export function v3BlobPath(blob: Pick<V3Blob, 'checksumAlgorithm' | 'checksum'>): string {
  return `blobs/${blob.checksumAlgorithm}/${blob.checksum.slice(0, 2)}/${blob.checksum}`;
}

/**
 * A path component as Spack's `Spec.format_path` makes it (`llnl.util.filesystem.polite_filename`): every
 * character but `A-Za-z0-9_+.-` becomes `_`, so a `/` in a version can never add a directory.
 */
export function politeFilename(component: string): string {
  return component.replace(/[^A-Za-z0-9_+.-]/g, '_');
}

/** Where layout v3 keeps the spec manifest of `name-version-hash` (Spack: `format_path("{name}")/format_path("{name}-{version}-{hash}")`). */
export function v3SpecManifestPath(name: string, id: string): string {
  return `v3/manifests/spec/${politeFilename(name)}/${politeFilename(id)}.spec.manifest.json`;
}

/** `name-version-hash` from a spec manifest's file name. */
export function idFromManifestPath(path: string): string {
  const file = path.slice(path.lastIndexOf('/') + 1);
  return file.replace(/\.spec\.manifest\.json$/, '').replace(/\.spec\.json(\.sig)?$/, '');
}

/** A node of a Spack spec JSON (only what eic-build reads). */
interface SpecNode {
  name?: string;
  version?: string;
  hash?: string;
  arch?: { platform?: string; platform_os?: string; target?: string | { name?: string } };
  compiler?: { name?: string; version?: string };
}

/** The root node's name, version and hash of a Spack spec JSON (v2 `.spec.json` or a database record). */
export function parseSpecIdentity(spec: unknown): { name: string; version: string; hash: string; node: SpecNode } | undefined {
  const root = spec as { spec?: { nodes?: SpecNode[] }; nodes?: SpecNode[] } & SpecNode;
  const node = root.spec?.nodes?.[0] ?? root.nodes?.[0] ?? root;
  if (!node?.name || !node.hash) return undefined;
  return { name: node.name, version: String(node.version ?? ''), hash: node.hash, node };
}

/**
 * Layout v2 tarball path of a spec (Spack ≤ 0.23 `tarball_path_name`):
 * `build_cache/<arch>/<compiler>-<cver>/<name>-<version>/<arch>-<compiler>-<cver>-<name>-<version>-<hash>.spack`.
 */
export function v2TarballPath(node: SpecNode): string | undefined {
  const target = typeof node.arch?.target === 'string' ? node.arch.target : node.arch?.target?.name;
  if (!node.arch?.platform || !node.arch.platform_os || !target || !node.compiler?.name || !node.name || !node.hash) return undefined;
  const arch = `${node.arch.platform}-${node.arch.platform_os}-${target}`;
  const compiler = `${node.compiler.name}-${node.compiler.version ?? ''}`;
  const nameVersion = `${node.name}-${node.version ?? ''}`;
  return `build_cache/${arch}/${compiler}/${nameVersion}/${arch}-${compiler}-${nameVersion}-${node.hash}.spack`;
}
