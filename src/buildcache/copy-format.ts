// Pure formatting of the Spack layout-v3 files a verified copy consists of. The shapes are Spack
// v1.1's, checked byte for byte against the real mirror in ../shared/fixtures (test/buildcache/copy-unit.test.ts).
import type { V3Blob } from './file-layout.js';

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

/** The spec blob's JSON (before gzip): `{"spec":…,"buildcache_layout_version":N}`, compact as Spack writes it. */
export function formatSpecDocument(spec: unknown, layoutVersion: number): string {
  return JSON.stringify({ spec, buildcache_layout_version: layoutVersion });
}

/** The buildcache index (database v8) listing `nodes` as installed in the buildcache, compact as Spack writes it. */
export function formatIndexDatabase(nodes: readonly SpecNodeRecord[]): string {
  const sorted = [...nodes].sort((a, b) => (a.hash < b.hash ? -1 : a.hash > b.hash ? 1 : 0));
  const installs = Object.fromEntries(sorted.map((node) => [node.hash, { spec: node, ref_count: 0, in_buildcache: true }]));
  return JSON.stringify({ database: { version: '8', installs } });
}

/** The hash part of `name-version-hash`. */
export function hashOfId(id: string): string {
  return id.slice(id.lastIndexOf('-') + 1);
}

/**
 * The node of a spec document (`{"spec":{"nodes":[…]}}`) that an entry id names, checked against the id:
 * a copy must never file one package's bytes under another's name.
 */
export function findEntryNode(document: unknown, id: string, sameId: (nodeId: string, id: string) => boolean = (a, b) => a === b): { kind: 'ok'; node: SpecNodeRecord } | { kind: 'mismatch'; detail: string } {
  const nodes = (document as { spec?: { nodes?: unknown } } | null)?.spec?.nodes;
  if (!Array.isArray(nodes)) return { kind: 'mismatch', detail: 'the spec has no nodes[]' };
  const hash = hashOfId(id);
  const node = nodes.find((n): n is SpecNodeRecord => typeof n === 'object' && n !== null && (n as { hash?: unknown }).hash === hash);
  if (!node) return { kind: 'mismatch', detail: `the spec has no node with hash ${hash}` };
  if (typeof node.name !== 'string' || node.version === undefined) return { kind: 'mismatch', detail: `the spec node ${hash} has no name or version` };
  const nodeId = `${node.name}-${String(node.version)}-${node.hash}`;
  if (!sameId(nodeId, id)) return { kind: 'mismatch', detail: `the signed spec is ${nodeId}, not ${id}` };
  return { kind: 'ok', node };
}

/** What an OCI entry's config blob holds for a v3 copy. */
export type OciSpecConfig =
  | { kind: 'ok'; spec: unknown; layoutVersion: number; node: SpecNodeRecord }
  | { kind: 'invalid'; detail: string };

/**
 * Read the spec out of an OCI entry's config blob (Spack puts the spec JSON there, with image config
 * fields beside it) and find the node the entry's tag names.
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
  const layoutVersion = config.buildcache_layout_version === undefined ? 2 : Number(config.buildcache_layout_version);
  if (!Number.isInteger(layoutVersion)) return { kind: 'invalid', detail: 'buildcache_layout_version is not a number' };
  const found = findEntryNode(config, id, sameId);
  if (found.kind !== 'ok') return { kind: 'invalid', detail: found.detail };
  return { kind: 'ok', spec: config.spec, layoutVersion, node: found.node };
}
