import { EicBuildError } from '../errors.js';
import { PASSPHRASE_VARIABLE, SIGNING_KEY_VARIABLE } from '../keys/key-checks.js';
import { EIC_REGISTRY_SECRETS, type SigningLayout } from '../render/layout.js';
import type { BuildArgSpec } from './flags.js';
import type { PipelineKey } from './run.js';

/**
 * Pure: the build args of a build. They land in argv and in the image history, so the guard refuses
 * any that carries a secret, and the fingerprint arg is always the signing key's.
 */

// Variables whose values are secrets that eic-build hands to BuildKit as secrets by itself.
const SECRET_VARIABLES: readonly string[] = [SIGNING_KEY_VARIABLE, PASSPHRASE_VARIABLE, ...EIC_REGISTRY_SECRETS];
const SECRET_VALUE_VARIABLES: readonly string[] = [SIGNING_KEY_VARIABLE, PASSPHRASE_VARIABLE, 'CI_REGISTRY_PASSWORD', 'GITHUB_REGISTRY_TOKEN'];

/** Refuse a build arg that carries the key, its passphrase or a registry credential. */
export function refuseSecretsInBuildArgs(buildArgs: readonly BuildArgSpec[], key: Pick<PipelineKey, 'armoredSecretKey' | 'armoredPublicKey'>, env: NodeJS.ProcessEnv): void {
  // Not the lines the public armor shares (an RSA key's modulus): passing the public key is fine.
  const publicLines = new Set(key.armoredPublicKey.split(/\r?\n/).map((l) => l.trim()));
  const lines = key.armoredSecretKey
    .split(/\r?\n/)
    .map((l) => l.trim())
    .filter((l) => l.length >= 40 && !publicLines.has(l));
  const secretValues = SECRET_VALUE_VARIABLES.map((name) => env[name]?.trim()).filter((v): v is string => Boolean(v && v.length >= 6));
  for (const arg of buildArgs) {
    const value = arg.value ?? env[arg.name] ?? '';
    if (/PRIVATE KEY/.test(value) || lines.some((l) => value.includes(l))) {
      throw new EicBuildError('usage', `--build-arg ${arg.name} carries private key material`, {
        hint: 'build args are recorded in the image history; eic-build passes the signing key as a BuildKit secret by itself. Remove this build arg.',
      });
    }
    if (SECRET_VARIABLES.includes(arg.name) || secretValues.some((secret) => value.includes(secret))) {
      throw new EicBuildError('usage', `--build-arg ${arg.name} carries a secret (a signing key passphrase or registry credential)`, {
        hint: `build args are recorded in the image history and the docker command line; eic-build passes ${EIC_REGISTRY_SECRETS.join(', ')} as BuildKit secrets by itself (mount them with RUN --mount=type=secret,id=NAME), and other secrets with --secret id=ID,env=VAR. Remove this build arg.`,
      });
    }
  }
}

/**
 * The fingerprint build-arg is the signing key's: steps compare it with the public key file that
 * eic-build writes from the same key. Another value fails the build half-way; refuse it now.
 */
export function refuseForeignFingerprint(buildArgs: readonly BuildArgSpec[], key: Pick<PipelineKey, 'fingerprint'>, layout: Pick<SigningLayout, 'fingerprintArg'>): void {
  const given = buildArgs.find((arg) => arg.name === layout.fingerprintArg);
  if (!given || (given.value ?? '').toUpperCase().replace(/\s+/g, '') === key.fingerprint.toUpperCase()) return;
  throw new EicBuildError(
    'usage',
    `--build-arg ${layout.fingerprintArg}=${given.value ?? ''} does not match the signing key ${key.fingerprint}: the public key file eic-build writes would not match the fingerprint build-arg`,
    {
      hint: `drop --build-arg ${layout.fingerprintArg}: eic-build sets it from the signing key (--signing-key / SPACK_SIGNING_KEY); to sign with another key, pass that key instead.`,
    },
  );
}

/** What the build args of one build are made of. */
export interface BuildArgSources {
  /** The args the rendered project needs (a user's --build-arg of the same name wins). */
  rendered: Record<string, string>;
  /** `--build-arg` as given; a bare NAME takes its value from `env`. */
  user: readonly BuildArgSpec[];
  env: NodeJS.ProcessEnv;
  /** Added by `--target RUNTIME` (targetBuildArgs). */
  split: readonly { name: string; value: string }[];
  fingerprintArg: string;
  fingerprint: string;
}

/** Every build arg, in the order the client gets them; the fingerprint arg last, from the key. */
export function effectiveBuildArgs(sources: BuildArgSources): { name: string; value: string }[] {
  return [
    ...Object.entries(sources.rendered)
      .filter(([name]) => name !== sources.fingerprintArg && !sources.user.some((a) => a.name === name))
      .map(([name, value]) => ({ name, value })),
    ...sources.user.map((a) => ({ name: a.name, value: a.value ?? sources.env[a.name] ?? '' })),
    ...sources.split,
    // A new key changes this value, which invalidates every step that declares the ARG.
    { name: sources.fingerprintArg, value: sources.fingerprint },
  ];
}
