import test from 'ava';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { memoryIo } from '../../src/cli-io.js';
import { EicBuildError } from '../../src/errors.js';
import { parseBuildOptions } from '../../src/commands/build.js';
import { runBuildPipeline, type PipelineDeps } from '../../src/build/pipeline.js';
import type { ProbeResult } from '../../src/build/probe.js';
import { generateKey } from '../../src/keys/generate-key.js';
import { deriveKeyIdentity } from '../../src/pgp/key-identity.js';

// No Docker needed: the guard runs right after the key is resolved, before anything is built. The
// probe result is handed in (a client that is never started), and the key is a fresh one.
const probe: ProbeResult = { client: { kind: 'builtin', docker: '/nonexistent/docker', clientVersion: '20.10.24', serverVersion: '20.10.24' }, candidates: [] };

async function setup(t: import('ava').ExecutionContext, algorithm: 'ed25519' | 'rsa4096' = 'ed25519') {
  const dir = await mkdtemp(join(tmpdir(), 'eic-build-argguard-'));
  t.teardown(() => rm(dir, { recursive: true, force: true }));
  const key = await generateKey({ algorithm });
  const deps: PipelineDeps = {
    resolveKey: async () => ({
      source: 'ephemeral',
      armoredSecretKey: key.armoredSecretKey,
      armoredPublicKey: key.armoredPublicKey,
      fingerprint: key.fingerprint,
      identity: deriveKeyIdentity(key.armoredSecretKey),
    }),
    scan: async () => {
      throw new Error('must not scan');
    },
    formatScan: () => '',
  };
  return { dir, key, deps };
}

async function refused(t: import('ava').ExecutionContext, argv: string[], env: NodeJS.ProcessEnv, deps: PipelineDeps, message: RegExp) {
  const error = await t.throwsAsync(runBuildPipeline(parseBuildOptions(argv), memoryIo(env), deps, probe), { instanceOf: EicBuildError });
  t.is(error?.code, 'usage');
  t.regex(error?.message ?? '', message);
  t.regex(error?.hint ?? '', /Remove this build arg/);
}

test('a build arg carrying a line of the signing key is refused before anything is built', async (t) => {
  const { dir, key, deps } = await setup(t);
  const line = key.armoredSecretKey.split('\n').find((l) => l.length >= 40)!;
  await refused(t, [dir, '--build-arg', `K=${line}`], {}, deps, /--build-arg K carries private key material/);
});

test('a build arg named after a credential variable, or carrying its value, is refused', async (t) => {
  const { dir, deps } = await setup(t);
  const env = {
    CI_REGISTRY_PASSWORD: 'registry-token-123456',
    SPACK_SIGNING_KEY_PASSPHRASE: 'correct horse battery',
    SPACK_SIGNING_KEY: 'LS0tLS1CRUdJTiBQR1AgUFJJVkFURSBLRVkgQkxPQ0stLS0tLQ==',
  };
  await refused(t, [dir, '--build-arg', 'CI_REGISTRY_PASSWORD'], env, deps, /--build-arg CI_REGISTRY_PASSWORD carries a secret/);
  await refused(t, [dir, '--build-arg', 'SPACK_SIGNING_KEY'], env, deps, /--build-arg SPACK_SIGNING_KEY carries a secret/);
  await refused(t, [dir, '--build-arg', 'TOKEN=registry-token-123456'], env, deps, /--build-arg TOKEN carries a secret/);
  await refused(t, [dir, '--build-arg', 'PASS=correct horse battery'], env, deps, /--build-arg PASS carries a secret/);
});

test('the public key as a build arg is not mistaken for private key material (an RSA modulus is in both armors)', async (t) => {
  const { dir, key, deps } = await setup(t, 'rsa4096');
  // Past the guard, this context has nothing to build: that error, not the build-arg one, proves the guard let it through.
  const error = await t.throwsAsync(runBuildPipeline(parseBuildOptions([dir, '--build-arg', `PUB=${key.armoredPublicKey}`]), memoryIo({}), deps, probe), {
    instanceOf: EicBuildError,
  });
  t.regex(error?.message ?? '', /no Dockerfile to build/);
});

test('a --secret src= file that does not exist is refused before anything is built, naming the flag and the path', async (t) => {
  const { dir, deps } = await setup(t);
  await writeFile(join(dir, 'Dockerfile'), 'FROM scratch\n');
  const error = await t.throwsAsync(runBuildPipeline(parseBuildOptions([dir, '--secret', 'id=token,src=missing-token.txt']), memoryIo({}), deps, probe), {
    instanceOf: EicBuildError,
  });
  t.is(error?.code, 'input-not-found');
  t.regex(error?.message ?? '', /--secret id=token,src=missing-token\.txt: .*missing-token\.txt is not a file/);
});
