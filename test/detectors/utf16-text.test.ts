// Armored keys in UTF-16 text, as PowerShell's `>` redirection writes them: made with the real
// `iconv -f UTF-8 -t UTF-16LE` (plus a BOM, as PowerShell 5 writes it), UTF-16 (iconv's BOM + LE)
// and UTF-16BE, from a key gpg generates at run time; the public export is the negative control.
import test from 'ava';
import { execa } from 'execa';
import type { ContentScanResult, KeyIdentity } from '../../src/detectors/index.js';
import { deriveKeyIdentity } from '../../src/pgp/index.js';
import { createRandom, fuzzSeed } from '../helpers/seeded-random.js';
import { createGpgHome, type GpgHome } from '../pgp/gpg-fixtures.js';
import { scanInChunks } from './scan-in-chunks.js';

let home: GpgHome;
let secret: string;
let publicKey: string;
let identity: KeyIdentity;
test.before(async () => {
  home = await createGpgHome();
  const fpr = await home.generate('UTF-16 Test <u16@example.invalid>', 'ed25519');
  secret = (await home.gpg(['--armor', '--export-secret-keys', fpr])).toString('latin1');
  publicKey = (await home.gpg(['--armor', '--export', fpr])).toString('latin1');
  identity = deriveKeyIdentity(secret);
});
test.after.always(async () => {
  await home?.close();
});

async function iconv(text: string, to: string): Promise<Buffer> {
  const { stdout } = await execa('iconv', ['-f', 'UTF-8', '-t', to], { input: text, encoding: 'buffer' });
  return Buffer.from(stdout);
}

/** A PowerShell transcript around the key: text before and after, CRLF line ends. */
function transcript(armored: string): string {
  return `PS C:\\> gpg --armor --export-secret-keys\r\n${armored.replace(/\n/g, '\r\n')}PS C:\\> exit\r\n`;
}

function scanChunked(bytes: Uint8Array, sizes: (() => number) | null): ContentScanResult {
  return scanInChunks(bytes, { path: 'key.txt', knownKeys: [identity] }, sizes);
}

const encodings: Array<{ name: string; make: (text: string) => Promise<Buffer> }> = [
  { name: 'UTF-16LE with a BOM (PowerShell 5 `>`)', make: async (text) => Buffer.concat([Buffer.from([0xff, 0xfe]), await iconv(text, 'UTF-16LE')]) },
  { name: 'UTF-16LE without a BOM', make: (text) => iconv(text, 'UTF-16LE') },
  { name: 'UTF-16 (iconv: BOM and LE)', make: (text) => iconv(text, 'UTF-16') },
  { name: 'UTF-16BE', make: (text) => iconv(text, 'UTF-16BE') },
];

for (const encoding of encodings) {
  test(`[integration] an armored secret key in ${encoding.name} is found at any byte alignment, whole, byte by byte and in random chunks`, async (t) => {
    const encoded = await encoding.make(transcript(secret));
    const random = createRandom(fuzzSeed());
    for (let shift = 0; shift < 4; shift++) {
      const bytes = Buffer.concat([Buffer.from('\x00\x01\x02'.slice(0, shift), 'latin1'), encoded]);
      const chunkings: Array<(() => number) | null> = [null, () => 1, () => 1 + random.int(97), () => 1 + random.int(9000)];
      for (const sizes of chunkings) {
        const result = scanChunked(bytes, sizes);
        t.is(result.findings.length, 1, `shift ${shift} seed ${random.seed}: ${JSON.stringify(result)}`);
        const finding = result.findings[0]!;
        t.is(finding.detector, 'pgp-armored-private-key');
        t.is(finding.kind, 'utf16-armored-crlf');
        t.deepEqual(finding.fingerprints, identity.fingerprints);
        t.true(finding.matchesPublicKey);
        // The offset is where the BEGIN line's first `-` byte sits in the file.
        const begin = bytes.indexOf(Buffer.from('-\0-\0-\0-\0-\0B', 'latin1'));
        t.is(finding.offset, begin);
        const body = secret.split('\n').filter((line) => line.length >= 40 && !line.startsWith('-----'));
        for (const line of body) t.false((finding.excerpt + finding.message).includes(line.slice(0, 16)), 'no key bytes in the report');
        t.is(finding.message.split('secret half').length, 2, 'said once');
      }
    }
  });

  test(`[integration] the public key in ${encoding.name} is no finding (negative control)`, async (t) => {
    const result = scanChunked(await encoding.make(transcript(publicKey)), null);
    t.deepEqual(result.findings, []);
  });
}

test('[integration] two keys in one UTF-16 file are both found; a bare UTF-16 marker is a note, not a finding', async (t) => {
  const two = await iconv(`${secret}\n${secret.replace('-----BEGIN', 'x-----BEGIN').slice(1)}`, 'UTF-16LE');
  t.is(scanChunked(two, null).findings.length, 2);
  const bare = scanChunked(await iconv('-----BEGIN PGP PRIVATE KEY BLOCK-----\nnot a key\n-----END PGP PRIVATE KEY BLOCK-----\n', 'UTF-16LE'), null);
  t.deepEqual(bare.findings, []);
  t.true(bare.notes.some((note) => /in UTF-16 text/.test(note.message)));
});

test('[integration] a UTF-16 key cut inside its first key packet is a note naming UTF-16 text, never silence and never a finding', async (t) => {
  const encoded = await iconv(secret, 'UTF-16LE');
  // 60 base64 characters after the armor header: 45 bytes, less than an Ed25519 secret key packet.
  const result = scanChunked(encoded.subarray(0, 2 * (secret.indexOf('\n\n') + 2 + 60)), () => 333);
  t.deepEqual(result.findings, []);
  t.true(
    result.notes.some((note) => note.detector === 'pgp-armored-private-key' && /in UTF-16 text/.test(note.message)),
    JSON.stringify(result.notes),
  );
});
