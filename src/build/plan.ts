import { EicBuildError } from '../errors.js';
import type { Destination } from './build-options.js';
import type { Capabilities } from './capabilities.js';
import { stageClosure, targetStageIndex, type DockerfileStage } from './dockerfile-stages.js';
import {
  attr,
  formatBuildContextSpec,
  formatNetworkMode,
  type NetworkMode,
  formatCacheSpec,
  formatOutputSpec,
  isMaxModeCacheExport,
  type AttrSpec,
  type BuildContextSpec,
} from './flags.js';
import type { BuildClient } from './probe.js';

/** A secret handed to BuildKit: by the child's environment, or by a 0600 temp file path. */
export type ResolvedSecret = { kind: 'env'; id: string; envName: string; value: string } | { kind: 'file'; id: string; path: string };

/** Where one build invocation writes its result. */
export type InvocationOutput =
  | { kind: 'engine'; iidFile: string; tag: string }
  | { kind: 'oci-layout'; dest: string }
  | { kind: 'docker-archive'; dest: string }
  | { kind: 'user'; spec: AttrSpec }
  /** A re-run whose only purpose is the cache export (everything cached already). */
  | { kind: 'cache-only' };

/** Everything one `docker build` / `docker buildx build` call needs. */
export interface InvocationInput {
  client: BuildClient;
  caps: Capabilities;
  contextDir: string;
  dockerfile: string;
  target: string | undefined;
  platforms: string[];
  buildArgs: { name: string; value: string }[];
  buildContexts: BuildContextSpec[];
  secrets: ResolvedSecret[];
  cacheFrom: AttrSpec[];
  cacheTo: AttrSpec[];
  noCache: boolean;
  /** `--network` for RUN steps; undefined: not passed. */
  network?: NetworkMode | undefined;
  progress: 'auto' | 'plain' | 'tty' | 'quiet';
  provenance: 'min' | 'off';
  output: InvocationOutput;
}

/** argv and extra environment for the client. Secret values are only ever in `env`. */
export interface Invocation {
  command: string;
  args: string[];
  env: Record<string, string>;
}

/** Name of the environment variable that carries secret `id` to the client. */
export function secretEnvName(id: string): string {
  return `EIC_BUILD_SECRET_${id.toUpperCase().replace(/[^A-Z0-9]/g, '_')}`;
}

/**
 * Pure: the client command line for one build. Secret values go into `env` (read by the client
 * through `--secret id=X,env=VAR`), or are referenced by file path; never into argv or build args.
 */
export function buildInvocation(input: InvocationInput): Invocation {
  const { client } = input;
  const args: string[] = client.kind === 'buildx' ? ['buildx', 'build', '--builder', client.builder] : ['build'];
  const env: Record<string, string> = client.kind === 'builtin' ? { DOCKER_BUILDKIT: '1' } : {};
  // quiet: keep BuildKit's plain log (it goes to the failure message), just do not stream it.
  args.push('--progress', input.progress === 'quiet' ? 'plain' : input.progress);
  args.push('--file', input.dockerfile);
  if (input.target) args.push('--target', input.target);
  if (input.platforms.length) args.push('--platform', input.platforms.join(','));
  for (const arg of input.buildArgs) args.push('--build-arg', `${arg.name}=${arg.value}`);
  for (const ctx of input.buildContexts) args.push('--build-context', formatBuildContextSpec(ctx));
  for (const secret of input.secrets) {
    if (secret.kind === 'env') {
      args.push('--secret', `id=${secret.id},env=${secret.envName}`);
      env[secret.envName] = secret.value;
    } else {
      args.push('--secret', `id=${secret.id},src=${secret.path}`);
    }
  }
  for (const spec of input.cacheFrom) {
    if (client.kind === 'builtin') {
      // The built-in builder only imports cache from images (inline cache metadata).
      const ref = attr(spec, 'ref');
      if (ref) args.push('--cache-from', ref);
    } else args.push('--cache-from', formatCacheSpec(spec));
  }
  for (const spec of input.cacheTo) {
    if (client.kind === 'builtin' || spec.type === 'inline') {
      if (spec.type === 'inline') args.push('--build-arg', 'BUILDKIT_INLINE_CACHE=1');
    } else args.push('--cache-to', formatCacheSpec(spec));
  }
  if (input.noCache) args.push('--no-cache');
  if (input.network) {
    args.push('--network', formatNetworkMode(input.network));
    // buildx asks for the entitlement explicitly; docker build grants it itself.
    if (input.network === 'host' && client.kind === 'buildx') args.push('--allow', 'network.host');
  }
  if (client.kind === 'buildx' && versionSupportsProvenanceFlag(client)) {
    args.push(`--provenance=${input.provenance === 'min' ? 'mode=min' : 'false'}`);
  }
  switch (input.output.kind) {
    case 'engine':
      if (client.kind === 'buildx') args.push('--load');
      args.push('--iidfile', input.output.iidFile, '--tag', input.output.tag);
      break;
    case 'oci-layout':
      args.push('--output', `type=oci,dest=${input.output.dest},tar=false`);
      break;
    case 'docker-archive':
      args.push('--output', `type=docker,dest=${input.output.dest}`);
      break;
    case 'user':
      args.push('--output', formatOutputSpec(input.output.spec));
      break;
    case 'cache-only':
      if (client.kind === 'buildx') args.push('--output', 'type=cacheonly');
      break;
  }
  args.push(input.contextDir);
  return { command: client.docker, args, env };
}

function versionSupportsProvenanceFlag(client: Extract<BuildClient, { kind: 'buildx' }>): boolean {
  const [major = 0, minor = 0] = client.buildxVersion.split('.').map(Number);
  return major > 0 || minor >= 10;
}

/** How the image reaches a place where it can be scanned before it goes anywhere else. */
export type ScanRoute =
  /** Built into the local engine under a temporary tag; scanned as docker-daemon:TAG. */
  | { kind: 'engine' }
  /** Built by a BuildKit builder into an OCI layout directory; scanned as oci:DIR. */
  | { kind: 'oci-layout' }
  /** Built into a docker-archive tar, scanned as docker-archive:FILE, then `docker load`ed. */
  | { kind: 'docker-archive' };

/** Pure: choose the route. The engine route is the only one for builtin/docker-driver clients. */
export function chooseScanRoute(caps: Capabilities, destination: Destination): ScanRoute {
  if (caps.buildsIntoEngine) return { kind: 'engine' };
  if (destination.kind === 'load') return { kind: 'docker-archive' };
  return { kind: 'oci-layout' };
}

/** One image to scan before anything leaves the machine, and why. */
export interface ScanItem {
  /** `--target` for the build that produces it (undefined: the Dockerfile's last stage). */
  target: string | undefined;
  reason: 'final-image' | 'cache-export';
}

/**
 * Pure: which images must be scanned. Always the final target (every platform is inside it); with a
 * `--cache-to …,mode=max` export also every stage the target depends on, because such an export
 * uploads their layers too.
 */
export function planScans(stages: DockerfileStage[], target: string | undefined, cacheTo: AttrSpec[]): ScanItem[] {
  const items: ScanItem[] = [{ target, reason: 'final-image' }];
  if (!cacheTo.some(isMaxModeCacheExport)) return items;
  const targetIndex = targetStageIndex(stages, target);
  if (targetIndex === undefined) {
    throw new EicBuildError('usage', `--target '${target}' names no stage of the Dockerfile`, { hint: `stages: ${stages.map((s) => s.name ?? String(s.index)).join(', ')}` });
  }
  for (const stage of stageClosure(stages, targetIndex)) {
    if (stage.index === targetIndex) continue;
    if (!stage.name) {
      throw new EicBuildError(
        'usage',
        `stage ${stage.index} (FROM ${stage.base}) has no name, so it cannot be built alone and scanned before a mode=max cache export uploads its layers`,
        {
          hint: `name it ('FROM ${stage.base} AS some-name'), or use --cache-to …,mode=min.`,
        },
      );
    }
    items.push({ target: stage.name, reason: 'cache-export' });
  }
  return items;
}

/** The outcome of one scan, as the publish decision needs it. */
export interface ScanVerdict {
  item: ScanItem;
  leaked: boolean;
}

/** What happens after the scans. */
export type PublishDecision = { kind: 'publish'; destination: Destination; exportCache: AttrSpec[] } | { kind: 'stop-leak'; leaking: ScanItem[] };

/** Pure: publish only when every scanned image is clean; on any leak nothing is pushed, loaded or exported. */
export function decidePublish(verdicts: ScanVerdict[], destination: Destination, cacheTo: AttrSpec[]): PublishDecision {
  const leaking = verdicts.filter((v) => v.leaked).map((v) => v.item);
  if (leaking.length) return { kind: 'stop-leak', leaking };
  // Inline cache travels inside the (already scanned) image; the others need a second, cached run.
  return { kind: 'publish', destination, exportCache: cacheTo.filter((c) => c.type !== 'inline') };
}

/** Inputs of the metadata file. */
export interface MetadataInput {
  tags: string[];
  configDigest: string;
  manifestDigest: string | undefined;
  keyFingerprint: string;
  layers: number;
  bytesScanned: number;
  imagesScanned: number;
  pushed: boolean;
  /** Base-image key findings let through by --allow-inherited-keys (0 or absent: none). */
  allowedInheritedKeys?: number;
}

/**
 * Pure: the `--metadata-file` JSON, with buildx's keys (`containerimage.digest` is the manifest
 * digest, present once it is known from a push or an OCI export; `containerimage.config.digest` is
 * the image ID) plus eic-build's own scan record.
 */
export function buildMetadata(input: MetadataInput): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  out['containerimage.config.digest'] = input.configDigest;
  if (input.manifestDigest) out['containerimage.digest'] = input.manifestDigest;
  if (input.tags.length) out['image.name'] = input.tags.join(',');
  out['eic-build.scan'] = {
    // Not 'clean' when keys were let through: 'eic-build scan' of this image reports them as a leak.
    verdict: input.allowedInheritedKeys ? 'allowed-inherited-keys' : 'clean',
    keyFingerprint: input.keyFingerprint,
    imagesScanned: input.imagesScanned,
    layers: input.layers,
    bytesScanned: input.bytesScanned,
    pushed: input.pushed,
    ...(input.allowedInheritedKeys ? { allowedInheritedKeys: input.allowedInheritedKeys } : {}),
  };
  return out;
}

/** Pure: which progress mode BuildKit gets. CI or no terminal: plain; a terminal: tty. */
export function effectiveProgress(mode: 'auto' | 'plain' | 'tty' | 'quiet' | 'json', env: NodeJS.ProcessEnv, isTty: boolean): 'plain' | 'tty' | 'quiet' {
  if (mode === 'plain' || mode === 'tty' || mode === 'quiet') return mode;
  if (mode === 'json') return 'plain';
  return env.CI || !isTty ? 'plain' : 'tty';
}

/** What a rendered project says about building one of its runtime stages alone. */
export interface SplitTargets {
  /** Stages of kind runtime. */
  runtimeStages: string[];
  /** Build args that make a runtime stage skip the builder (empty: the project has no such switch). */
  runtimeAloneBuildArgs: Record<string, string>;
}

/**
 * Pure: the build args a `--target` adds. A rendered runtime stage waits for the builder's stamp;
 * `--target RUNTIME` is how split pipelines build it alone, so the builder is switched off
 * (unless the user set that build arg). Without --target, or for other stages: nothing.
 */
export function targetBuildArgs(target: string | undefined, split: SplitTargets | undefined, userArgs: readonly { name: string }[]): { name: string; value: string }[] {
  if (!target || !split || !split.runtimeStages.includes(target.toLowerCase())) return [];
  return Object.entries(split.runtimeAloneBuildArgs)
    .filter(([name]) => !userArgs.some((arg) => arg.name === name))
    .map(([name, value]) => ({ name, value }));
}
