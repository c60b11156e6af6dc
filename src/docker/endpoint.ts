// One Docker engine for everything eic-build does: the docker CLI calls (build, tag, push) and the API
// calls through dockerode (daemon scan, base images) must reach the same engine. The CLI follows
// DOCKER_HOST, DOCKER_CONTEXT and the config's current context; dockerode alone reads only DOCKER_HOST.
// So the endpoint is asked of the docker client once and handed to dockerode.
import Docker from 'dockerode';
import { execa } from 'execa';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { EicBuildError } from '../errors.js';

/** Where the engine listens, as the docker CLI resolved it. */
export interface DockerEndpoint {
  /** `unix:///var/run/docker.sock`, `tcp://host:2376`, `ssh://user@host`, `npipe:////./pipe/docker_engine` */
  host: string;
  /** The docker context it came from ('default' when DOCKER_HOST or nothing chose it). */
  context: string;
  /** Directory holding ca.pem/cert.pem/key.pem for a TLS endpoint, if any. */
  tlsDir: string | undefined;
  skipTlsVerify: boolean;
}

export const DEFAULT_DOCKER_HOST = 'unix:///var/run/docker.sock';

/** dockerode constructor options for an endpoint. Pure but for reading the TLS files it names. */
export function dockerodeOptions(endpoint: DockerEndpoint): Docker.DockerOptions {
  const url = new URL(endpoint.host);
  switch (url.protocol) {
    case 'unix:':
      return { socketPath: url.pathname };
    case 'npipe:':
      return { socketPath: endpoint.host.slice('npipe://'.length).replace(/\//g, '\\') };
    case 'ssh:':
      return { protocol: 'ssh', host: url.hostname, port: url.port ? Number(url.port) : 22, ...(url.username ? { username: decodeURIComponent(url.username) } : {}) };
    case 'tcp:':
    case 'http:':
    case 'https:': {
      const tls = endpoint.tlsDir !== undefined || url.protocol === 'https:';
      const options: Docker.DockerOptions = { host: url.hostname, port: url.port ? Number(url.port) : tls ? 2376 : 2375, protocol: tls ? 'https' : 'http' };
      if (endpoint.tlsDir) {
        const read = (name: string) => readFileSync(join(endpoint.tlsDir!, name));
        Object.assign(options, { ca: read('ca.pem'), cert: read('cert.pem'), key: read('key.pem') });
      }
      return options;
    }
    default:
      throw new EicBuildError('docker-unavailable', `the Docker endpoint ${endpoint.host} (context '${endpoint.context}') uses a scheme eic-build cannot reach`, {
        hint: 'use a unix://, tcp:// or ssh:// endpoint (DOCKER_HOST or docker context use), then run eic-build doctor.',
      });
  }
}

/** The endpoint the docker CLI would use with `env` (DOCKER_HOST, DOCKER_CONTEXT, current context). */
export async function resolveDockerEndpoint(env: NodeJS.ProcessEnv = process.env, dockerClient = 'docker'): Promise<DockerEndpoint> {
  const result = await execa(dockerClient, ['context', 'inspect', '--format', '{{json .}}'], {
    env: env as Record<string, string>,
    extendEnv: false,
    reject: false,
    timeout: 20_000,
  }).catch((error: unknown) => ({ failed: true, exitCode: undefined, stdout: '', stderr: String(error) }));
  if (result.failed || !String(result.stdout).trim()) return endpointFromEnv(env);
  return parseContextInspect(String(result.stdout), env);
}

/** Without a docker client that knows contexts: DOCKER_HOST, else the default socket (as dockerode does). */
export function endpointFromEnv(env: NodeJS.ProcessEnv): DockerEndpoint {
  const host = env.DOCKER_HOST || DEFAULT_DOCKER_HOST;
  const tlsDir = env.DOCKER_TLS_VERIFY && env.DOCKER_CERT_PATH ? env.DOCKER_CERT_PATH : undefined;
  return { host, context: 'default', tlsDir, skipTlsVerify: false };
}

/** Pure: `docker context inspect --format '{{json .}}'` → the endpoint (DOCKER_TLS/CERT_PATH apply to DOCKER_HOST). */
export function parseContextInspect(output: string, env: NodeJS.ProcessEnv = {}): DockerEndpoint {
  let parsed: { Name?: string; Endpoints?: { docker?: { Host?: string; SkipTLSVerify?: boolean } }; TLSMaterial?: { docker?: string[] }; Storage?: { TLSPath?: string } };
  try {
    parsed = JSON.parse(output.trim().split('\n')[0]!) as typeof parsed;
  } catch {
    return endpointFromEnv(env);
  }
  const host = parsed.Endpoints?.docker?.Host;
  if (!host) return endpointFromEnv(env);
  const material = parsed.TLSMaterial?.docker ?? [];
  const tlsPath = parsed.Storage?.TLSPath;
  const tlsDir =
    material.length > 0 && tlsPath && !tlsPath.startsWith('<')
      ? join(tlsPath, 'docker')
      : env.DOCKER_HOST === host && env.DOCKER_TLS_VERIFY && env.DOCKER_CERT_PATH
        ? env.DOCKER_CERT_PATH
        : undefined;
  return { host, context: parsed.Name ?? 'default', tlsDir, skipTlsVerify: parsed.Endpoints?.docker?.SkipTLSVerify ?? false };
}

/** A dockerode client for exactly the engine the docker CLI reaches with `env`. */
export async function connectDocker(env: NodeJS.ProcessEnv = process.env, dockerClient = 'docker'): Promise<{ docker: Docker; endpoint: DockerEndpoint }> {
  const endpoint = await resolveDockerEndpoint(env, dockerClient);
  return { docker: new Docker(dockerodeOptions(endpoint)), endpoint };
}

/** Words for errors: which engine was tried. */
export function describeEndpoint(endpoint: DockerEndpoint): string {
  return endpoint.context === 'default' ? endpoint.host : `${endpoint.host} (docker context '${endpoint.context}')`;
}
