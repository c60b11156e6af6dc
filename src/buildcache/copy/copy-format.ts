// Pure formatting of the Spack layout-v3 files a verified copy consists of. The shapes are Spack
// v1.1's, checked byte for byte against the real mirror in fixtures/spack-v1.1-signed-mirror (test/buildcache/copy-unit.test.ts).
import type { V3Blob } from '../file-layout.js';
import { hashOfId } from '../spack-lock.js';

/** Media types of layout-v3 blobs. */
export const V3MediaTypes = {
  tarball: 'application/vnd.spack.install.v2.tar+gzip',
  spec: 'application/vnd.spack.spec.v5+json',
  index: 'application/vnd.spack.db.v8+json',
} as const;

/** `v3/layout.json` exactly as Spack writes it (Python's json.dumps, no newline). */
export const V3_LAYOUT_JSON = '{"signing": "gpg"}';

/** Where layout v3 keeps the buildcache index manifest. */
export const V3_INDEX_MANIFEST_PATH = 'v3/manifests/index/index.manifest.json';

/** A node of a spec's `nodes[]` (only what the copy reads; the rest is carried along untouched). */
export interface SpecNodeRecord {
  name: string;
  version: string;
  hash: string;
  [key: string]: unknown;
}

/**
 * A layout-v3 manifest as Spack writes it: `json.dumps(indent=0, separators=(",", ":"))`, so one
 * key or item per line, no indentation, no final newline. The field order is Spack's.
 */
export function formatV3Manifest(blobs: readonly V3Blob[]): string {
  const records = blobs.map(
    (b) =>
      `{\n"contentLength":${b.contentLength},\n"mediaType":${JSON.stringify(b.mediaType)},\n"compression":${JSON.stringify(b.compression)},\n"checksumAlgorithm":${JSON.stringify(b.checksumAlgorithm)},\n"checksum":${JSON.stringify(b.checksum)}\n}`,
  );
  return `{\n"version":3,\n"data":[\n${records.join(',\n')}\n]\n}`;
}

/**
 * The spec blob's JSON (before gzip): `{"spec":…,"buildcache_layout_version":N}`, compact as Spack writes it.
 * Without a layout version the field stays out: Spack reads a missing one as 0 (`spec_dict.get(…, 0)`),
 * exactly as it would from the OCI config, so the copy never relabels an old entry.
 */
export function formatSpecDocument(spec: unknown, layoutVersion: number | undefined): string {
  return JSON.stringify(layoutVersion === undefined ? { spec } : { spec, buildcache_layout_version: layoutVersion });
}

/** The buildcache index (database v8) listing `nodes` as installed in the buildcache, compact as Spack writes it. */
export function formatIndexDatabase(nodes: readonly SpecNodeRecord[]): string {
  const sorted = [...nodes].sort((a, b) => (a.hash < b.hash ? -1 : a.hash > b.hash ? 1 : 0));
  const installs = Object.fromEntries(sorted.map((node) => [node.hash, { spec: node, ref_count: 0, in_buildcache: true }]));
  return JSON.stringify({ database: { version: '8', installs } });
}

/** What Spack accepts as a package name (`spack.util.naming.valid_module_name` rules, lower case). */
const SPACK_PACKAGE_NAME = /^[a-z0-9_-]+$/;

/**
 * The root node of a spec document (`{"spec":{"nodes":[…]}}`), checked against the entry id. Only the root
 * (`nodes[0]`: Spack writes it first) names the entry: the other nodes are its dependencies, and a signed
 * spec of P lists its dependency D too, so accepting any node would let P's bytes be filed as D.
 */
export function findEntryNode(
  document: unknown,
  id: string,
  sameId: (nodeId: string, id: string) => boolean = (a, b) => a === b,
): { kind: 'ok'; node: SpecNodeRecord } | { kind: 'mismatch'; detail: string } {
  const nodes = (document as { spec?: { nodes?: unknown } } | null)?.spec?.nodes;
  if (!Array.isArray(nodes) || nodes.length === 0) return { kind: 'mismatch', detail: 'the spec has no nodes[]' };
  const node = nodes[0] as Partial<SpecNodeRecord> | null;
  if (typeof node !== 'object' || node === null || typeof node.name !== 'string' || typeof node.hash !== 'string' || node.version === undefined || node.version === null) {
    return { kind: 'mismatch', detail: 'the root node of the spec has no name, version or hash' };
  }
  const nodeId = `${node.name}-${String(node.version)}-${node.hash}`;
  if (node.hash !== hashOfId(id) || !sameId(nodeId, id)) return { kind: 'mismatch', detail: `the signed spec is ${nodeId}, not ${id}` };
  // The name becomes a directory of the copy: only what Spack allows in a package name.
  if (!SPACK_PACKAGE_NAME.test(node.name))
    return { kind: 'mismatch', detail: `the signed spec names the package ${JSON.stringify(node.name)}, which is not a Spack package name ([a-z0-9_-])` };
  return { kind: 'ok', node: node as SpecNodeRecord };
}

/** What an OCI entry's config blob holds for a v3 copy. */
export type OciSpecConfig =
  | {
      kind: 'ok';
      spec: unknown;
      /** As the config has it; undefined when it has none. */
      layoutVersion: number | undefined;
      node: SpecNodeRecord;
    }
  | { kind: 'invalid'; detail: string };

/**
 * Read the spec out of an OCI entry's config blob (Spack puts the spec JSON there, with image config
 * fields beside it) and find the node the entry's tag names. A missing layout version is kept missing.
 */
export function parseOciSpecConfig(bytes: Uint8Array, id: string, sameId?: (nodeId: string, id: string) => boolean): OciSpecConfig {
  let config: { spec?: unknown; buildcache_layout_version?: unknown };
  try {
    config = JSON.parse(Buffer.from(bytes).toString('utf8')) as typeof config;
  } catch {
    return { kind: 'invalid', detail: 'the config blob is not JSON' };
  }
  if (typeof config !== 'object' || config === null || typeof config.spec !== 'object' || config.spec === null) {
    return { kind: 'invalid', detail: 'the config blob holds no Spack spec ("spec" is missing)' };
  }
  const layoutVersion = config.buildcache_layout_version === undefined ? undefined : Number(config.buildcache_layout_version);
  if (layoutVersion !== undefined && !Number.isInteger(layoutVersion)) return { kind: 'invalid', detail: 'buildcache_layout_version is not a number' };
  const found = findEntryNode(config, id, sameId);
  if (found.kind !== 'ok') return { kind: 'invalid', detail: found.detail };
  return { kind: 'ok', spec: config.spec, layoutVersion, node: found.node };
}
