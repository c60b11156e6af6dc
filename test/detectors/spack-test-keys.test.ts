// Spack's test key (var/spack/gpg.mock/keys/package-signing-key, shipped unprotected in every Spack tree)
// is a note naming it, recognised by public identity only: a fresh key at the same path is a finding, and
// the user's own --public-key always wins over the catalogue. The file is read at test time from the Spack
// kit's release archive (never committed); fresh keys are made by real gpg at test time.
import test from 'ava';
import { createGpgHome, type GpgHome } from '../pgp/gpg-fixtures.js';
import { createContentScanner, createKeyAllowList, WELL_KNOWN_KEYS, type ContentScanResult, type KeyIdentity } from '../../src/detectors/index.js';
import { deriveKeyIdentity } from '../../src/pgp/index.js';
import { readSpackTreeFile, SPACK_TEST_KEY_PATH, spackKitTest } from './spack-kit.js';

const IN_IMAGE = `opt/spack/${SPACK_TEST_KEY_PATH}`;
const SPACK_IDS = ['spack-mock-package-signing-key', 'spack-mock-package-signing-subkey'];
const SPACK_ENTRIES = SPACK_IDS.map((id) => WELL_KNOWN_KEYS.find((key) => key.id === id)!);

function scan(bytes: Uint8Array, path: string | null, knownKeys: KeyIdentity[] = [], chunk = 0): ContentScanResult {
  const scanner = createContentScanner({ path, knownKeys });
  if (chunk === 0) scanner.write(bytes);
  else for (let i = 0; i < bytes.length; i += chunk) scanner.write(bytes.subarray(i, i + chunk));
  return scanner.end();
}

/** The armored blocks of Spack's file (base64 of a public block followed by a secret block). */
function blocks(file: Buffer): { publicBlock: string; secretBlock: string } {
  const text = Buffer.from(file.toString('latin1'), 'base64').toString('latin1');
  const publicBlock = /-----BEGIN PGP PUBLIC KEY BLOCK-----[\s\S]*?-----END PGP PUBLIC KEY BLOCK-----/.exec(text)![0];
  const secretBlock = /-----BEGIN PGP PRIVATE KEY BLOCK-----[\s\S]*?-----END PGP PRIVATE KEY BLOCK-----/.exec(text)![0];
  return { publicBlock, secretBlock };
}

const spackNote = (notes: ContentScanResult['notes'], origin: string): boolean =>
  notes.some((note) => note.message.includes(`well-known public test key (${origin}, `) && note.message.endsWith(': not a leak'));

/** A fresh key exported the way Spack's file is: base64 of the public block followed by the secret block. */
async function freshSpackStyleKey(home: GpgHome): Promise<{ file: Buffer; identity: KeyIdentity }> {
  const fingerprint = await home.generate('Fresh <fresh@example.invalid>', 'ed25519', { usage: 'sign' });
  await home.addSubkey(fingerprint, 'cv25519');
  const pub = (await home.gpg(['--armor', '--export', fingerprint])).toString('latin1');
  const sec = (await home.gpg(['--pinentry-mode', 'loopback', '--passphrase', '', '--armor', '--export-secret-keys', fingerprint])).toString('latin1');
  return { file: Buffer.from(Buffer.from(pub + sec, 'latin1').toString('base64')), identity: deriveKeyIdentity(pub) };
}

spackKitTest("[integration] Spack's test key: the catalogue holds what our code and real gpg derive from the file", async (t, kit) => {
  const file = await readSpackTreeFile(kit, SPACK_TEST_KEY_PATH);
  const { publicBlock, secretBlock } = blocks(file);
  const fromPublic = deriveKeyIdentity(publicBlock);
  const fromSecret = deriveKeyIdentity(secretBlock);
  t.deepEqual(fromSecret, fromPublic);
  t.deepEqual(fromPublic.userIds, ['Spack Build Pipeline (Demo Key) <key@spack.demo>']);
  t.deepEqual(fromPublic.fingerprints, ['EA17D7BAD069C9C51B16683965F19128BF181183', 'E947A28C0BCB3F692DD3F56F65ED2C9625AAAD63']);
  t.deepEqual(
    SPACK_ENTRIES.map((key) => [key.identity, key.keygrip]),
    fromPublic.fingerprints.map((fingerprint, i) => [fingerprint, fromPublic.keygrips[i]]),
  );

  // Cross-check with real GnuPG: import the secret block and list what gpg says.
  const home = await createGpgHome();
  t.teardown(() => home.close());
  await home.gpg(['--import'], secretBlock);
  const listed = await home.listSecret();
  t.deepEqual(
    listed.map((key) => [key.fingerprint, key.keygrip]),
    SPACK_ENTRIES.map((key) => [key.identity, key.keygrip]),
  );
});

spackKitTest("Spack's package-signing-key is a note naming it, at its path, at any other path, in any chunking", async (t, kit) => {
  const file = await readSpackTreeFile(kit, SPACK_TEST_KEY_PATH);
  for (const [path, chunk] of [
    [IN_IMAGE, 0],
    ['home/user/renamed.b64', 97],
    [null, 4096],
  ] as const) {
    const result = scan(file, path, [], chunk);
    t.deepEqual(result.findings, [], `${path}`);
    t.true(spackNote(result.notes, SPACK_ENTRIES[0]!.origin), `${path}`);
    t.true(result.notes.some((note) => note.message.includes("Spack's test key") && note.message.includes('EA17D7BAD069C9C51B16683965F19128BF181183')));
  }
  // The plain armored secret block (decoded, as a user might copy it) is a note too.
  t.deepEqual(scan(Buffer.from(blocks(file).secretBlock), 'root/spack-demo.asc').findings, []);
});

spackKitTest("[integration] Spack's key imported into a real GnuPG home: each private-keys-v1.d file is a note (by keygrip)", async (t, kit) => {
  const home = await createGpgHome();
  t.teardown(() => home.close());
  await home.gpg(['--import'], blocks(await readSpackTreeFile(kit, SPACK_TEST_KEY_PATH)).secretBlock);
  const files = await home.keyFiles();
  t.deepEqual([...files.keys()].sort(), SPACK_ENTRIES.map((key) => `${key.keygrip}.key`).sort());
  for (const [name, bytes] of files) {
    const result = scan(bytes, `root/.gnupg/private-keys-v1.d/${name}`);
    t.deepEqual(result.findings, [], name);
    const entry = SPACK_ENTRIES.find((key) => `${key.keygrip}.key` === name)!;
    t.true(spackNote(result.notes, entry.origin), name);
  }
});

test("[integration] a fresh key at Spack's path, exported the way Spack's is, is a finding: a path never excuses a key", async (t) => {
  const home = await createGpgHome();
  t.teardown(() => home.close());
  const fresh = await freshSpackStyleKey(home);
  const result = scan(fresh.file, IN_IMAGE);
  t.is(result.findings.length, 1);
  t.deepEqual(result.findings[0]!.fingerprints, fresh.identity.fingerprints);
  t.false(result.notes.some((note) => note.message.includes('well-known')));
});

spackKitTest("[integration] a fresh armored key appended to Spack's file is a finding; Spack's key stays a note", async (t, kit) => {
  const home = await createGpgHome();
  t.teardown(() => home.close());
  const fresh = await freshSpackStyleKey(home);
  const armored = Buffer.from(fresh.file.toString('latin1'), 'base64');
  const spack = await readSpackTreeFile(kit, SPACK_TEST_KEY_PATH);
  const result = scan(Buffer.concat([spack, Buffer.from('\n'), armored]), IN_IMAGE, [], 1000);
  t.is(result.findings.length, 1);
  t.deepEqual(result.findings[0]!.fingerprints, fresh.identity.fingerprints);
  t.true(spackNote(result.notes, SPACK_ENTRIES[0]!.origin));
});

// Spack's file is one base64 text (public then secret block, ending in '='); a second base64 text right
// after it used to be lost (the decoder stopped at the first padding).
spackKitTest("[integration] a fresh base64-encoded key appended to Spack's base64 file is a finding", async (t, kit) => {
  const home = await createGpgHome();
  t.teardown(() => home.close());
  const fresh = await freshSpackStyleKey(home);
  const spack = await readSpackTreeFile(kit, SPACK_TEST_KEY_PATH);
  const result = scan(Buffer.concat([spack, Buffer.from('\n'), fresh.file]), IN_IMAGE);
  t.is(result.findings.length, 1);
  t.deepEqual(result.findings[0]?.fingerprints, fresh.identity.fingerprints);
});

spackKitTest("[integration] Spack's test key named as the user's --public-key stays a finding (the user's question wins)", async (t, kit) => {
  const file = await readSpackTreeFile(kit, SPACK_TEST_KEY_PATH);
  const spackPublic = deriveKeyIdentity(blocks(file).publicBlock);
  const result = scan(file, IN_IMAGE, [spackPublic]);
  t.is(result.findings.length, 1);
  t.true(result.findings[0]!.matchesPublicKey);
  t.deepEqual(result.findings[0]!.fingerprints, spackPublic.fingerprints);
  t.false(result.notes.some((note) => note.message.includes('well-known')));

  // By keygrip alone too: the key as GnuPG stores it, when the user named Spack's key.
  const home = await createGpgHome();
  t.teardown(() => home.close());
  await home.gpg(['--import'], blocks(file).secretBlock);
  for (const [name, bytes] of await home.keyFiles()) {
    const found = scan(bytes, `root/.gnupg/private-keys-v1.d/${name}`, [spackPublic]);
    t.is(found.findings.length, 1, name);
    t.true(found.findings[0]!.matchesPublicKey, name);
  }
});

test("the allow list knows Spack's key by fingerprint and by keygrip, and only when every key of a finding is known", (t) => {
  const list = createKeyAllowList([]);
  const [primary, subkey] = SPACK_ENTRIES as [(typeof SPACK_ENTRIES)[0], (typeof SPACK_ENTRIES)[0]];
  t.like(list.match([primary.identity, subkey.identity], [primary.keygrip!, subkey.keygrip!]), { kind: 'well-known', id: primary.id });
  t.like(list.match([], [subkey.keygrip!]), { kind: 'well-known', id: subkey.id });
  t.like(list.match([subkey.identity.toLowerCase()], []), { kind: 'well-known', id: subkey.id });
  t.is(list.match([primary.identity, '4'.repeat(40)], []), null);
  t.is(list.match([], [primary.keygrip!, '5'.repeat(40)]), null);
});
