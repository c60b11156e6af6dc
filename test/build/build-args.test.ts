import test from 'ava';
import { EicBuildError } from '../../src/errors.js';
import { effectiveBuildArgs, refuseForeignFingerprint, refuseSecretsInBuildArgs } from '../../src/build/build-args.js';
import { generateKey } from '../../src/keys/generate-key.js';

const FPR = 'AB'.repeat(20);
const base = { rendered: {}, user: [], env: {}, split: [], fingerprintArg: 'SPACK_SIGNER_FINGERPRINT', fingerprint: FPR };

test("build args: rendered ones first (a --build-arg of the same name wins), then the user's, the --target ones, and the key's fingerprint last", (t) => {
  const args = effectiveBuildArgs({
    ...base,
    rendered: { SPACK_VERSION: '0.23', MIRROR: 'x', SPACK_SIGNER_FINGERPRINT: 'stale' },
    user: [
      { name: 'MIRROR', value: 'y' },
      { name: 'FROM_ENV', value: undefined },
      { name: 'UNSET', value: undefined },
    ],
    env: { FROM_ENV: 'from the environment' },
    split: [{ name: 'EIC_BUILD_BUILDER_STAGE', value: 'builder-skipped' }],
  });
  t.deepEqual(args, [
    { name: 'SPACK_VERSION', value: '0.23' },
    { name: 'MIRROR', value: 'y' },
    { name: 'FROM_ENV', value: 'from the environment' },
    { name: 'UNSET', value: '' },
    { name: 'EIC_BUILD_BUILDER_STAGE', value: 'builder-skipped' },
    { name: 'SPACK_SIGNER_FINGERPRINT', value: FPR },
  ]);
});

test('the build-arg guard: private key lines and credentials are refused, the public key and ordinary values pass', async (t) => {
  const key = await generateKey({ algorithm: 'rsa4096' });
  const line = key.armoredSecretKey.split('\n').find((l) => l.length >= 40 && !key.armoredPublicKey.includes(l))!;
  const refused = (args: { name: string; value: string | undefined }[], env: NodeJS.ProcessEnv = {}) =>
    t.throws(() => refuseSecretsInBuildArgs(args, key, env), { instanceOf: EicBuildError })?.message;
  t.regex(refused([{ name: 'K', value: `x${line}y` }]) ?? '', /--build-arg K carries private key material/);
  t.regex(refused([{ name: 'K', value: '-----BEGIN OPENSSH PRIVATE KEY-----' }]) ?? '', /private key material/);
  t.regex(refused([{ name: 'GITHUB_REGISTRY_TOKEN', value: 'anything' }]) ?? '', /carries a secret/);
  t.regex(refused([{ name: 'T', value: undefined }], { T: 'tok-ghp-123456', GITHUB_REGISTRY_TOKEN: 'tok-ghp-123456' }) ?? '', /--build-arg T carries a secret/);
  t.notThrows(() =>
    refuseSecretsInBuildArgs(
      [
        { name: 'PUB', value: key.armoredPublicKey },
        { name: 'V', value: '1.2.3' },
      ],
      key,
      { GITHUB_REGISTRY_TOKEN: 'short' },
    ),
  );
});

test("the fingerprint build-arg must be the signing key's (case and spaces aside)", (t) => {
  const layout = { fingerprintArg: 'SPACK_SIGNER_FINGERPRINT' };
  t.notThrows(() => refuseForeignFingerprint([{ name: 'SPACK_SIGNER_FINGERPRINT', value: `${FPR.slice(0, 20).toLowerCase()} ${FPR.slice(20)}` }], { fingerprint: FPR }, layout));
  t.notThrows(() => refuseForeignFingerprint([], { fingerprint: FPR }, layout));
  const error = t.throws(() => refuseForeignFingerprint([{ name: 'SPACK_SIGNER_FINGERPRINT', value: 'CD'.repeat(20) }], { fingerprint: FPR }, layout), {
    instanceOf: EicBuildError,
  });
  t.is(error?.code, 'usage');
  t.regex(error?.hint ?? '', /drop --build-arg SPACK_SIGNER_FINGERPRINT/);
});
