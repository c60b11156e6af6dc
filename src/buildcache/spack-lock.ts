import { readFile } from 'node:fs/promises';
import { EicBuildError } from '../errors.js';

/** One concrete spec of a Spack environment lockfile that `spack install` may take from a buildcache. */
export interface LockEntry {
  /** `name-version-hash`, the name buildcache entries carry. */
  id: string;
  name: string;
  version: string;
  /** The DAG hash (the lockfile key). */
  hash: string;
  /** The lockfile node as written (arch, compiler…: locates a layout-v2 file). */
  node: Readonly<Record<string, unknown>>;
}

/**
 * Why a node of the lockfile was not selected: an external; reached only through build (or test) edges;
 * reached through no edge from a root (e.g. the dependencies of a splice's build spec).
 */
export type LockSkipReason = 'external' | 'build-only' | 'unreachable';

/** The entries of a lockfile that a runtime step is about to install, and what was left out. */
export interface SpackLockSelection {
  /** The lockfile as named on the command line. */
  file: string;
  /** `_meta.lockfile-version`. */
  lockfileVersion: number;
  /** Whether build-only dependencies were selected too (`--include-build-deps`). */
  includeBuildDeps: boolean;
  /** Roots of the environment (and of environments it includes with `include_concrete`). */
  roots: number;
  /** Distinct concrete specs in the lockfile. */
  nodes: number;
  /** Selected entries, sorted by id. */
  entries: LockEntry[];
  /** Nodes not selected, by id, with the reason. */
  skipped: { id: string; reason: LockSkipReason }[];
}

/** Options of parseSpackLockSelection. */
export interface SpackLockOptions {
  /** Also select build-only dependencies (what `spack install --include-build-deps` installs). */
  includeBuildDeps?: boolean;
}

const RE_CONCRETIZE = 're-concretize the environment with a current Spack (spack concretize --force) and use the spack.lock it writes';

type Json = Record<string, unknown>;

const isObject = (value: unknown): value is Json => typeof value === 'object' && value !== null && !Array.isArray(value);

/** One dependency edge: the dependency's hash and its types (build, link, run, test). */
interface Edge {
  hash: string;
  types: readonly string[] | undefined;
}

/**
 * A node's dependency edges, in the list form of lockfiles v4+ (`{name, hash, parameters: {deptypes}}`,
 * or `{name, hash, type}` in specfile v3) and the older map form (`{name: {hash, type}}`).
 */
function dependencyEdges(node: Json, where: string, what: string): Edge[] {
  const deps = node.dependencies;
  if (deps === undefined || deps === null) return [];
  const items: unknown[] = Array.isArray(deps) ? deps : isObject(deps) ? Object.values(deps) : [deps];
  return items.map((item, i) => {
    const dep = item as { hash?: unknown; parameters?: { deptypes?: unknown }; type?: unknown };
    if (!isObject(item) || typeof dep.hash !== 'string') {
      throw new EicBuildError('input-corrupt', `${what}: ${where}.dependencies[${i}] has no hash`, { hint: RE_CONCRETIZE });
    }
    const types = dep.parameters?.deptypes ?? dep.type;
    return { hash: dep.hash, types: Array.isArray(types) ? types.map(String) : typeof types === 'string' ? [types] : undefined };
  });
}

/** Edges `spack install --use-buildcache only` follows: link and run (an edge of unknown type is followed: better one entry too many). */
function isInstallEdge(edge: Edge): boolean {
  return edge.types === undefined || edge.types.includes('link') || edge.types.includes('run');
}

/** Collect roots and concrete specs of a lockfile body and, recursively, of the environments it includes (`include_concrete`). */
function collect(body: Json, what: string, where: string, roots: string[], nodes: Map<string, Json>): void {
  const concrete = body.concrete_specs;
  if (!isObject(concrete)) {
    throw new EicBuildError('input-corrupt', `${what} has no concrete_specs${where ? ` in ${where}` : ''}: it is not a concretized environment`, {
      hint: `run 'spack concretize' in the environment and use the spack.lock it writes`,
    });
  }
  for (const [key, value] of Object.entries(concrete)) {
    if (!isObject(value)) throw new EicBuildError('input-corrupt', `${what}: concrete_specs["${key}"] is not an object`, { hint: RE_CONCRETIZE });
    // The key is the DAG hash; the node repeats it as `hash` from lockfile v4 on.
    if (!nodes.has(key)) nodes.set(key, value);
  }
  const list = body.roots ?? [];
  if (!Array.isArray(list)) throw new EicBuildError('input-corrupt', `${what}: roots${where ? ` in ${where}` : ''} is not a list`, { hint: RE_CONCRETIZE });
  for (const [i, root] of list.entries()) {
    const hash = (root as { hash?: unknown } | null)?.hash;
    if (typeof hash !== 'string') throw new EicBuildError('input-corrupt', `${what}: roots[${i}]${where ? ` in ${where}` : ''} has no hash`, { hint: RE_CONCRETIZE });
    roots.push(hash);
  }
  const included = body.include_concrete;
  if (isObject(included)) {
    for (const [name, env] of Object.entries(included)) {
      if (isObject(env)) collect(env, what, `include_concrete["${name}"]`, roots, nodes);
    }
  }
}

/** `name`, `version` and `hash` of a node; versions of concrete specs are single strings from lockfile v4 on. */
function identity(key: string, node: Json, what: string): { name: string; version: string; hash: string } {
  const name = node.name;
  const hash = typeof node.hash === 'string' ? node.hash : key;
  const version = node.version;
  if (typeof name !== 'string' || name === '') throw new EicBuildError('input-corrupt', `${what}: concrete_specs["${key}"] has no name`, { hint: RE_CONCRETIZE });
  if (typeof version !== 'string' && typeof version !== 'number') {
    throw new EicBuildError('input-corrupt', `${what}: concrete_specs["${key}"] (${name}) has no single version`, { hint: RE_CONCRETIZE });
  }
  return { name, version: String(version), hash };
}

/**
 * The entries of a Spack environment lockfile (`spack.lock`) that `spack install --use-buildcache only`
 * takes from a buildcache: the roots and everything they reach through link and run dependencies, minus
 * externals (never in a buildcache). Build-only dependencies are left out unless `includeBuildDeps`:
 * Spack does not install them for packages it installs from a binary. `what` names the file in errors.
 */
export function parseSpackLockSelection(text: string, what: string, options: SpackLockOptions = {}): SpackLockSelection {
  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch (error) {
    throw new EicBuildError('input-corrupt', `${what} is not JSON (${error instanceof Error ? error.message : String(error)}): not a Spack environment lockfile`, {
      hint: "pass the spack.lock that `spack concretize` wrote next to the environment's spack.yaml",
    });
  }
  const meta = isObject(body) ? body._meta : undefined;
  const version = isObject(meta) ? meta['lockfile-version'] : undefined;
  const fileType = isObject(meta) ? meta['file-type'] : undefined;
  if (!isObject(body) || !isObject(meta) || typeof version !== 'number' || !Number.isInteger(version) || version < 1 || (fileType !== undefined && fileType !== 'spack-lockfile')) {
    throw new EicBuildError(
      'input-corrupt',
      `${what} is not a Spack environment lockfile (no _meta.lockfile-version${fileType !== undefined && fileType !== 'spack-lockfile' ? `; file-type is ${JSON.stringify(fileType)}` : ''})`,
      {
        hint: "pass the spack.lock that `spack concretize` wrote next to the environment's spack.yaml (not spack.yaml, not a spec.json)",
      },
    );
  }
  if (version < 4) {
    throw new EicBuildError('input-corrupt', `${what} is a lockfile of version ${version}, from a Spack older than 0.19: eic-build reads lockfile version 4 and newer`, {
      hint: RE_CONCRETIZE,
    });
  }
  const roots: string[] = [];
  const nodes = new Map<string, Json>();
  collect(body, what, '', roots, nodes);

  const entries = new Map<string, LockEntry>();
  const ids = new Map<string, string>();
  for (const [key, node] of nodes) {
    const { name, version: v, hash } = identity(key, node, what);
    ids.set(key, `${name}-${v}-${hash}`);
    entries.set(key, { id: `${name}-${v}-${hash}`, name, version: v, hash, node });
  }
  const edges = new Map<string, Edge[]>();
  for (const [key, node] of nodes) {
    const list = dependencyEdges(node, `concrete_specs["${key}"]`, what);
    for (const edge of list) {
      if (!nodes.has(edge.hash)) {
        throw new EicBuildError('input-corrupt', `${what}: ${ids.get(key)} depends on ${edge.hash}, which is not in concrete_specs`, { hint: RE_CONCRETIZE });
      }
    }
    edges.set(key, list);
  }
  for (const root of roots) {
    if (!nodes.has(root)) throw new EicBuildError('input-corrupt', `${what}: root ${root} is not in concrete_specs`, { hint: RE_CONCRETIZE });
  }

  // Walk from the roots; externals are walked through (Spack does) but never selected. A spliced node
  // (`build_spec`) is installed from its build spec's tarball (binary_distribution.download_tarball(
  // spec.build_spec)): that node is selected too, but not its dependencies (the splice replaced them).
  const includeBuildDeps = Boolean(options.includeBuildDeps);
  const walk = (follow: (edge: Edge) => boolean): Set<string> => {
    const reached = new Set<string>(roots);
    const buildSpecs = new Set<string>();
    const queue = [...reached];
    for (let next = 0; next < queue.length; next += 1) {
      const key = queue[next]!;
      const buildSpec = (nodes.get(key)!.build_spec as { hash?: unknown } | undefined)?.hash;
      if (typeof buildSpec === 'string' && nodes.has(buildSpec)) buildSpecs.add(buildSpec);
      for (const edge of edges.get(key) ?? []) {
        if (follow(edge) && !reached.has(edge.hash)) {
          reached.add(edge.hash);
          queue.push(edge.hash);
        }
      }
    }
    return new Set([...reached, ...buildSpecs]);
  };
  // Even with build dependencies, test-only edges are not followed (`spack install` without `--test`).
  const installed = walk(includeBuildDeps ? (edge) => isInstallEdge(edge) || edge.types!.includes('build') : isInstallEdge);
  const anyEdge = walk(() => true);
  const selected: LockEntry[] = [];
  const skipped: SpackLockSelection['skipped'] = [];
  for (const [key, entry] of entries) {
    const node = nodes.get(key)!;
    if (node.external !== undefined && node.external !== null) skipped.push({ id: entry.id, reason: 'external' });
    else if (installed.has(key)) selected.push(entry);
    else skipped.push({ id: entry.id, reason: anyEdge.has(key) ? 'build-only' : 'unreachable' });
  }
  const byId = (a: { id: string }, b: { id: string }) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0);
  return {
    file: what,
    lockfileVersion: version,
    includeBuildDeps,
    roots: new Set(roots).size,
    nodes: nodes.size,
    entries: selected.sort(byId),
    skipped: skipped.sort(byId),
  };
}

/** Read and parse a lockfile (see parseSpackLockSelection); a missing or unreadable file is an error naming it. */
export async function readSpackLockSelection(path: string, options: SpackLockOptions = {}): Promise<SpackLockSelection> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    throw new EicBuildError(code === 'ENOENT' ? 'input-not-found' : 'input-unreadable', `--spack-lock ${path}: cannot read the lockfile (${code ?? String(error)})`, {
      hint: "the runtime stage needs the environment's spack.lock: COPY it from the concretization stage (e.g. COPY --from=builder /opt/spack-environment/spack.lock …), or pass --spec NAME-VERSION-HASH / --all instead",
      cause: error,
    });
  }
  return parseSpackLockSelection(text, path, options);
}

/** The hash part of an entry id (`name-version-hash`, also of an OCI tag's id cut to 128 characters). */
export function hashOfId(id: string): string {
  return id.slice(id.lastIndexOf('-') + 1);
}

/**
 * Split a lockfile selection into the entries a mirror lists (matched by id, else by DAG hash: the hash
 * names the spec, whatever its version prints as or a tag made of it) and the ones it does not.
 */
export function selectLockEntries<T extends { id: string }>(listed: readonly T[], lock: readonly LockEntry[]): { present: { entry: T; lock: LockEntry }[]; absent: LockEntry[] } {
  const byId = new Map(listed.map((entry) => [entry.id, entry]));
  const byHash = new Map<string, T>();
  for (const entry of listed) if (!byHash.has(hashOfId(entry.id))) byHash.set(hashOfId(entry.id), entry);
  const present: { entry: T; lock: LockEntry }[] = [];
  const absent: LockEntry[] = [];
  for (const wanted of lock) {
    const found = byId.get(wanted.id) ?? byHash.get(wanted.hash);
    if (found) present.push({ entry: found, lock: wanted });
    else absent.push(wanted);
  }
  return { present, absent };
}
