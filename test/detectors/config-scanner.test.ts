import test from 'ava';
import * as openpgp from 'openpgp';
import { scanConfigValue } from '../../src/detectors/index.js';
import { deriveKeyIdentity, type KeyIdentity } from '../../src/pgp/index.js';

let armored: string;
let binary: Uint8Array;
let identity: KeyIdentity;

test.before(async () => {
  const key = await openpgp.generateKey({ type: 'ecc', curve: 'curve25519Legacy', userIDs: [{ name: 'ci', email: 'ci@example.invalid' }], format: 'object' });
  armored = key.privateKey.armor();
  binary = key.privateKey.write();
  identity = deriveKeyIdentity(armored);
});

function bodyLines(): string[] {
  return armored.split('\n').filter((line) => line.length >= 16 && !line.startsWith('-----'));
}

function assertRedacted(t: import('ava').ExecutionContext, text: string): void {
  for (const line of bodyLines()) for (let i = 0; i + 16 <= line.length; i += 8) t.false(text.includes(line.slice(i, i + 16)));
}

const cases: Array<{ name: string; value: () => string; kind: RegExp }> = [
  { name: 'Env entry with the armored key', value: () => `SPACK_SIGNING_KEY=${armored}`, kind: /^armored$/ },
  { name: 'Env entry with base64 of the armored key', value: () => `SPACK_SIGNING_KEY=${Buffer.from(armored).toString('base64')}`, kind: /^base64-armored$/ },
  { name: 'Env entry with base64 of the binary key', value: () => `KEY_B64=${Buffer.from(binary).toString('base64')}`, kind: /^base64-secret-(sub)?key-packet$/ },
  { name: 'label value that is only base64', value: () => Buffer.from(binary).toString('base64'), kind: /^base64-secret-(sub)?key-packet$/ },
  {
    name: 'history created_by with echo ... | base64 -d',
    value: () => `/bin/sh -c echo ${Buffer.from(armored).toString('base64')} | base64 -d > /tmp/k && gpg --import /tmp/k`,
    kind: /^base64-armored$/,
  },
  {
    name: 'history created_by with a binary key piped through base64',
    value: () => `RUN |1 KEY=${Buffer.from(binary).toString('base64')} /bin/sh -c echo "$KEY" | base64 -d | gpg --import`,
    kind: /^base64-secret-(sub)?key-packet$/,
  },
  { name: 'JSON label with an escaped armored key', value: () => JSON.stringify({ key: armored }), kind: /^json-escaped-armored$/ },
];

for (const testCase of cases) {
  test(`config: ${testCase.name}`, (t) => {
    const value = testCase.value();
    const result = scanConfigValue(value, [identity]);
    t.true(result.findings.length >= 1, JSON.stringify(result));
    for (const finding of result.findings) {
      t.regex(finding.kind, testCase.kind);
      t.true(finding.matchesPublicKey);
      t.true(finding.offset >= 0 && finding.offset < value.length);
      assertRedacted(t, `${finding.excerpt}\n${finding.message}`);
    }
    const fingerprints = new Set(result.findings.flatMap((finding) => finding.fingerprints));
    for (const fingerprint of identity.fingerprints) t.true(fingerprints.has(fingerprint));
  });
}

test('config: ordinary values give nothing', (t) => {
  for (const value of [
    'PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin',
    '/bin/sh -c apt-get update && apt-get install -y gnupg && rm -rf /var/lib/apt/lists/*',
    `org.opencontainers.image.revision=${'a'.repeat(40)}`,
    `SHA=${Buffer.from('x'.repeat(300)).toString('base64')}`,
    'RUN /bin/sh -c echo "-----BEGIN PGP PRIVATE KEY BLOCK-----" > /dev/null',
    '',
  ]) {
    t.deepEqual(scanConfigValue(value, [identity]).findings, [], value);
  }
});
