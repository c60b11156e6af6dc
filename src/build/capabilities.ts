import { EicBuildError } from '../errors.js';
import type { BuildOptions } from './build-options.js';
import { attr } from './flags.js';
import { versionAtLeast, type BuildClient } from './probe.js';

/** What a build client can do; the capability matrix in docs/build.md is this function. */
export interface Capabilities {
  /** `--secret id=X,env=VAR`: the secret comes from the client's environment, never a file. */
  secretEnv: boolean;
  /** `--build-context NAME=…`. */
  namedContexts: boolean;
  /** More than one `--platform` in one build. */
  multiPlatform: boolean;
  /** `--output type=…` values accepted (besides loading into the engine). */
  outputTypes: string[];
  /** `--cache-to type=…` values accepted. */
  cacheExportTypes: string[];
  /** `--provenance` attestations. */
  provenance: boolean;
  /** The image lands in the local engine (scan via docker-daemon:, push via docker push). */
  buildsIntoEngine: boolean;
}

/** BuildKit release whose Dockerfile frontend reads named contexts (`--build-context`). */
const NAMED_CONTEXTS_BUILDKIT = '0.10';

/**
 * Older buildx print the engine's version for the docker driver ("Buildkit: 20.10.24"): an engine
 * from 23.0 on vendors BuildKit 0.10 or later.
 */
function buildkitReadsNamedContexts(version: string | undefined): boolean {
  if (version === undefined) return true;
  const major = Number.parseInt(version, 10);
  return major >= 17 ? versionAtLeast(version, '23.0') : versionAtLeast(version, NAMED_CONTEXTS_BUILDKIT);
}

/** The capability matrix: what each kind of client/driver supports. */
export function capabilitiesOf(client: BuildClient): Capabilities {
  if (client.kind === 'builtin') {
    return {
      // env= secrets arrived with BuildKit 0.8, vendored in docker 20.10.
      secretEnv: versionAtLeast(client.clientVersion, '20.10'),
      namedContexts: false,
      multiPlatform: false,
      outputTypes: ['local', 'tar'],
      cacheExportTypes: ['inline'],
      provenance: false,
      buildsIntoEngine: true,
    };
  }
  const v = client.buildxVersion;
  const container = client.driver !== 'docker';
  return {
    secretEnv: versionAtLeast(v, '0.5'),
    // Also the builder's BuildKit: its Dockerfile frontend needs the contexts capability (BuildKit 0.10).
    // The docker driver uses the engine's own BuildKit (0.8 in Docker 20.10), which refuses with
    // "unsupported frontend capability moby.buildkit.frontend.contexts". Unknown version: not refused here.
    namedContexts: versionAtLeast(v, '0.8') && buildkitReadsNamedContexts(client.buildkitVersion),
    multiPlatform: container,
    outputTypes: container ? ['local', 'tar', 'oci', 'docker', 'image', 'registry'] : ['local', 'tar', 'docker', 'image'],
    cacheExportTypes: container ? ['inline', 'registry', 'local', 'gha', 's3', 'azblob'] : ['inline'],
    // The docker driver with the classic image store cannot store attestations.
    provenance: versionAtLeast(v, '0.10') && container,
    buildsIntoEngine: !container,
  };
}

/** One thing that was asked for but the client cannot do. */
export interface MissingCapability {
  feature: string;
  asked: string;
  howToGet: string;
}

const GET_BUILDX =
  "install the buildx plugin (Debian/Ubuntu: 'apt-get install docker-buildx'; Docker's repository: 'docker-buildx-plugin') and create a BuildKit builder: 'docker buildx create --use --driver docker-container' (or kubernetes/remote for a BuildKit cluster)";

/** Pure: which requested features the chosen client lacks (empty: it can do everything asked). */
export function missingCapabilities(options: BuildOptions, client: BuildClient, caps: Capabilities = capabilitiesOf(client)): MissingCapability[] {
  const missing: MissingCapability[] = [];
  const who = client.kind === 'builtin' ? `docker ${client.clientVersion} (built-in BuildKit)` : `buildx driver ${client.driver}`;
  if (options.buildContexts.length && !caps.namedContexts) {
    const howToGet =
      client.kind === 'builtin'
        ? GET_BUILDX
        : !versionAtLeast(client.buildxVersion, '0.8')
          ? 'upgrade buildx to 0.8 or later'
          : `the builder's BuildKit ${client.buildkitVersion} is older than ${NAMED_CONTEXTS_BUILDKIT}${client.driver === 'docker' ? " (the docker driver uses the Docker engine's own BuildKit)" : ''}: use a builder with BuildKit ${NAMED_CONTEXTS_BUILDKIT} or later ('docker buildx create --use --driver docker-container', or Docker Engine 23+)`;
    missing.push({ feature: 'named build contexts', asked: '--build-context', howToGet });
  }
  if (options.platforms.length > 1 && !caps.multiPlatform) {
    missing.push({
      feature: `multi-platform builds (${who} builds one platform at a time)`,
      asked: `--platform ${options.platforms.join(',')}`,
      howToGet: client.kind === 'builtin' ? GET_BUILDX : "use a docker-container builder: 'docker buildx create --use --driver docker-container'",
    });
  }
  if (options.destination.kind === 'output' && !caps.outputTypes.includes(options.destination.spec.type)) {
    missing.push({
      feature: `--output type=${options.destination.spec.type}`,
      asked: '--output',
      howToGet: client.kind === 'builtin' ? GET_BUILDX : "use a docker-container builder: 'docker buildx create --use --driver docker-container'",
    });
  }
  if (options.destination.kind === 'push' && options.platforms.length > 1 && caps.buildsIntoEngine) {
    missing.push({ feature: 'pushing a multi-platform image from the engine', asked: '--push with several --platform', howToGet: GET_BUILDX });
  }
  for (const spec of options.cacheTo) {
    if (!caps.cacheExportTypes.includes(spec.type)) {
      missing.push({
        feature: `cache export type=${spec.type}`,
        asked: `--cache-to type=${spec.type}`,
        howToGet: client.kind === 'builtin' ? GET_BUILDX : "use a docker-container builder: 'docker buildx create --use --driver docker-container'",
      });
    } else if (spec.type === 'inline' && attr(spec, 'mode') === 'max') {
      missing.push({
        feature: 'mode=max for inline cache',
        asked: '--cache-to type=inline,mode=max',
        howToGet: 'use type=registry,ref=REF,mode=max with a docker-container builder',
      });
    }
  }
  if (options.provenance?.kind === 'min' && !caps.provenance) {
    missing.push({
      feature: 'provenance attestations',
      asked: '--provenance mode=min',
      howToGet:
        client.kind === 'builtin'
          ? `${GET_BUILDX}; buildx 0.10 or later`
          : "buildx 0.10 or later with a docker-container builder (the docker driver's classic image store cannot hold attestations), or pass --provenance false",
    });
  }
  return missing;
}

/** Throw one error that lists every missing feature and how to get it. */
export function assertCapabilities(options: BuildOptions, client: BuildClient): void {
  const missing = missingCapabilities(options, client);
  if (!missing.length) return;
  const who =
    client.kind === 'builtin'
      ? `${client.docker} ${client.clientVersion} (built-in BuildKit, no buildx)`
      : `${client.docker} buildx ${client.buildxVersion}, builder '${client.builder}' (driver ${client.driver})`;
  throw new EicBuildError('capability-missing', `the build client ${who} cannot do what was asked: ${missing.map((m) => `${m.feature} (${m.asked})`).join('; ')}`, {
    hint: [...new Set(missing.map((m) => m.howToGet))].join('; or ') + ". Run 'eic-build doctor' to see every client found.",
  });
}

/** The provenance setting to pass: explicit min or off, never the client's default. */
export function effectiveProvenance(options: BuildOptions, caps: Capabilities): 'min' | 'off' {
  if (options.provenance) return options.provenance.kind;
  return caps.provenance ? 'min' : 'off';
}
