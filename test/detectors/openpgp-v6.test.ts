// OpenPGP v6 secret keys (RFC 9580) made at run time with OpenPGP.js 6 (`v6Keys: true`): armored and
// binary, unprotected, and passphrase-protected with the default S2K and with Argon2 + AEAD. Their
// identity (v6 fingerprint = SHA-256 over 0x9B, a four-octet length and the public key body) is
// computed by src/pgp and compared with OpenPGP.js's own. GnuPG 2.5 (the first GnuPG that writes v6
// keys) is not on this machine, so OpenPGP.js is the one real v6 writer here.
import test from 'ava';
import * as openpgp from 'openpgp';
import type { ContentScanResult } from '../../src/detectors/index.js';
import { deriveKeyIdentity } from '../../src/pgp/index.js';
import { createRandom, fuzzSeed } from '../helpers/seeded-random.js';
import { scanInChunks } from './scan-in-chunks.js';

type Made = { armored: string; binary: Buffer; publicArmored: string; publicBinary: Buffer; fingerprints: string[] };

async function makeV6(type: 'curve25519' | 'rsa', protection: 'none' | 'default' | 'argon2'): Promise<Made> {
  const config: Partial<openpgp.Config> = protection === 'argon2' ? { v6Keys: true, aeadProtect: true, s2kType: openpgp.enums.s2k.argon2 } : { v6Keys: true };
  const { privateKey, publicKey } = await openpgp.generateKey({
    type,
    rsaBits: 2048,
    userIDs: [{ name: 'v6 test', email: 'v6@example.invalid' }],
    format: 'object',
    ...(protection === 'none' ? {} : { passphrase: 'correct horse' }),
    config,
  });
  const fingerprints = [privateKey, ...privateKey.getSubkeys()].map((key) => key.getFingerprint().toUpperCase());
  return { armored: privateKey.armor(), binary: Buffer.from(privateKey.write()), publicArmored: publicKey.armor(), publicBinary: Buffer.from(publicKey.write()), fingerprints };
}

function scan(bytes: Uint8Array, knownKeys = [deriveKeyIdentity(bytes)], sizes: (() => number) | null = null): ContentScanResult {
  return scanInChunks(bytes, { path: null, knownKeys }, sizes);
}

const cases: Array<{ type: 'curve25519' | 'rsa'; protection: 'none' | 'default' | 'argon2' }> = [
  { type: 'curve25519', protection: 'none' },
  { type: 'curve25519', protection: 'default' },
  { type: 'curve25519', protection: 'argon2' },
  { type: 'rsa', protection: 'none' },
  { type: 'rsa', protection: 'argon2' },
];

for (const { type, protection } of cases) {
  test(`OpenPGP.js v6 ${type} key (${protection === 'none' ? 'no passphrase' : `passphrase, ${protection} S2K`}): armored and binary found with SHA-256 fingerprints; the public key is no finding`, async (t) => {
    const made = await makeV6(type, protection);
    t.deepEqual(deriveKeyIdentity(made.publicArmored).fingerprints, made.fingerprints, 'src/pgp computes the v6 fingerprints OpenPGP.js prints');
    const known = [deriveKeyIdentity(made.publicArmored)];
    const armored = scan(Buffer.from(made.armored), known);
    t.is(armored.findings.length, 1, JSON.stringify(armored));
    t.deepEqual(armored.findings[0]!.fingerprints, made.fingerprints);
    t.true(armored.findings[0]!.matchesPublicKey);
    t.regex(armored.findings[0]!.message, protection === 'none' ? /not passphrase-protected/ : /passphrase-protected \(still a leak/);
    // Binary: one finding per secret packet (primary and subkey), at their offsets, in any chunking.
    const random = createRandom(fuzzSeed());
    const prefix = random.bytes(37);
    const bytes = Buffer.concat([prefix, made.binary, random.bytes(50)]);
    for (const sizes of [null, () => 1, () => 1 + random.int(500)]) {
      const binary = scan(bytes, known, sizes);
      t.deepEqual(
        binary.findings.map((f) => [f.kind, f.fingerprints[0]]),
        [
          ['secret-key-packet', made.fingerprints[0]],
          ['secret-subkey-packet', made.fingerprints[1]],
        ],
        `seed ${random.seed}`,
      );
      t.is(binary.findings[0]!.offset, prefix.length);
      t.true(binary.findings.every((f) => f.matchesPublicKey && /v6/.test(f.excerpt)));
    }
    t.deepEqual(scan(Buffer.from(made.publicArmored), known).findings, []);
    t.deepEqual(scan(made.publicBinary, known).findings, []);
  });
}
