import { readFile, stat } from 'node:fs/promises';
import { resolve } from 'node:path';
import type { CliIo } from '../cli-io.js';
import { EicBuildError } from '../errors.js';
import { writeTempSecretFile, type TempSecretFile } from '../keys/temp-secret-file.js';
import { registerSecret } from '../redact.js';
import { EIC_REGISTRY_SECRETS, type SigningLayout } from '../render/layout.js';
import type { BuildOptions } from './build-options.js';
import type { SecretSpec } from './flags.js';
import { secretEnvName, type ResolvedSecret } from './plan.js';
import type { PipelineDeps, PipelineKey } from './run.js';

/**
 * The secrets of a build: the signing key (registered with the redactor the moment it is read), the
 * mirrors file, EIC's registry credentials and `--secret`s. Each reaches BuildKit by the client's
 * environment (`--secret id=X,env=VAR`) or, where the client cannot read env=, as a 0600 temp file
 * that is removed after the build (or by exit-cleanup if the process ends first). Never argv.
 */

/** Resolve the signing key and register it with the redactor before anything can print it. */
export async function resolveBuildKey(options: BuildOptions, io: CliIo, deps: PipelineDeps): Promise<PipelineKey> {
  const key = await deps.resolveKey({
    ...(options.signingKeyFile ? { signingKeyFile: options.signingKeyFile } : {}),
    ephemeral: options.ephemeralKey,
    local: !io.env.CI,
    strict: options.strict,
    env: io.env,
    warn: (m) => io.err(`${m}\n`),
  });
  registerSecret(key.armoredSecretKey);
  return key;
}

/** One secret the build gets: a value (env or temp file) or a file the user named. */
export type SecretNeed = { kind: 'value'; id: string; value: string } | { kind: 'file'; id: string; path: string; spec?: Extract<SecretSpec, { kind: 'file' }> };

/**
 * Pure: every secret of the build and where its value comes from, in the order the client gets them.
 * Refuses a `--secret` under the signing key's id and an env= variable that is not set.
 */
export function planSecrets(input: {
  userSecrets: readonly SecretSpec[];
  key: Pick<PipelineKey, 'armoredSecretKey'>;
  layout: Pick<SigningLayout, 'signingSecretId' | 'mirrorsSecretId'>;
  mirrorsFile: string | undefined;
  env: NodeJS.ProcessEnv;
}): SecretNeed[] {
  const { userSecrets, layout, env } = input;
  if (userSecrets.some((s) => s.id === layout.signingSecretId)) {
    throw new EicBuildError('usage', `--secret id=${layout.signingSecretId} is reserved: eic-build passes the signing key under that id itself`, {
      hint: 'use --signing-key FILE or SPACK_SIGNING_KEY instead.',
    });
  }
  const needs: SecretNeed[] = [{ kind: 'value', id: layout.signingSecretId, value: input.key.armoredSecretKey }];
  if (input.mirrorsFile) needs.push({ kind: 'file', id: layout.mirrorsSecretId, path: input.mirrorsFile });
  // EIC's registry credentials, when set, as env secrets (as EIC's CI passes them).
  for (const name of EIC_REGISTRY_SECRETS) {
    const value = env[name];
    if (value && !userSecrets.some((s) => s.id === name)) needs.push({ kind: 'value', id: name, value });
  }
  for (const spec of userSecrets) {
    if (spec.kind === 'file') needs.push({ kind: 'file', id: spec.id, path: resolve(spec.src), spec });
    else {
      const value = env[spec.env];
      if (value === undefined)
        throw new EicBuildError('usage', `--secret id=${spec.id},env=${spec.env}: ${spec.env} is not set`, { hint: `export ${spec.env} before running eic-build build.` });
      needs.push({ kind: 'value', id: spec.id, value });
    }
  }
  return needs;
}

/** The secrets as the build invocations get them, and the temp files to remove after the build. */
export interface ProvidedSecrets {
  secrets: ResolvedSecret[];
  /** Remove the temp secret files now (idempotent). */
  dispose(): Promise<void>;
}

/** A `--secret src=` file up to this size is registered with the redactor (larger ones are not text secrets). */
const MAX_REGISTERED_FILE_BYTES = 1 << 20;

/**
 * Hand each needed secret over: values by the client's environment when `byEnv`, else each as a
 * 0600 temp file. A `--secret src=` file is checked first, before any build step (and before any
 * temp file is written), rather than as a late BuildKit failure.
 */
export async function provideSecrets(needs: readonly SecretNeed[], byEnv: boolean): Promise<ProvidedSecrets> {
  for (const need of needs) {
    if (need.kind === 'value') registerSecret(need.value);
    else if (need.spec) {
      const info = await stat(need.path).catch(() => undefined);
      if (!info?.isFile()) {
        throw new EicBuildError('input-not-found', `--secret id=${need.spec.id},src=${need.spec.src}: ${need.path} is not a file`, {
          hint: 'check the path, or pass the secret from the environment with --secret id=ID,env=VAR.',
        });
      }
      // A step that prints the mounted file must not show it in the log: its text is a secret too.
      if (info.size <= MAX_REGISTERED_FILE_BYTES) registerSecret(await readFile(need.path, 'utf8'));
    }
  }
  const files: TempSecretFile[] = [];
  const dispose = async () => {
    for (const file of files) await file.dispose();
  };
  const secrets: ResolvedSecret[] = [];
  try {
    for (const need of needs) {
      if (need.kind === 'file') secrets.push({ kind: 'file', id: need.id, path: need.path });
      else if (byEnv) secrets.push({ kind: 'env', id: need.id, envName: secretEnvName(need.id), value: need.value });
      else {
        const file = await writeTempSecretFile(need.value, need.id);
        files.push(file);
        secrets.push({ kind: 'file', id: need.id, path: file.path });
      }
    }
  } catch (error) {
    await dispose();
    throw error;
  }
  return { secrets, dispose };
}

/** Pure: env= where the client supports it; EIC_BUILD_SECRET_TRANSPORT=file forces temp files (debugging, tests). */
export function secretsByEnv(secretEnv: boolean, env: NodeJS.ProcessEnv): boolean {
  return secretEnv && env.EIC_BUILD_SECRET_TRANSPORT !== 'file';
}
