import test from 'ava';
import { KEY_CHECKS, runKeyChecks, blockingFindings, type KeyCheckId, type KeyCheckSubject } from '../../src/keys/key-checks.js';
import type { KeyFacts, KeyPartFacts } from '../../src/keys/key-facts.js';

const NOW = new Date('2026-06-01T00:00:00Z');
const DAY = 86_400_000;
const daysAgo = (n: number) => new Date(NOW.getTime() - n * DAY);
const inDays = (n: number) => new Date(NOW.getTime() + n * DAY);

function part(overrides: Partial<KeyPartFacts> = {}): KeyPartFacts {
  return {
    role: 'primary',
    fingerprint: 'AAAABBBBCCCCDDDDEEEEFFFF0000111122223333',
    keyId: '0000111122223333',
    algorithm: 'rsaEncryptSign',
    bits: 4096,
    created: daysAgo(10),
    expires: null,
    canSign: true,
    canCertify: true,
    canEncrypt: false,
    revoked: false,
    secret: 'present',
    ...overrides,
  };
}

function encSub(overrides: Partial<KeyPartFacts> = {}): KeyPartFacts {
  return part({
    role: 'subkey',
    fingerprint: '9999888877776666555544443333222211110000',
    keyId: '3333222211110000',
    canSign: false,
    canCertify: false,
    canEncrypt: true,
    ...overrides,
  });
}

function facts(primary: Partial<KeyPartFacts> = {}, subkeys: KeyPartFacts[] = [encSub()], passphraseProtected = false): KeyFacts {
  return { primary: part(primary), subkeys, userIds: ['Test <t@example.org>'], passphraseProtected };
}

function subject(overrides: Partial<KeyCheckSubject> = {}): KeyCheckSubject {
  return {
    inputName: 'environment variable SPACK_SIGNING_KEY',
    text: { kind: 'armored', armored: '', block: 'private', encoding: 'text' },
    keyCount: 1,
    key: facts(),
    need: 'secret',
    passphrase: 'none',
    now: NOW,
    rotationDays: 180,
    ...overrides,
  };
}

const ids = (s: KeyCheckSubject) => runKeyChecks(s).map((finding) => finding.id);

test('a fresh RSA-4096 secret key without expiry passes every check', (t) => {
  t.deepEqual(runKeyChecks(subject()), []);
});

test('every check has a stable id, a title, and is listed once', (t) => {
  const seen = new Set(KEY_CHECKS.map((check) => check.id));
  t.is(seen.size, KEY_CHECKS.length);
  for (const check of KEY_CHECKS) t.truthy(check.title);
});

const table: Array<{ title: string; subject: KeyCheckSubject; expect: KeyCheckId[]; message?: RegExp; fix?: RegExp }> = [
  {
    title: 'empty input',
    subject: subject({ text: { kind: 'not-a-key', reason: 'empty' }, key: undefined, keyCount: 0 }),
    expect: ['not-a-key'],
    message: /SPACK_SIGNING_KEY is empty/,
    fix: /--export-secret-keys --armor/,
  },
  {
    title: 'an SSH key',
    subject: subject({ text: { kind: 'not-a-key', reason: 'pem-or-ssh' }, key: undefined, keyCount: 0 }),
    expect: ['not-a-key'],
    message: /PEM or SSH key/,
  },
  {
    title: 'binary secret key',
    subject: subject({ text: { kind: 'binary', block: 'private', encoding: 'raw' }, key: undefined, keyCount: 0 }),
    expect: ['not-armored'],
    message: /binary \(unarmored\) OpenPGP secret key/,
    fix: /--export-secret-keys --armor/,
  },
  {
    title: 'corrupt armor',
    subject: subject({ parseError: 'Ascii armor integrity check failed', key: undefined, keyCount: 0 }),
    expect: ['unreadable-key'],
    fix: /-----BEGIN line to the -----END line/,
  },
  {
    title: 'two keys in one secret',
    subject: subject({ keyCount: 2 }),
    expect: ['several-keys'],
    message: /exactly one secret key/,
  },
  {
    title: 'public key where a secret key is needed',
    subject: subject({ key: facts({ secret: 'absent' }, [encSub({ secret: 'absent' })]) }),
    expect: ['public-key-only'],
    fix: /gpg --export-secret-keys --armor 0000111122223333 \(not gpg --export\)/,
  },
  {
    title: 'public key when only the public half is needed',
    subject: subject({ need: 'public', key: facts({ secret: 'absent' }, [encSub({ secret: 'absent' })]) }),
    expect: [],
  },
  {
    title: 'passphrase-protected without a passphrase',
    subject: subject({ key: facts({ secret: 'protected' }, [encSub({ secret: 'protected' })], true) }),
    expect: ['passphrase-protected'],
    message: /passphrase-protected and SPACK_SIGNING_KEY_PASSPHRASE is not set/,
    fix: /gpg --pinentry-mode loopback --passwd 0000111122223333/,
  },
  {
    title: 'protected, decrypted with the passphrase',
    subject: subject({ passphrase: 'accepted', key: facts({ secret: 'present' }, [encSub()], true) }),
    expect: [],
  },
  {
    title: 'wrong passphrase',
    subject: subject({ passphrase: 'rejected', key: facts({ secret: 'protected' }, [encSub({ secret: 'protected' })], true) }),
    expect: ['passphrase-wrong'],
    fix: /--passwd/,
  },
  {
    title: 'revoked',
    subject: subject({ key: facts({ revoked: true }) }),
    expect: ['revoked'],
  },
  {
    title: 'no signing-capable key at all',
    subject: subject({ key: facts({ canSign: false }) }),
    expect: ['no-signing-key'],
    fix: /sign/,
  },
  {
    title: 'signing subkey present but its secret is not',
    subject: subject({ key: facts({ canSign: false, secret: 'stub' }, [encSub(), encSub({ canSign: true, canEncrypt: false, secret: 'absent', fingerprint: 'F'.repeat(40) })]) }),
    expect: ['no-signing-key'],
    message: /not for any signing-capable key/,
  },
  {
    title: 'signing subkey with a stub primary (gpg --export-secret-subkeys) is fine',
    subject: subject({ key: facts({ canSign: false, secret: 'stub' }, [encSub(), encSub({ canSign: true, canEncrypt: false, secret: 'present' })]) }),
    expect: [],
  },
  {
    title: 'expired',
    subject: subject({ key: facts({ created: daysAgo(100), expires: daysAgo(1) }) }),
    expect: ['expired'],
    message: /expired on 2026-05-31/,
  },
  {
    title: 'expires exactly now counts as expired',
    subject: subject({ key: facts({ expires: NOW }) }),
    expect: ['expired'],
  },
  {
    title: 'expires in 10 days',
    subject: subject({ key: facts({ expires: inDays(10) }) }),
    expect: ['expiring-soon'],
    message: /expires on 2026-06-11 \(in 10 days\)/,
  },
  {
    title: 'expires in exactly 30 days still warns',
    subject: subject({ key: facts({ expires: inDays(30) }) }),
    expect: ['expiring-soon'],
  },
  {
    title: 'expires in 31 days does not warn',
    subject: subject({ key: facts({ expires: inDays(31) }) }),
    expect: [],
  },
  {
    title: 'an expired signing subkey does not matter while the primary still signs',
    subject: subject({ key: facts({}, [encSub({ canSign: true, expires: daysAgo(5) })]) }),
    expect: [],
  },
  {
    title: 'older than the default rotation period',
    subject: subject({ key: facts({ created: daysAgo(181) }) }),
    expect: ['rotation-due'],
    message: /181 days ago\), beyond the 180-day rotation period/,
    fix: /--rotation-days/,
  },
  {
    title: 'exactly at the rotation period',
    subject: subject({ key: facts({ created: daysAgo(180) }) }),
    expect: [],
  },
  {
    title: 'a configured rotation period',
    subject: subject({ rotationDays: 30, key: facts({ created: daysAgo(31) }) }),
    expect: ['rotation-due'],
    message: /30-day rotation period/,
  },
  {
    title: 'RSA 2048',
    subject: subject({ key: facts({ bits: 2048 }) }),
    expect: ['rsa-too-short'],
    message: /RSA 2048\) .* shorter than 3072 bits/,
  },
  {
    title: 'RSA 3072 is enough',
    subject: subject({ key: facts({ bits: 3072 }) }),
    expect: [],
  },
  {
    title: 'EdDSA has no size warning',
    subject: subject({ key: facts({ algorithm: 'eddsaLegacy', bits: undefined, curve: 'ed25519Legacy' }) }),
    expect: [],
  },
  {
    title: 'several problems at once are all reported, in check order',
    subject: subject({ key: facts({ bits: 2048, created: daysAgo(400), expires: inDays(3) }) }),
    expect: ['expiring-soon', 'rotation-due', 'rsa-too-short'],
  },
];

for (const row of table) {
  test(`check table: ${row.title}`, (t) => {
    t.deepEqual(ids(row.subject), row.expect);
    const finding = runKeyChecks(row.subject)[0];
    if (row.message) t.regex(finding?.message ?? '', row.message);
    if (row.fix) t.regex(finding?.fix ?? '', row.fix);
    for (const found of runKeyChecks(row.subject)) {
      t.true(found.message.length > 0 && found.fix.length > 0);
      t.is(KEY_CHECKS.find((check) => check.id === found.id)?.severity, found.severity);
    }
  });
}

test('messages name the input', (t) => {
  const findings = runKeyChecks(subject({ inputName: 'file /srv/key.asc', key: facts({ bits: 2048 }) }));
  t.regex(findings[0]?.message ?? '', /file \/srv\/key\.asc/);
});

test('warnings block only with strict; errors always', (t) => {
  const findings = runKeyChecks(subject({ key: facts({ created: daysAgo(400), expires: daysAgo(1) }) }));
  t.deepEqual(
    findings.map((f) => [f.id, f.severity]),
    [
      ['expired', 'error'],
      ['rotation-due', 'warning'],
    ],
  );
  t.deepEqual(
    blockingFindings(findings).map((f) => f.id),
    ['expired'],
  );
  t.deepEqual(
    blockingFindings(findings, true).map((f) => f.id),
    ['expired', 'rotation-due'],
  );
});
