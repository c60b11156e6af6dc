// Well-known public test keys (library self-test vectors) are notes, recognised by public identity
// only; fresh keys, and keys appended to those very libraries, are still findings. The library
// bytes are read from this machine at test time: no key material is committed.
import test from 'ava';
import { createHash, type createPublicKey, generateKeyPairSync } from 'node:crypto';
import { execa } from 'execa';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  AllowKeyError,
  createContentScanner,
  createKeyAllowList,
  parseAllowKeys,
  scanConfigValue,
  WELL_KNOWN_KEYS,
  type ContentScanResult,
  type KeyIdentity,
} from '../../src/detectors/index.js';
import { createGpgHome, type GpgHome } from '../pgp/gpg-fixtures.js';
import { UNIT_ONLY_RUN } from '../helpers/unit-only.js';

const LIBGCRYPT = '/usr/lib/x86_64-linux-gnu/libgcrypt.so.20';
const LIBGNUTLS = '/usr/lib/x86_64-linux-gnu/libgnutls.so.30';
const GCRYPT_IDS = ['libgcrypt-selftest-dsa', 'libgcrypt-selftest-rsa', 'libgcrypt-selftest-ecdsa-p256'];
const GNUTLS_IDS = WELL_KNOWN_KEYS.filter((key) => key.id.startsWith('gnutls-')).map((key) => key.id);

let gcrypt: Buffer;
let gnutls: Buffer;
let home: GpgHome;
let freshKeyFile: { name: string; bytes: Buffer };

test.before(async () => {
  gcrypt = await readFile(LIBGCRYPT);
  gnutls = await readFile(LIBGNUTLS);
  // Only the [integration] tests of this file use what follows; a unit-only run selects none of them.
  if (UNIT_ONLY_RUN) return;
  home = await createGpgHome();
  await home.generate('Fresh <fresh@example.invalid>', 'nistp256');
  const [entry] = await home.keyFiles();
  freshKeyFile = { name: entry![0], bytes: entry![1] };
});
test.after.always(async () => {
  await home?.close();
});

function scan(bytes: Uint8Array, path: string | null, options: { knownKeys?: KeyIdentity[]; allowKeys?: string[] } = {}, chunk = 0): ContentScanResult {
  const scanner = createContentScanner({ path, knownKeys: options.knownKeys ?? [], allowKeys: options.allowKeys });
  if (chunk === 0) scanner.write(bytes);
  else for (let i = 0; i < bytes.length; i += chunk) scanner.write(bytes.subarray(i, i + chunk));
  return scanner.end();
}

function catalogueIdsIn(notes: ContentScanResult['notes']): string[] {
  const named: string[] = [];
  for (const key of WELL_KNOWN_KEYS) {
    if (notes.some((note) => note.message.startsWith(`well-known public test key (${key.origin}, `) && note.message.endsWith(': not a leak'))) named.push(key.id);
  }
  return named;
}

function spkiIdentity(publicKey: ReturnType<typeof createPublicKey>): string {
  const der = publicKey.export({ type: 'spki', format: 'der' });
  return `SPKI-SHA256:${createHash('sha256').update(der).digest('base64').replace(/=+$/, '')}`;
}

test('the catalogue holds public identities only, each with an origin and a reference', (t) => {
  const ids = new Set<string>();
  for (const key of WELL_KNOWN_KEYS) {
    t.regex(key.id, /^[a-z0-9-]+$/);
    t.false(ids.has(key.id), key.id);
    ids.add(key.id);
    t.regex(key.identity, /^(?:[0-9A-F]{40}|[0-9A-F]{64}|(?:SPKI-SHA256|SHA256|DER-SHA256):[A-Za-z0-9+/]{43})$/, key.id);
    // The reference names the package and version it was found in.
    t.true(key.origin.length > 5 && /Debian bookworm|Spack v1\.1\.0/.test(key.reference), key.id);
    if (key.keygrip !== undefined) t.regex(key.keygrip, /^[0-9A-F]{40}$/, key.id);
  }
  for (const id of [...GCRYPT_IDS, ...GNUTLS_IDS]) t.true(ids.has(id), id);
  t.is(GNUTLS_IDS.length, 10);
});

test("this machine's libgcrypt: its three self-test keys are notes, not findings, in any chunking and under any path", (t) => {
  for (const [path, chunk] of [
    ['usr/lib/x86_64-linux-gnu/libgcrypt.so.20.4.1', 0],
    ['opt/app/renamed.bin', 4093],
    [null, 65536],
  ] as const) {
    const result = scan(gcrypt, path, {}, chunk);
    t.deepEqual(result.findings, [], `${path}`);
    t.deepEqual(catalogueIdsIn(result.notes), GCRYPT_IDS, `${path}`);
    t.true(result.notes.every((note) => !note.message.includes('well-known') || note.message.includes(` in ${path ?? 'this content'}: `)));
  }
});

test("this machine's GnuTLS: its ten self-test keys are notes, and the GOST catalogue hash is never shown", (t) => {
  const result = scan(gnutls, 'usr/lib/x86_64-linux-gnu/libgnutls.so.30.34.3');
  t.deepEqual(result.findings, []);
  t.deepEqual(catalogueIdsIn(result.notes).sort(), [...GNUTLS_IDS].sort());
  t.false(JSON.stringify(result).includes('DER-SHA256'));
});

test('[integration] a fresh GnuPG key appended to a copy of libgcrypt is still a finding; the self-test keys stay notes', (t) => {
  const grip = freshKeyFile.name.slice(0, 40);
  const appended = Buffer.concat([gcrypt, Buffer.from('\0\0'), freshKeyFile.bytes]);
  const result = scan(appended, 'usr/lib/x86_64-linux-gnu/libgcrypt.so.20.4.1', {}, 8191);
  t.is(result.findings.length, 1);
  t.is(result.findings[0]!.detector, 'gnupg-agent-key-file');
  t.deepEqual(result.findings[0]!.keygrips, [grip]);
  t.true(result.findings[0]!.offset > gcrypt.length);
  t.deepEqual(catalogueIdsIn(result.notes), GCRYPT_IDS);
});

test('fresh PEM keys of the kinds GnuTLS carries are findings and carry their SPKI-SHA256 identity', (t) => {
  const keys = [
    { kind: 'pem-rsa', key: generateKeyPairSync('rsa', { modulusLength: 2048 }), type: 'pkcs1' as const },
    { kind: 'pem-ec', key: generateKeyPairSync('ec', { namedCurve: 'P-256' }), type: 'sec1' as const },
    { kind: 'pem-pkcs8', key: generateKeyPairSync('ed25519'), type: 'pkcs8' as const },
  ];
  for (const { kind, key, type } of keys) {
    const pem = key.privateKey.export({ type, format: 'pem' }).toString();
    // Appended to the GnuTLS copy: the self-test keys around it must not hide it.
    const result = scan(Buffer.concat([gnutls, Buffer.from(pem)]), 'usr/lib/x86_64-linux-gnu/libgnutls.so.30.34.3');
    t.is(result.findings.length, 1, kind);
    t.is(result.findings[0]!.kind, kind);
    t.deepEqual(result.findings[0]!.fingerprints, [spkiIdentity(key.publicKey)], kind);
    t.false(result.findings[0]!.matchesPublicKey);
  }
});

test('[integration] an OpenSSH finding carries the identity ssh-keygen -l prints for its public key', async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'eic-known-keys-'));
  t.teardown(() => rm(dir, { recursive: true, force: true }));
  const file = join(dir, 'id_ed25519');
  await execa('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-f', file]);
  const listed = (await execa('ssh-keygen', ['-l', '-E', 'sha256', '-f', `${file}.pub`])).stdout.split(' ')[1]!;
  const result = scan(await readFile(file), 'home/u/.ssh/id_ed25519');
  t.is(result.findings.length, 1);
  t.deepEqual(result.findings[0]!.fingerprints, [listed]);
  // And a user can allow exactly that key by what ssh-keygen printed.
  t.deepEqual(scan(await readFile(file), null, { allowKeys: [listed] }).findings, []);
});

test("a self-test key that is also the user's --public-key stays a finding (the user's question wins)", (t) => {
  const rsa = WELL_KNOWN_KEYS.find((key) => key.id === 'libgcrypt-selftest-rsa')!;
  const known: KeyIdentity = { primaryFingerprint: 'X', fingerprints: [], keygrips: [rsa.identity], userIds: [] };
  const result = scan(gcrypt, 'usr/lib/x86_64-linux-gnu/libgcrypt.so.20.4.1', { knownKeys: [known] });
  t.is(result.findings.length, 1);
  t.deepEqual(result.findings[0]!.keygrips, [rsa.identity]);
  t.true(result.findings[0]!.matchesPublicKey);
  t.deepEqual(
    catalogueIdsIn(result.notes),
    GCRYPT_IDS.filter((id) => id !== rsa.id),
  );
});

test('[integration] allowKeys turns exactly the named keys into notes; malformed identities are rejected', (t) => {
  const grip = freshKeyFile.name.slice(0, 40);
  const allowed = scan(freshKeyFile.bytes, null, { allowKeys: [grip.toLowerCase()] });
  t.deepEqual(allowed.findings, []);
  t.true(allowed.notes.some((note) => note.message === `allowed key (${grip}, given in allowKeys) in this content: not a leak`));
  const other = scan(freshKeyFile.bytes, null, { allowKeys: ['0'.repeat(40)] });
  t.is(other.findings.length, 1);

  const ec = generateKeyPairSync('ec', { namedCurve: 'P-384' });
  const pem = Buffer.from(ec.privateKey.export({ type: 'sec1', format: 'pem' }).toString());
  t.deepEqual(scan(pem, null, { allowKeys: [`${spkiIdentity(ec.publicKey)}=`] }).findings, []);

  t.throws(() => parseAllowKeys(['not-a-key']), { instanceOf: AllowKeyError, message: /"not-a-key" is not a public key identity/ });
  // The GOST catalogue form is internal: users cannot allow a key by a hash of its private part.
  t.throws(() => parseAllowKeys([`DER-SHA256:${'A'.repeat(43)}`]), { instanceOf: AllowKeyError });
  t.deepEqual(parseAllowKeys(['6e06 4b3a 0a20 50aa 6349  7ebe e154 0c07 4b37 9aff']), ['6E064B3A0A2050AA63497EBEE1540C074B379AFF']);
});

test('a finding with one catalogued key and one unknown key is not allowed', (t) => {
  const list = createKeyAllowList([]);
  const rsa = WELL_KNOWN_KEYS.find((key) => key.id === 'libgcrypt-selftest-rsa')!.identity;
  t.is(list.match([], [rsa, '1'.repeat(40)]), null);
  t.is(list.match(['2'.repeat(40), '3'.repeat(40)], [rsa, '1'.repeat(40)]), null);
  t.like(list.match([], [rsa]), { kind: 'well-known', id: 'libgcrypt-selftest-rsa' });
  t.like(list.match(['2'.repeat(40)], [rsa]), { kind: 'well-known' });
  t.is(list.match([], []), null);
});

test('a self-test key cut out of GnuTLS and passed base64-encoded in an image config value is a note; a fresh one is a finding', (t) => {
  // Cut out at test time from this machine's library (never committed).
  const text = gnutls.toString('latin1');
  const begin = text.indexOf('-----BEGIN RSA PRIVATE KEY-----');
  const end = text.indexOf('-----END RSA PRIVATE KEY-----', begin);
  t.true(begin > 0 && end > begin);
  const selfTest = text.slice(begin, end + '-----END RSA PRIVATE KEY-----'.length);
  const asEnv = (pem: string): string => `TLS_KEY=${Buffer.from(pem, 'latin1').toString('base64')}`;
  const known = scanConfigValue(asEnv(selfTest), []);
  t.deepEqual(known.findings, []);
  t.true(known.notes.some((note) => note.message.includes('well-known public test key (GnuTLS self-test RSA 2048-bit key, ')));

  const fresh = generateKeyPairSync('rsa', { modulusLength: 2048 });
  const freshPem = fresh.privateKey.export({ type: 'pkcs1', format: 'pem' }).toString();
  const found = scanConfigValue(asEnv(freshPem), []);
  t.is(found.findings.length, 1);
  t.deepEqual(found.findings[0]!.fingerprints, [spkiIdentity(fresh.publicKey)]);
  t.deepEqual(scanConfigValue(asEnv(freshPem), [], [spkiIdentity(fresh.publicKey)]).findings, []);
});
