import test from 'ava';
import { randomBytes } from 'node:crypto';
import { createContentScanner, DETECTORS, type ContentFinding, type ContentScanResult, type KeyIdentity } from '../../src/detectors/index.js';
import { makeFixtures, type Fixtures } from './fixtures.js';
import { UNIT_ONLY_RUN } from '../helpers/unit-only.js';

let fixtures: Fixtures;
test.before(async () => {
  // Only the [integration] tests of this file use what follows; a unit-only run selects none of them.
  if (UNIT_ONLY_RUN) return;
  fixtures = await makeFixtures();
});
test.after.always(async () => {
  await fixtures?.close();
});

/** A small seeded PRNG so random chunkings are reproducible. */
function prng(seed: number): () => number {
  return () => {
    seed = (seed + 0x6d2b79f5) | 0;
    let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

type Chunking = 'whole' | 'bytes' | 'random';

function scan(bytes: Uint8Array, chunking: Chunking, knownKeys: KeyIdentity[], path: string | null = null, seed = 1): ContentScanResult {
  const scanner = createContentScanner({ path, knownKeys });
  if (chunking === 'whole') scanner.write(bytes);
  else if (chunking === 'bytes') for (let i = 0; i < bytes.length; i++) scanner.write(bytes.subarray(i, i + 1));
  else {
    const random = prng(seed);
    for (let i = 0; i < bytes.length;) {
      const size = 1 + Math.floor(random() ** 3 * 70000);
      scanner.write(bytes.subarray(i, i + size));
      i += size;
    }
  }
  return scanner.end();
}

/** Windows of 16 characters of the output that also occur in the input, apart from marker lines and S-expression heads. */
function leakedRuns(input: Uint8Array, output: string): string[] {
  const text = Buffer.from(input).toString('latin1');
  const allowed = [
    ...['PGP PRIVATE KEY BLOCK', 'OPENSSH PRIVATE KEY', 'RSA PRIVATE KEY', 'EC PRIVATE KEY', 'PRIVATE KEY', 'ENCRYPTED PRIVATE KEY'].map((type) => `-----BEGIN ${type}-----`),
    ...['rsa', 'ecc', 'dsa', 'elg'].flatMap((alg) => [`(private-key (${alg}`, `(protected-private-key (${alg}`]),
  ];
  const runs: string[] = [];
  for (let i = 0; i + 16 <= output.length; i++) {
    const run = output.slice(i, i + 16);
    // Prose such as "OpenPGP secret key packet" is also in the gpg binary: words with spaces are never key bytes.
    const prose = run.includes(' ') && /^[A-Za-z ().,:-]+$/.test(run);
    if (text.includes(run) && !prose && !allowed.some((line) => line.includes(run))) runs.push(run);
  }
  return runs;
}

function summary(findings: ContentFinding[]) {
  return findings.map((f) => ({ detector: f.detector, kind: f.kind, offset: f.offset, fingerprints: f.fingerprints, keygrips: f.keygrips, matchesPublicKey: f.matchesPublicKey }));
}

test('every detector is data with a stable id, a title, a severity and an existing doc page', async (t) => {
  const { access } = await import('node:fs/promises');
  const ids = new Set<string>();
  for (const detector of DETECTORS) {
    t.regex(detector.id, /^[a-z0-9]+(?:-[a-z0-9]+)*$/);
    t.false(ids.has(detector.id));
    ids.add(detector.id);
    t.is(detector.docs, `docs/detectors/${detector.id}.md`);
    await t.notThrowsAsync(access(new URL(`../../${detector.docs}`, import.meta.url)));
  }
});

test('[integration] every positive control is found, whole, byte by byte and in random chunks, at the right offset, redacted', (t) => {
  t.true(fixtures.positives.length >= 25);
  for (const positive of fixtures.positives) {
    const whole = scan(positive.bytes, 'whole', fixtures.known, positive.path ?? null);
    t.is(whole.findings.length, positive.expected.length, `${positive.name}: ${JSON.stringify(summary(whole.findings))} ${JSON.stringify(whole.notes)}`);
    positive.expected.forEach((expected, index) => {
      const finding = whole.findings[index];
      if (!finding) return;
      t.is(finding.detector, expected.detector, positive.name);
      t.is(finding.kind, expected.kind, positive.name);
      if (expected.offset >= 0) t.is(finding.offset, expected.offset, positive.name);
      if (expected.fingerprints) t.deepEqual(finding.fingerprints, expected.fingerprints, positive.name);
      if (expected.keygrips) t.deepEqual(finding.keygrips, expected.keygrips, positive.name);
      if (expected.matches !== undefined) t.is(finding.matchesPublicKey, expected.matches, positive.name);
      t.true(['critical', 'high'].includes(finding.severity));
      t.regex(finding.excerpt, /\[REDACTED \d+ bytes\]/);
      t.deepEqual(leakedRuns(positive.bytes, `${finding.excerpt}\n${finding.message}`), [], `${positive.name} leaks key bytes`);
    });
    for (const chunking of ['bytes', 'random'] as const) {
      if (chunking === 'bytes' && positive.bytes.length > 200_000) continue;
      const again = scan(positive.bytes, chunking, fixtures.known, positive.path ?? null, positive.bytes.length);
      t.deepEqual(summary(again.findings), summary(whole.findings), `${positive.name} (${chunking})`);
    }
  }
});

test('[integration] the ELF binary with an appended key is also found split into 1-byte chunks near the key', (t) => {
  const positive = fixtures.positives.find((p) => p.name.startsWith('secret key appended'))!;
  const scanner = createContentScanner({ path: 'usr/bin/tool', knownKeys: fixtures.known });
  const keyStart = positive.expected[0]!.offset;
  scanner.write(positive.bytes.subarray(0, keyStart - 3));
  for (let i = keyStart - 3; i < positive.bytes.length; i++) scanner.write(positive.bytes.subarray(i, i + 1));
  const result = scanner.end();
  t.deepEqual(
    result.findings.map((f) => f.offset),
    positive.expected.map((e) => e.offset),
  );
  t.true(result.findings.every((f) => f.matchesPublicKey));
});

test('[integration] matchesPublicKey is false without known keys and names the key otherwise', (t) => {
  const positive = fixtures.positives[0]!;
  t.false(scan(positive.bytes, 'whole', []).findings[0]!.matchesPublicKey);
  const matched = scan(positive.bytes, 'whole', fixtures.known).findings[0]!;
  t.true(matched.matchesPublicKey);
  t.true(matched.message.includes(fixtures.signing.primaryFingerprint));
});

test('[integration] negative controls give no findings (a bare marker or a smartcard stub gives a note)', (t) => {
  for (const negative of fixtures.negatives) {
    for (const chunking of ['whole', 'random'] as const) {
      const result = scan(negative.bytes, chunking, fixtures.known);
      t.deepEqual(summary(result.findings), [], `${negative.name} (${chunking})`);
      if (negative.notes)
        t.true(
          result.notes.some((note) => negative.notes!.test(note.message)),
          `${negative.name}: ${JSON.stringify(result.notes)}`,
        );
      else t.deepEqual(result.notes, [], `${negative.name} notes`);
    }
  }
});

test('[integration] a stripped primary key (gpg --export-secret-subkeys) is noted as a stub, not a leak', (t) => {
  const positive = fixtures.positives.find((p) => p.name.includes('export-secret-subkeys'))!;
  const result = scan(positive.bytes, 'whole', fixtures.known);
  t.is(result.findings.length, 1);
  t.true(result.notes.some((note) => /stub without secret material/.test(note.message)));
});

test('[integration] random bytes give no findings and no notes', (t) => {
  const random = randomBytes(16 << 20);
  const result = scan(random, 'random', fixtures.known);
  t.deepEqual(result.findings, []);
  t.deepEqual(result.notes, []);
});

test('[integration] fuzz: truncated and mutated real keys never crash and never report more keys than exist', (t) => {
  const random = prng(42);
  for (const positive of fixtures.positives) {
    for (let round = 0; round < 12; round++) {
      const bytes = Buffer.from(positive.bytes);
      const cut = Math.floor(random() * bytes.length);
      const mutated = round % 2 === 0 ? bytes.subarray(0, cut) : bytes;
      if (round % 2 === 1) for (let k = 0; k < 4; k++) mutated[Math.floor(random() * mutated.length)] ^= 1 + Math.floor(random() * 255);
      const result = scan(mutated, round % 3 === 0 ? 'whole' : 'random', fixtures.known, null, round);
      t.true(result.findings.length <= positive.expected.length + 1, positive.name);
      for (const finding of result.findings) t.deepEqual(leakedRuns(positive.bytes, `${finding.excerpt}\n${finding.message}`), []);
    }
  }
  for (let round = 0; round < 200; round++) {
    // Garbage built from the markers and headers the scanner looks for.
    const pieces = [
      '-----BEGIN PGP PRIVATE KEY BLOCK-----\n',
      '(private-key',
      '(11:private-key(3:rsa(1:n',
      'LS0tLS1CRUdJTi',
      '\x95\x01\x0d\x04',
      '\xc5\x58\x04',
      '\x94\x20\x04',
      '-----END PGP PRIVATE KEY BLOCK-----',
      'Key: (protected-private-key (rsa (n #00',
      '#)',
      ')',
      '\n',
    ];
    const parts: Buffer[] = [];
    for (let k = 0; k < 30; k++) parts.push(random() < 0.5 ? Buffer.from(pieces[Math.floor(random() * pieces.length)]!, 'latin1') : randomBytes(Math.floor(random() * 64)));
    const result = scan(Buffer.concat(parts), round % 2 === 0 ? 'whole' : 'random', [], null, round);
    t.deepEqual(result.findings, []);
  }
});

test('write after end and double end are programming errors', (t) => {
  const scanner = createContentScanner({ path: null, knownKeys: [] });
  scanner.end();
  t.throws(() => scanner.write(new Uint8Array(1)));
  t.throws(() => scanner.end());
});

test('pathological input stays bounded: many markers without END lines and an endless armored block', (t) => {
  const scanner = createContentScanner({ path: null, knownKeys: [] });
  for (let i = 0; i < 500; i++) scanner.write(Buffer.from(`-----BEGIN PGP PRIVATE KEY BLOCK-----\n${'A'.repeat(2000)}\n`));
  const line = Buffer.from(`${'QUFB'.repeat(16)}\n`);
  for (let i = 0; i < 40000; i++) scanner.write(line); // 2.6 MB of base64 after the last marker
  const result = scanner.end();
  t.deepEqual(result.findings, []);
  t.true(
    result.notes.some((note) => /without an END line|not validated/.test(note.message)),
    JSON.stringify(result.notes.slice(-3)),
  );
  t.true(result.notes.length <= 600);
});

test('[integration] a key file whose name is not its keygrip gets a note besides the finding', (t) => {
  const positive = fixtures.positives.find((p) => p.name.includes('(extended)'))!;
  const result = scan(positive.bytes, 'whole', [], `home/.gnupg/private-keys-v1.d/${'0'.repeat(40)}.key`);
  t.is(result.findings.length, 1);
  t.true(result.notes.some((note) => /does not match the keygrip/.test(note.message)));
});

test('a file named <keygrip>.key that opens as a private key but does not parse is a finding (fail closed); under another name it is not', (t) => {
  // A form the parser does not read (here an escape libgcrypt does not know either) must not pass as clean.
  const bytes = Buffer.from(
    `Created: 20261202T222324\nKey: (protected-private-key (ecc (curve Ed25519)(flags eddsa)(q #40${'AB'.repeat(32)}#)\n (protected openpgp-s2k3-ocb-aes ((sha1 "\\q" "65536")#00#)#00#)))\n`,
    'latin1',
  );
  const grip = 'C0FFEE'.padEnd(40, '0');
  for (const chunking of ['whole', 'bytes'] as const) {
    const named = scan(bytes, chunking, [], `root/.gnupg/private-keys-v1.d/${grip}.key`);
    t.deepEqual(
      named.findings.map((finding) => [finding.detector, finding.kind, finding.keygrips]),
      [['gnupg-agent-key-file', 'unreadable-private-key', [grip]]],
      chunking,
    );
    t.regex(named.findings[0]!.message, /does not parse \(unsupported escape\): treated as a leak/);
    t.deepEqual(scan(bytes, chunking, [], 'usr/share/doc/example.txt').findings, [], chunking);
  }
});
