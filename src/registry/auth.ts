import { readFile } from 'node:fs/promises';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { EicBuildError } from '../errors.js';
import { registerSecret } from '../redact.js';
import { DOCKER_HUB } from './reference.js';

/** Username and password (or token) for a registry. Never printed: both are registered as secrets. */
export interface Credentials {
  username: string;
  password: string;
}

/** A parsed `WWW-Authenticate` challenge. */
export type AuthChallenge = { kind: 'bearer'; realm: string; service?: string; scope?: string } | { kind: 'basic'; realm?: string };

/** Parse the first Bearer or Basic challenge of a `WWW-Authenticate` header; undefined if neither. */
export function parseWwwAuthenticate(header: string | null | undefined): AuthChallenge | undefined {
  if (!header) return undefined;
  const match = /^\s*(\w+)\s*(.*)$/s.exec(header);
  if (!match) return undefined;
  const scheme = match[1]!.toLowerCase();
  const params: Record<string, string> = {};
  const paramPattern = /([\w-]+)\s*=\s*(?:"((?:[^"\\]|\\.)*)"|([^\s,]*))\s*,?\s*/g;
  for (const param of match[2]!.matchAll(paramPattern)) {
    params[param[1]!.toLowerCase()] = param[2] !== undefined ? param[2].replace(/\\(.)/g, '$1') : (param[3] ?? '');
  }
  if (scheme === 'bearer' && params.realm) {
    const challenge: AuthChallenge = { kind: 'bearer', realm: params.realm };
    if (params.service !== undefined) challenge.service = params.service;
    if (params.scope !== undefined) challenge.scope = params.scope;
    return challenge;
  }
  if (scheme === 'basic') return params.realm !== undefined ? { kind: 'basic', realm: params.realm } : { kind: 'basic' };
  return undefined;
}

/** Spack's `access_pair` from mirrors.yaml: names of environment variables read at run time. */
export interface AccessPair {
  id?: string;
  idVariable?: string;
  secretVariable: string;
}

/**
 * Credentials from a Spack `access_pair`, with Spack's own error text when a variable is unset
 * (`invalid push configuration for mirror NAME: id_variable VAR not set in environment`).
 */
export function credentialsFromAccessPair(pair: AccessPair, env: NodeJS.ProcessEnv, mirrorName = 'mirror'): Credentials {
  if ((pair.id === undefined) === (pair.idVariable === undefined)) {
    throw new EicBuildError('config', `access_pair of mirror ${mirrorName} must have exactly one of id and id_variable`, {
      hint: 'write access_pair: {id_variable: USER_VAR, secret_variable: TOKEN_VAR} in mirrors.yaml',
    });
  }
  let username = pair.id;
  if (pair.idVariable !== undefined) {
    username = env[pair.idVariable];
    if (!username) {
      throw new EicBuildError('config', `invalid push configuration for mirror ${mirrorName}: id_variable ${pair.idVariable} not set in environment`, {
        hint: `export ${pair.idVariable} (the registry user name) before running eic-build`,
      });
    }
  }
  const password = env[pair.secretVariable];
  if (!password) {
    throw new EicBuildError('config', `invalid push configuration for mirror ${mirrorName}: secret_variable ${pair.secretVariable} not set in environment`, {
      hint: `export ${pair.secretVariable} (the registry password or token) before running eic-build`,
    });
  }
  registerSecret(password);
  return { username: username!, password };
}

/** Keys under which a docker config may hold a registry's credentials. */
function dockerConfigKeys(registry: string): string[] {
  if (registry === DOCKER_HUB) return ['https://index.docker.io/v1/', 'index.docker.io', 'docker.io', 'https://index.docker.io/v1'];
  return [registry, `https://${registry}`, `http://${registry}`, `https://${registry}/v1/`, `https://${registry}/v2/`];
}

/** Credentials for `registry` from a docker config.json text (`auths.<host>.auth`, base64 `user:password`). */
export function parseDockerConfigCredentials(text: string, registry: string): Credentials | undefined {
  let config: { auths?: Record<string, { auth?: string; username?: string; password?: string }> };
  try {
    config = JSON.parse(text) as typeof config;
  } catch {
    throw new EicBuildError('config', 'the docker config file is not valid JSON', { hint: 'fix or remove ~/.docker/config.json (or $DOCKER_CONFIG/config.json)' });
  }
  const auths = config.auths ?? {};
  for (const key of dockerConfigKeys(registry)) {
    const entry = auths[key];
    if (!entry) continue;
    if (entry.auth) {
      registerSecret(entry.auth);
      const decoded = Buffer.from(entry.auth, 'base64').toString('utf8');
      const colon = decoded.indexOf(':');
      if (colon > 0) {
        const credentials = { username: decoded.slice(0, colon), password: decoded.slice(colon + 1) };
        registerSecret(credentials.password);
        return credentials;
      }
    }
    if (entry.username && entry.password) {
      registerSecret(entry.password);
      return { username: entry.username, password: entry.password };
    }
  }
  return undefined;
}

/** Read credentials for `registry` from `$DOCKER_CONFIG/config.json` or `~/.docker/config.json`, if any. */
export async function readDockerConfigCredentials(registry: string, env: NodeJS.ProcessEnv = process.env): Promise<Credentials | undefined> {
  const dir = env.DOCKER_CONFIG ?? join(env.HOME ?? homedir(), '.docker');
  let text: string;
  try {
    text = await readFile(join(dir, 'config.json'), 'utf8');
  } catch {
    return undefined;
  }
  return parseDockerConfigCredentials(text, registry);
}

/** `Authorization: Basic …` value; registered as a secret. */
export function basicAuthorization(credentials: Credentials): string {
  const value = Buffer.from(`${credentials.username}:${credentials.password}`, 'utf8').toString('base64');
  registerSecret(value);
  return `Basic ${value}`;
}

/**
 * Credentials for a registry: Spack's `access_pair` when the mirror has one (its variables must be
 * set), else the docker config, else none (anonymous). Docker credential helpers are not consulted.
 */
export async function resolveRegistryCredentials(options: {
  registry: string;
  accessPair?: AccessPair;
  mirrorName?: string;
  env?: NodeJS.ProcessEnv;
}): Promise<Credentials | undefined> {
  const env = options.env ?? process.env;
  if (options.accessPair) return credentialsFromAccessPair(options.accessPair, env, options.mirrorName);
  return readDockerConfigCredentials(options.registry, env);
}

/**
 * Credentials CI gives a job for its own registry: GitLab's `CI_REGISTRY_USER`/`CI_REGISTRY_PASSWORD`
 * when `CI_REGISTRY` is this registry, and `GITHUB_REGISTRY_USER`/`GITHUB_REGISTRY_TOKEN` when
 * `GITHUB_REGISTRY` (default ghcr.io) is. Undefined when neither pair applies or is set.
 */
export function credentialsFromCiVariables(registry: string, env: NodeJS.ProcessEnv): Credentials | undefined {
  const pairs: [string | undefined, string, string][] = [
    [env.CI_REGISTRY, 'CI_REGISTRY_USER', 'CI_REGISTRY_PASSWORD'],
    [env.GITHUB_REGISTRY || 'ghcr.io', 'GITHUB_REGISTRY_USER', 'GITHUB_REGISTRY_TOKEN'],
  ];
  for (const [host, userVariable, secretVariable] of pairs) {
    if (!host || host !== registry) continue;
    const username = env[userVariable];
    const password = env[secretVariable];
    if (!username || !password) continue;
    registerSecret(password);
    return { username, password };
  }
  return undefined;
}

/** Credentials to read images of `registry`: the CI variables for it (see credentialsFromCiVariables), else the docker config, else none. */
export async function resolveImageCredentials(registry: string, env: NodeJS.ProcessEnv = process.env): Promise<Credentials | undefined> {
  return credentialsFromCiVariables(registry, env) ?? (await readDockerConfigCredentials(registry, env));
}
