import { execa } from 'execa';
import { access, realpath } from 'node:fs/promises';
import { constants } from 'node:fs';
import { delimiter, join } from 'node:path';

/** BuildKit driver behind a buildx builder. */
export type BuildxDriver = 'docker' | 'docker-container' | 'kubernetes' | 'remote' | 'unknown';

/** A docker client that can run a BuildKit build, and how. */
export type BuildClient =
  | {
      kind: 'buildx';
      docker: string;
      buildxVersion: string;
      builder: string;
      driver: BuildxDriver;
      buildkitVersion: string | undefined;
      platforms: string[];
      status: string | undefined;
    }
  | {
      /** `DOCKER_BUILDKIT=1 docker build` of a client that has BuildKit built in (docker < 23, e.g. Debian's 20.10). */
      kind: 'builtin';
      docker: string;
      clientVersion: string;
      serverVersion: string | undefined;
    };

/** What was found about one docker binary. */
export interface CandidateReport {
  docker: string;
  clientVersion: string | undefined;
  serverVersion: string | undefined;
  buildxVersion: string | undefined;
  usable: boolean;
  /** Why it is (not) usable, for `eic-build doctor`. */
  reason: string;
}

/** The outcome of probing every docker client on this machine. */
export interface ProbeResult {
  candidates: CandidateReport[];
  client: BuildClient | undefined;
}

/** `docker buildx version` → semver-ish version (`github.com/docker/buildx v0.11.2 9872040`, Debian `0.10.4+ds1`). */
export function parseBuildxVersion(output: string): string | undefined {
  return /buildx\S*\s+v?(\d+\.\d+(?:\.\d+)?)/.exec(output)?.[1];
}

/** Parsed `docker buildx inspect` (the builder and its first node). */
export interface BuildxInspect {
  name: string;
  driver: BuildxDriver;
  status: string | undefined;
  buildkitVersion: string | undefined;
  platforms: string[];
}

/** Parse `docker buildx inspect [NAME]` output (buildx 0.5 … 0.2x layouts). */
export function parseBuildxInspect(output: string): BuildxInspect | undefined {
  const field = (re: RegExp) => re.exec(output)?.[1]?.trim();
  const name = field(/^Name:\s+(.+)$/m);
  const driverText = field(/^Driver:\s+(.+)$/m);
  if (!name || !driverText) return undefined;
  const driver: BuildxDriver = (['docker', 'docker-container', 'kubernetes', 'remote'] as const).find((d) => d === driverText) ?? 'unknown';
  const platforms = (field(/^Platforms:\s+(.+)$/m) ?? '')
    .split(',')
    .map((p) => p.trim().replace(/\*$/, ''))
    .filter(Boolean);
  const buildkit = field(/^(?:Buildkit|BuildKit version|BuildKit):\s+(.+)$/m);
  return {
    name,
    driver,
    status: field(/^Status:\s+(.+)$/m),
    buildkitVersion: buildkit ? buildkit.replace(/^v/, '') : undefined,
    platforms,
  };
}

/** Parse `docker version --format '{{json .}}'` (server part may be null when no engine answers). */
export function parseDockerVersionJson(output: string): { client: string | undefined; server: string | undefined } {
  try {
    const json = JSON.parse(output) as { Client?: { Version?: string }; Server?: { Version?: string } | null };
    return { client: json.Client?.Version, server: json.Server?.Version ?? undefined };
  } catch {
    return { client: undefined, server: undefined };
  }
}

/** Compare dotted versions numerically (`20.10.24+dfsg1` vs `23`). */
export function versionAtLeast(version: string | undefined, minimum: string): boolean {
  if (!version) return false;
  const a = version.split(/[.+~-]/).map((p) => Number.parseInt(p, 10));
  const b = minimum.split('.').map((p) => Number.parseInt(p, 10));
  for (let i = 0; i < b.length; i++) {
    const x = Number.isNaN(a[i]) || a[i] === undefined ? 0 : a[i]!;
    const y = b[i]!;
    if (x !== y) return x > y;
  }
  return true;
}

/**
 * A client without buildx can still build with BuildKit when it is older than 23.0: from 23.0 on,
 * `DOCKER_BUILDKIT=1 docker build` refuses with "BuildKit is enabled but the buildx component is
 * missing or broken" (docker/cli#3314). 18.09 introduced the built-in BuildKit builder.
 */
export function hasBuiltinBuildKit(clientVersion: string | undefined): boolean {
  return versionAtLeast(clientVersion, '18.09') && !versionAtLeast(clientVersion, '23.0');
}

/** Every `docker` on PATH plus the usual install locations, deduplicated by real path, PATH order first. */
export async function findDockerClients(env: NodeJS.ProcessEnv = process.env): Promise<string[]> {
  const candidates: string[] = [];
  for (const dir of (env.PATH ?? '').split(delimiter).filter(Boolean)) candidates.push(join(dir, 'docker'));
  candidates.push('/usr/local/bin/docker', '/usr/bin/docker');
  const seen = new Set<string>();
  const out: string[] = [];
  for (const candidate of candidates) {
    try {
      await access(candidate, constants.X_OK);
      const real = await realpath(candidate);
      if (seen.has(real)) continue;
      seen.add(real);
      out.push(candidate);
    } catch {
      // not there
    }
  }
  return out;
}

async function run(docker: string, args: string[], env: NodeJS.ProcessEnv): Promise<{ ok: boolean; out: string }> {
  try {
    const result = await execa(docker, args, { env, extendEnv: false, reject: false, timeout: 20_000, all: true });
    return { ok: result.exitCode === 0, out: String(result.all ?? '') };
  } catch (error) {
    return { ok: false, out: error instanceof Error ? error.message : String(error) };
  }
}

/** Probe one docker binary: version, buildx, builder. */
export async function probeDockerClient(
  docker: string,
  options: { builder?: string; env?: NodeJS.ProcessEnv } = {},
): Promise<{ report: CandidateReport; client: BuildClient | undefined }> {
  const env = options.env ?? process.env;
  const version = await run(docker, ['version', '--format', '{{json .}}'], env);
  const { client: clientVersion, server: serverVersion } = parseDockerVersionJson(version.out.split('\n').find((l) => l.startsWith('{')) ?? '');
  const report: CandidateReport = { docker, clientVersion, serverVersion, buildxVersion: undefined, usable: false, reason: '' };
  const buildx = await run(docker, ['buildx', 'version'], env);
  const buildxVersion = buildx.ok ? parseBuildxVersion(buildx.out) : undefined;
  report.buildxVersion = buildxVersion;
  if (buildxVersion) {
    const inspect = await run(docker, ['buildx', 'inspect', ...(options.builder ? [options.builder] : [])], env);
    const parsed = inspect.ok ? parseBuildxInspect(inspect.out) : undefined;
    if (parsed) {
      report.usable = true;
      report.reason = `buildx ${buildxVersion}, builder '${parsed.name}' (driver ${parsed.driver})`;
      return {
        report,
        client: {
          kind: 'buildx',
          docker,
          buildxVersion,
          builder: parsed.name,
          driver: parsed.driver,
          buildkitVersion: parsed.buildkitVersion,
          platforms: parsed.platforms,
          status: parsed.status,
        },
      };
    }
    report.reason = `buildx ${buildxVersion} found but 'docker buildx inspect${options.builder ? ` ${options.builder}` : ''}' failed: ${inspect.out.trim().split('\n')[0] ?? ''}`;
    return { report, client: undefined };
  }
  if (options.builder) {
    report.reason = `no buildx plugin, so --builder ${options.builder} cannot be used`;
    return { report, client: undefined };
  }
  if (!clientVersion) {
    report.reason = `'${docker} version' failed: ${version.out.trim().split('\n')[0] ?? ''}`;
    return { report, client: undefined };
  }
  if (!serverVersion) {
    report.reason = `client ${clientVersion} found, but no Docker engine answered`;
    return { report, client: undefined };
  }
  if (!hasBuiltinBuildKit(clientVersion)) {
    report.reason = `client ${clientVersion} has no buildx plugin, and clients from 23.0 on refuse BuildKit builds without it`;
    return { report, client: undefined };
  }
  report.usable = true;
  report.reason = `client ${clientVersion} with built-in BuildKit (DOCKER_BUILDKIT=1 docker build)`;
  return { report, client: { kind: 'builtin', docker, clientVersion, serverVersion } };
}

/**
 * Probe every docker client and choose one: a buildx client first (any driver), else a client whose
 * `docker build` has BuildKit built in. PATH order is not trusted: the first `docker` may be a new
 * client without buildx that cannot build with BuildKit at all.
 */
export async function probeBuildClient(options: { docker?: string; builder?: string; env?: NodeJS.ProcessEnv } = {}): Promise<ProbeResult> {
  const env = options.env ?? process.env;
  const forced = options.docker ?? env.EIC_BUILD_DOCKER;
  const dockers = forced ? [forced] : await findDockerClients(env);
  const probed = await Promise.all(dockers.map((docker) => probeDockerClient(docker, { builder: options.builder, env })));
  const candidates = probed.map((p) => p.report);
  const client = probed.find((p) => p.client?.kind === 'buildx')?.client ?? probed.find((p) => p.client)?.client;
  return { candidates, client };
}
