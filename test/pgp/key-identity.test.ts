import test from 'ava';
import * as openpgp from 'openpgp';
import { deriveKeyIdentity, findKeyFileSexp, formatCanonicalSexp, parseGnupgKeyFile, readKeyFileExpression, readKeyPackets } from '../../src/pgp/index.js';
import { createGpgHome, type GpgHome } from './gpg-fixtures.js';
import { UNIT_ONLY_RUN } from '../helpers/unit-only.js';

// One GnuPG home for the file: every algorithm gpg 2.2 makes, plus one RSA-4096 (the seed's recipe).
let home: GpgHome;
const primaries: Record<string, string> = {};

test.before(async () => {
  // Only the [integration] tests of this file use what follows; a unit-only run selects none of them.
  if (UNIT_ONLY_RUN) return;
  home = await createGpgHome();
  for (const algorithm of ['ed25519', 'rsa3072', 'nistp256', 'nistp384', 'nistp521', 'brainpoolP256r1', 'brainpoolP384r1', 'brainpoolP512r1', 'dsa2048', 'rsa4096']) {
    primaries[algorithm] = await home.generate(`Test ${algorithm} <${algorithm}@example.invalid>`, algorithm);
  }
  await home.addSubkey(primaries['ed25519']!, 'cv25519');
  await home.addSubkey(primaries['dsa2048']!, 'elg2048');
  await home.addSubkey(primaries['rsa3072']!, 'rsa2048');
  await home.addSubkey(primaries['nistp256']!, 'nistp256');
});

test.after.always(async () => {
  await home?.close();
});

test.serial('[integration] fingerprints and keygrips equal gpg --with-keygrip -K for every algorithm, from secret and public exports, armored and binary', async (t) => {
  const listing = await home.listSecret();
  t.true(listing.length >= 14);
  for (const [algorithm, fingerprint] of Object.entries(primaries)) {
    const expected = listing.filter((entry) => entry.primary === fingerprint);
    const forms = [
      await home.gpg(['--export-secret-keys', fingerprint]),
      (await home.gpg(['--armor', '--export-secret-keys', fingerprint])).toString('utf8'),
      await home.gpg(['--export', fingerprint]),
      (await home.gpg(['--armor', '--export', fingerprint])).toString('utf8'),
    ];
    for (const form of forms) {
      const identity = deriveKeyIdentity(form);
      t.is(identity.primaryFingerprint, fingerprint, algorithm);
      t.deepEqual(
        identity.fingerprints,
        expected.map((entry) => entry.fingerprint),
        algorithm,
      );
      t.deepEqual(
        identity.keygrips,
        expected.map((entry) => entry.keygrip),
        algorithm,
      );
      t.deepEqual(identity.userIds, [`Test ${algorithm} <${algorithm}@example.invalid>`]);
    }
  }
});

test.serial('[integration] keygrips computed from the agent key files equal their file names (extended format, and converted to the old S-expression format)', async (t) => {
  const files = await home.keyFiles();
  const listing = await home.listSecret();
  t.is(files.size, listing.length);
  for (const [name, bytes] of files) {
    // gpg 2.2.40 writes the extended "Key:" format; the older canonical form is made from the same key here.
    t.true(bytes.toString('latin1').includes('Key: ('), `${name} is in extended format`);
    const start = findKeyFileSexp(bytes);
    const parsed = parseGnupgKeyFile(bytes, start);
    t.is(parsed.kind, 'ok', name);
    if (parsed.kind !== 'ok') continue;
    t.is(`${parsed.file.keygrip}.key`, name);
    t.is(parsed.file.kind, 'private');
    const sexp = readKeyFileExpression(bytes, start);
    if (sexp.kind !== 'ok') return t.fail();
    const canonical = formatCanonicalSexp(sexp.value);
    const again = parseGnupgKeyFile(canonical);
    t.is(again.kind === 'ok' ? `${again.file.keygrip}.key` : again.kind, name);
  }
});

test.serial('[integration] a passphrase-protected gpg key: protected-private-key file and S2K-protected export keep the same identity', async (t) => {
  const fingerprint = await home.generate('Protected <protected@example.invalid>', 'ed25519', { passphrase: 'correct horse' });
  const listing = (await home.listSecret()).filter((entry) => entry.primary === fingerprint);
  const files = await home.keyFiles();
  const file = files.get(`${listing[0]!.keygrip}.key`)!;
  t.true(file.toString('latin1').includes('protected-private-key'));
  const parsed = parseGnupgKeyFile(file, findKeyFileSexp(file));
  t.true(parsed.kind === 'ok' && parsed.file.kind === 'protected' && parsed.file.keygrip === listing[0]!.keygrip);
  const exported = await home.gpg(['--pinentry-mode', 'loopback', '--passphrase', 'correct horse', '--export-secret-keys', fingerprint]);
  const { keys } = readKeyPackets(exported);
  t.is(keys[0]!.secret?.kind, 'encrypted');
  t.is(deriveKeyIdentity(exported).keygrips[0], listing[0]!.keygrip);
});

test.serial('[integration] keys made by openpgp.js (ecc and rsa) get the identity gpg gives them after import', async (t) => {
  for (const options of [
    { type: 'ecc' as const, curve: 'curve25519Legacy' as const },
    { type: 'rsa' as const, rsaBits: 2048 },
  ]) {
    const { privateKey } = await openpgp.generateKey({ ...options, userIDs: [{ name: 'OpenPGP.js', email: 'js@example.invalid' }], format: 'armored' });
    await home.gpg(['--import'], privateKey);
    const ours = deriveKeyIdentity(privateKey);
    const listing = (await home.listSecret()).filter((entry) => entry.primary === ours.primaryFingerprint);
    t.deepEqual(
      ours.fingerprints,
      listing.map((entry) => entry.fingerprint),
    );
    t.deepEqual(
      ours.keygrips,
      listing.map((entry) => entry.keygrip),
    );
    const key = await openpgp.readKey({ armoredKey: privateKey });
    t.is(ours.primaryFingerprint, key.getFingerprint().toUpperCase());
  }
});

// How fast deriveKeyIdentity is (RSA-4096) is a bench figure (`npm run bench -- keys`), not a test: a
// timed assertion fails on a loaded machine without any change in the code.

test.serial('non-keys are refused with a clear message', (t) => {
  t.throws(() => deriveKeyIdentity('hello'), { message: /not an OpenPGP key/ });
  t.throws(() => deriveKeyIdentity(new Uint8Array([0x99, 0x00, 0x05, 1, 2, 3, 4, 5])), { message: /invalid|no primary/ });
  t.throws(() => deriveKeyIdentity('-----BEGIN PGP PUBLIC KEY BLOCK-----\n\n!!!!\n-----END PGP PUBLIC KEY BLOCK-----'), { message: /not an OpenPGP key/ });
});
