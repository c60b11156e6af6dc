import test from 'ava';
import { normaliseKeyText, parseKeyText } from '../../src/keys/parse-key-text.js';
import { readPacketHeader } from '../../src/pgp/packet-header.js';

// Shapes only: these bodies are not keys, and no key is ever committed.
const PRIVATE = '-----BEGIN PGP PRIVATE KEY BLOCK-----\n\nxVgEZ0000\n=abcd\n-----END PGP PRIVATE KEY BLOCK-----';
const PUBLIC = '-----BEGIN PGP PUBLIC KEY BLOCK-----\n\nxjMEZ0000\n=abcd\n-----END PGP PUBLIC KEY BLOCK-----';
const b64 = (text: string) => Buffer.from(text, 'utf8').toString('base64');

test('armored secret key text', (t) => {
  t.deepEqual(parseKeyText(PRIVATE), { kind: 'armored', armored: `${PRIVATE}\n`, block: 'private', encoding: 'text' });
});

test('armored public key text', (t) => {
  const parsed = parseKeyText(PUBLIC);
  t.is(parsed.kind, 'armored');
  t.is(parsed.kind === 'armored' && parsed.block, 'public');
});

test('base64 of armored text, also wrapped over several lines', (t) => {
  const single = parseKeyText(b64(PRIVATE));
  t.deepEqual(single, { kind: 'armored', armored: `${PRIVATE}\n`, block: 'private', encoding: 'base64' });
  const wrapped = b64(PRIVATE).replace(/(.{20})/g, '$1\n');
  t.deepEqual(parseKeyText(wrapped), single);
});

test('CRLF line ends, literal \\n escapes and a label before BEGIN are tolerated', (t) => {
  t.deepEqual(parseKeyText(PRIVATE.replace(/\n/g, '\r\n')), parseKeyText(PRIVATE));
  t.deepEqual(parseKeyText(PRIVATE.replace(/\n/g, '\\n')), parseKeyText(PRIVATE));
  const labelled = parseKeyText(`my key:\n${PRIVATE}`);
  t.is(labelled.kind === 'armored' && labelled.armored, `${PRIVATE}\n`);
});

/** A packet header + version 4 + filler: the shape of a binary key, not a key. */
function packet(header: number[], bodyLength: number): Uint8Array {
  return Uint8Array.from([...header, 4, ...new Array<number>(bodyLength - 1).fill(0)]);
}

test('binary keys by their first packet tag, raw or in base64', (t) => {
  const oldSecret = packet([0x95, 0x00, 0x20], 0x20);
  const newSecret = packet([0xc5, 0x20], 0x20);
  const oldPublic = packet([0x99, 0x00, 0x20], 0x20);
  t.is(readPacketHeader(oldSecret, 0)?.tag, 5);
  t.is(readPacketHeader(newSecret, 0)?.tag, 5);
  t.is(readPacketHeader(oldPublic, 0)?.tag, 6);
  t.deepEqual(parseKeyText(oldSecret), { kind: 'binary', block: 'private', encoding: 'raw' });
  t.deepEqual(parseKeyText(oldPublic), { kind: 'binary', block: 'public', encoding: 'raw' });
  t.deepEqual(parseKeyText(Buffer.from(newSecret).toString('base64')), { kind: 'binary', block: 'private', encoding: 'base64' });
});

test('a truncated packet or a wrong version is not taken for a binary key', (t) => {
  t.is(parseKeyText(packet([0x95, 0x01, 0x00], 0x20)).kind, 'not-a-key');
  t.is(parseKeyText(Uint8Array.from([0xc5, 0x08, 9, 0, 0, 0, 0, 0, 0, 0])).kind, 'not-a-key');
});

test('bytes of armored text (a key file) are read as text', (t) => {
  t.deepEqual(parseKeyText(new TextEncoder().encode(PRIVATE)), parseKeyText(PRIVATE));
});

const notKeys: Array<[string, string, string]> = [
  ['empty', '', 'empty'],
  ['whitespace', '  \n ', 'empty'],
  ['a PGP message', '-----BEGIN PGP MESSAGE-----\n\nabc\n-----END PGP MESSAGE-----', 'pgp-message'],
  ['clearsigned text', '-----BEGIN PGP SIGNED MESSAGE-----\nHash: SHA256\n\nhi', 'pgp-signature'],
  ['a detached signature', '-----BEGIN PGP SIGNATURE-----\n\nabc', 'pgp-signature'],
  ['an ARMORED FILE from gpg --enarmor', '-----BEGIN PGP ARMORED FILE-----\n\nabc', 'other-armor'],
  ['an OpenSSH key', '-----BEGIN OPENSSH PRIVATE KEY-----\nb3Blbn\n-----END OPENSSH PRIVATE KEY-----', 'pem-or-ssh'],
  ['an SSH public key', 'ssh-ed25519 AAAAC3Nza user@host', 'pem-or-ssh'],
  ['a fingerprint', 'AAAABBBBCCCCDDDDEEEEFFFF0000111122223333', 'unknown'],
  ['base64 of something else', b64('hello world, not a key'), 'unknown'],
  ['prose', 'my signing key', 'unknown'],
];

for (const [title, input, reason] of notKeys) {
  test(`not a key: ${title}`, (t) => {
    t.deepEqual(parseKeyText(input), { kind: 'not-a-key', reason });
  });
}

test('normaliseKeyText leaves real newlines alone when the text also has a literal \\n', (t) => {
  t.is(normaliseKeyText('a\\nb\nc'), 'a\\nb\nc');
  t.is(normaliseKeyText('a\\nb'), 'a\nb');
});
