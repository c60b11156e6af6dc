// Positive and negative controls for the detectors, generated at run time with real tools
// (gpg 2.2, ssh-keygen, openssl, node crypto, openpgp.js). Nothing here is committed key material.
import { execa } from 'execa';
import { generateKeyPairSync } from 'node:crypto';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as openpgp from 'openpgp';
import { deriveKeyIdentity, findKeyFileSexp, formatCanonicalSexp, readKeyFileExpression, splitPackets, type KeyIdentity } from '../../src/pgp/index.js';
import { createGpgHome, type GpgHome } from '../pgp/gpg-fixtures.js';

/** What a positive control must produce. */
export type Expected = { detector: string; kind: string; offset: number; keygrips?: string[]; fingerprints?: string[]; matches?: boolean };
export type Positive = { name: string; bytes: Buffer; expected: Expected[]; path?: string };

export type Fixtures = {
  positives: Positive[];
  negatives: Array<{ name: string; bytes: Buffer; notes?: RegExp }>;
  known: KeyIdentity[];
  /** Identity of the gpg ed25519 key (the "signing key" the tests match against). */
  signing: KeyIdentity;
  /** Armored secret export of the signing key (to build more forms in tests). */
  signingArmored: string;
  signingBinary: Buffer;
  close(): Promise<void>;
};

function armoredWithHeaders(armored: string): string {
  return armored.replace('-----BEGIN PGP PRIVATE KEY BLOCK-----\n', '-----BEGIN PGP PRIVATE KEY BLOCK-----\nVersion: GnuPG v2\nComment: eic-build test key\n');
}

function secretPacketOffsets(bytes: Uint8Array, base = 0): Array<{ offset: number; tag: number }> {
  return splitPackets(bytes)
    .packets.filter((packet) => packet.header.tag === 5 || packet.header.tag === 7)
    .map((packet) => ({ offset: base + packet.offset, tag: packet.header.tag }));
}

/** Build every control once (about 3 s: one RSA key, the rest ECC). */
export async function makeFixtures(): Promise<Fixtures> {
  const home: GpgHome = await createGpgHome();
  const publicHome: GpgHome = await createGpgHome();
  const work = await mkdtemp(join(tmpdir(), 'eic-det-'));
  const signingFpr = await home.generate('Spack Signing <spack@example.invalid>', 'ed25519');
  await home.addSubkey(signingFpr, 'cv25519');
  const rsaFpr = await home.generate('RSA Test <rsa@example.invalid>', 'rsa2048');
  const protectedFpr = await home.generate('Protected <p@example.invalid>', 'nistp256', { passphrase: 'correct horse' });
  const signingArmored = (await home.gpg(['--armor', '--export-secret-keys', signingFpr])).toString('latin1');
  const signingBinary = await home.gpg(['--export-secret-keys', signingFpr]);
  const signing = deriveKeyIdentity(signingArmored);
  const rsaBinary = await home.gpg(['--export-secret-keys', rsaFpr]);
  const protectedBinary = await home.gpg(['--pinentry-mode', 'loopback', '--passphrase', 'correct horse', '--export-secret-keys', protectedFpr]);
  const subkeysOnly = await home.gpg(['--export-secret-subkeys', signingFpr]);
  const listing = await home.listSecret();
  const gripsOf = (fpr: string): string[] => listing.filter((entry) => entry.primary === fpr).map((entry) => entry.keygrip);
  const gpgBinary = await readFile('/usr/bin/gpg');

  const positives: Positive[] = [];
  const armoredExpect = (offset: number, kind: string): Expected => ({
    detector: 'pgp-armored-private-key',
    kind,
    offset,
    fingerprints: signing.fingerprints,
    keygrips: signing.keygrips,
    matches: true,
  });
  positives.push({ name: 'gpg armored secret key', bytes: Buffer.from(signingArmored, 'latin1'), expected: [armoredExpect(0, 'armored')] });
  positives.push({ name: 'armored with Version/Comment headers', bytes: Buffer.from(`x\n${armoredWithHeaders(signingArmored)}`), expected: [armoredExpect(2, 'armored')] });
  positives.push({ name: 'armored with CRLF', bytes: Buffer.from(signingArmored.replace(/\n/g, '\r\n')), expected: [armoredExpect(0, 'armored-crlf')] });
  const oneLine = `SPACK_SIGNING_KEY=${signingArmored.trim().replace(/\n+/g, ' ')}`;
  positives.push({
    name: 'armored key pasted on one line (line breaks turned into spaces)',
    bytes: Buffer.from(oneLine),
    expected: [armoredExpect(oneLine.indexOf('-----BEGIN'), 'armored')],
  });
  const json = JSON.stringify({ name: 'ci', key: signingArmored });
  positives.push({ name: 'JSON-escaped armored', bytes: Buffer.from(json), expected: [armoredExpect(json.indexOf('-----BEGIN'), 'json-escaped-armored')] });
  const b64 = Buffer.from(signingArmored)
    .toString('base64')
    .replace(/(.{76})/g, '$1\n');
  positives.push({
    name: 'base64-wrapped armored (base64 -w76)',
    bytes: Buffer.from(`SPACK_SIGNING_KEY=${b64}\n`),
    expected: [armoredExpect('SPACK_SIGNING_KEY='.length, 'base64-armored')],
  });
  const yaml = `apiVersion: v1\nkind: Secret\ndata:\n  key: |\n    ${b64.replace(/\n/g, '\n    ')}\n  other: x\n`;
  positives.push({ name: 'base64 in an indented YAML block', bytes: Buffer.from(yaml), expected: [armoredExpect(yaml.indexOf('LS0t'), 'base64-armored')] });
  const jsonWrapped = JSON.stringify({ key: b64 });
  positives.push({ name: 'wrapped base64 inside a JSON string', bytes: Buffer.from(jsonWrapped), expected: [armoredExpect(jsonWrapped.indexOf('LS0t'), 'base64-armored')] });
  const shiftedB64 = Buffer.from(`# key\n${signingArmored}`).toString('base64');
  positives.push({ name: 'base64 of text with the block not at the start', bytes: Buffer.from(`{"data":"${shiftedB64}"}`), expected: [armoredExpect(-1, 'base64-armored')] });

  const binaryExpect = (bytes: Uint8Array, base: number, grips: string[], identity: KeyIdentity | null): Expected[] =>
    secretPacketOffsets(bytes, base).map((packet, index) => ({
      detector: 'pgp-binary-secret-key',
      kind: packet.tag === 5 ? 'secret-key-packet' : 'secret-subkey-packet',
      offset: packet.offset,
      keygrips: [grips[index]!],
      matches: identity !== null,
    }));
  positives.push({ name: 'gpg binary secret export (old-format CTB)', bytes: signingBinary, expected: binaryExpect(signingBinary, 0, signing.keygrips, signing) });
  positives.push({ name: 'gpg RSA-2048 binary export (2-octet length)', bytes: rsaBinary, expected: binaryExpect(rsaBinary, 0, gripsOf(rsaFpr), null) });
  positives.push({ name: 'gpg passphrase-protected binary export (S2K 254)', bytes: protectedBinary, expected: binaryExpect(protectedBinary, 0, gripsOf(protectedFpr), null) });
  positives.push({
    name: 'secret key appended to the gpg ELF binary',
    bytes: Buffer.concat([gpgBinary, signingBinary]),
    expected: binaryExpect(signingBinary, gpgBinary.length, signing.keygrips, signing),
  });
  const secring = Buffer.concat([rsaBinary, signingBinary]);
  positives.push({
    name: 'secring-style concatenation',
    bytes: secring,
    expected: [...binaryExpect(rsaBinary, 0, gripsOf(rsaFpr), null), ...binaryExpect(signingBinary, rsaBinary.length, signing.keygrips, signing)],
  });
  const subkeyOnlyExpect = binaryExpect(subkeysOnly, 0, signing.keygrips, signing).filter((e) => e.kind === 'secret-subkey-packet');
  positives.push({
    name: 'gpg --export-secret-subkeys (primary is a stub)',
    bytes: subkeysOnly,
    expected: subkeyOnlyExpect.map((e) => ({ ...e, keygrips: [signing.keygrips[1]!] })),
  });

  const js = await openpgp.generateKey({ type: 'ecc', curve: 'curve25519Legacy', userIDs: [{ name: 'js', email: 'js@example.invalid' }], format: 'binary' });
  const jsBytes = Buffer.from(js.privateKey);
  const jsIdentity = deriveKeyIdentity(jsBytes);
  positives.push({ name: 'openpgp.js binary key (new-format CTB 0xC5/0xC7)', bytes: jsBytes, expected: binaryExpect(jsBytes, 0, jsIdentity.keygrips, null) });
  const jsProtected = await openpgp.generateKey({ type: 'ecc', curve: 'curve25519Legacy', userIDs: [{ name: 'js' }], passphrase: 'a passphrase', format: 'armored' });
  const v6 = await openpgp.generateKey({ type: 'curve25519', userIDs: [{ name: 'v6' }], format: 'armored', config: { v6Keys: true } });
  const v6Identity = deriveKeyIdentity(v6.privateKey);
  positives.push({
    name: 'openpgp.js v6 key (RFC 9580, native Ed25519/X25519), armored',
    bytes: Buffer.from(v6.privateKey),
    expected: [{ detector: 'pgp-armored-private-key', kind: 'armored', offset: 0, fingerprints: v6Identity.fingerprints }],
  });
  positives.push({
    name: 'openpgp.js passphrase-protected armored key',
    bytes: Buffer.from(jsProtected.privateKey),
    expected: [{ detector: 'pgp-armored-private-key', kind: 'armored', offset: 0 }],
  });

  for (const [name, bytes] of await home.keyFiles()) {
    const grip = name.slice(0, 40);
    const text = bytes.toString('latin1');
    const kind = text.includes('protected-private-key') ? 'protected-private-key' : 'private-key';
    const start = findKeyFileSexp(bytes);
    positives.push({
      name: `agent key file ${kind} (extended) ${name}`,
      path: `root/.gnupg/private-keys-v1.d/${name}`,
      bytes,
      expected: [{ detector: 'gnupg-agent-key-file', kind, offset: start, keygrips: [grip], matches: signing.keygrips.includes(grip) }],
    });
    const parsed = readKeyFileExpression(bytes, start);
    if (parsed.kind === 'ok') {
      const canonical = Buffer.from(formatCanonicalSexp(parsed.value));
      positives.push({
        name: `agent key file ${kind} (canonical S-expression) ${name}`,
        bytes: canonical,
        expected: [{ detector: 'gnupg-agent-key-file', kind: `${kind}-sexp`, offset: 0, keygrips: [grip] }],
      });
    }
  }

  const sshEd = join(work, 'id_ed25519');
  const sshRsa = join(work, 'id_rsa');
  await execa('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-f', sshEd]);
  await execa('ssh-keygen', ['-q', '-t', 'rsa', '-b', '2048', '-N', 'a passphrase', '-f', sshRsa]);
  positives.push({ name: 'OpenSSH ed25519 key', bytes: await readFile(sshEd), expected: [{ detector: 'openssh-private-key', kind: 'openssh', offset: 0 }] });
  positives.push({ name: 'OpenSSH RSA key, encrypted', bytes: await readFile(sshRsa), expected: [{ detector: 'openssh-private-key', kind: 'openssh', offset: 0 }] });
  // A CRLF file put in a JSON string: the BEGIN line ends in an escaped \r\n, not \n.
  const sshCrlfJson = JSON.stringify({ key: (await readFile(sshEd, 'latin1')).replace(/\n/g, '\r\n') });
  positives.push({
    name: 'OpenSSH key with CRLF lines, JSON-escaped',
    bytes: Buffer.from(sshCrlfJson),
    expected: [{ detector: 'openssh-private-key', kind: 'json-escaped-openssh', offset: sshCrlfJson.indexOf('-----BEGIN') }],
  });
  const pkcs1 = (await execa('openssl', ['genrsa', '-traditional', '2048'])).stdout;
  const legacyEncrypted = (await execa('openssl', ['genrsa', '-traditional', '-aes128', '-passout', 'pass:secret', '2048'])).stdout;
  const sec1 = (await execa('openssl', ['ecparam', '-name', 'prime256v1', '-genkey', '-noout'])).stdout;
  const ec = generateKeyPairSync('ec', { namedCurve: 'P-384' });
  const pkcs8 = ec.privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();
  const encryptedPkcs8 = ec.privateKey.export({ type: 'pkcs8', format: 'pem', cipher: 'aes-256-cbc', passphrase: 'secret' }).toString();
  positives.push({ name: 'PEM RSA PRIVATE KEY (PKCS#1)', bytes: Buffer.from(pkcs1), expected: [{ detector: 'pem-private-key', kind: 'pem-rsa', offset: 0 }] });
  positives.push({ name: 'PEM legacy encrypted RSA key', bytes: Buffer.from(legacyEncrypted), expected: [{ detector: 'pem-private-key', kind: 'pem-rsa', offset: 0 }] });
  positives.push({ name: 'PEM EC PRIVATE KEY (SEC1)', bytes: Buffer.from(sec1), expected: [{ detector: 'pem-private-key', kind: 'pem-ec', offset: 0 }] });
  const sec1CrlfJson = JSON.stringify({ key: sec1.replace(/\n/g, '\r\n') });
  positives.push({
    name: 'PEM EC key with CRLF lines, JSON-escaped',
    bytes: Buffer.from(sec1CrlfJson),
    expected: [{ detector: 'pem-private-key', kind: 'pem-ec', offset: sec1CrlfJson.indexOf('-----BEGIN') }],
  });
  positives.push({ name: 'PEM PKCS#8 (node crypto)', bytes: Buffer.from(`key: |\n${pkcs8}`), expected: [{ detector: 'pem-private-key', kind: 'pem-pkcs8', offset: 7 }] });
  positives.push({ name: 'PEM ENCRYPTED PRIVATE KEY (PKCS#8)', bytes: Buffer.from(encryptedPkcs8), expected: [{ detector: 'pem-private-key', kind: 'pem-encrypted', offset: 0 }] });

  // Negative controls: public material, keyrings, random bytes, binaries, bare markers, stubs.
  const publicArmored = await home.gpg(['--armor', '--export']);
  const publicBinary = await home.gpg(['--export']);
  await publicHome.gpg(['--import'], publicBinary);
  const signature = await home.gpg(['--local-user', signingFpr, '--detach-sign'], 'hello');
  const armoredSignature = await home.gpg(['--local-user', signingFpr, '--armor', '--clearsign'], 'hello');
  const negatives: Fixtures['negatives'] = [
    { name: 'armored public keys', bytes: publicArmored },
    { name: 'binary public keys', bytes: publicBinary },
    { name: 'pubring.kbx with only public keys', bytes: await readFile(join(publicHome.dir, 'pubring.kbx')) },
    { name: 'trustdb.gpg', bytes: await readFile(join(publicHome.dir, 'trustdb.gpg')) },
    { name: 'detached signature', bytes: signature },
    { name: 'clearsigned text', bytes: armoredSignature },
    { name: 'the gpg binary', bytes: gpgBinary },
    { name: 'empty file', bytes: Buffer.alloc(0) },
    { name: 'bare armored marker', bytes: Buffer.from('-----BEGIN PGP PRIVATE KEY BLOCK-----\n\n-----END PGP PRIVATE KEY BLOCK-----\n'), notes: /marker/ },
    {
      name: 'marker in documentation',
      bytes: Buffer.from('Never commit a file that starts with -----BEGIN PGP PRIVATE KEY BLOCK----- or -----BEGIN OPENSSH PRIVATE KEY-----.\n'),
      notes: /marker/,
    },
    { name: 'public SSH key', bytes: await readFile(`${sshEd}.pub`) },
  ];
  for (const keyring of ['debian-archive-keyring.gpg', 'debian-archive-bookworm-stable.gpg']) {
    negatives.push({ name: `/usr/share/keyrings/${keyring}`, bytes: await readFile(`/usr/share/keyrings/${keyring}`).catch(() => Buffer.alloc(0)) });
  }
  // A smartcard stub: the shadowed form gpg-agent writes for keys on a card (built from a real public key).
  const grip = signing.keygrips[0]!;
  const ed = (await home.keyFiles()).get(`${grip}.key`)!.toString('latin1');
  const q = /\(q\s*#([0-9A-F\s]+)#\)/.exec(ed)![1]!.replace(/\s+/g, '');
  negatives.push({
    name: 'shadowed-private-key (smartcard stub)',
    bytes: Buffer.from(
      `Created: 20240101T000000\nKey: (shadowed-private-key (ecc (curve Ed25519)(flags eddsa)(q #${q}#)\n (shadowed t1-v1 (#D2760001240103040006123456780000# OPENPGP.1))))\n`,
    ),
    notes: /shadowed/,
  });

  return {
    positives,
    negatives,
    known: [signing],
    signing,
    signingArmored,
    signingBinary,
    async close() {
      await home.close();
      await publicHome.close();
      await rm(work, { recursive: true, force: true });
    },
  };
}
