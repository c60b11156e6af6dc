import test from 'ava';
import * as openpgp from 'openpgp';
import { clearRegisteredSecrets, redact, registerSecret } from '../../src/redact.js';
import { generateKey } from '../../src/keys/generate-key.js';
import { printablePublicKey } from '../../src/keys/printable-public-key.js';
import { rewrapArmor } from '../../src/keys/rewrap-armor.js';

test.afterEach.always(() => clearRegisteredSecrets());

test('rewrapArmor keeps headers, data and checksum, and changes only the line width', async (t) => {
  const key = await generateKey();
  const rewrapped = rewrapArmor(key.armoredPublicKey, 40);
  const lines = rewrapped.trim().split('\n');
  t.is(lines[0], '-----BEGIN PGP PUBLIC KEY BLOCK-----');
  t.is(lines.at(-1), '-----END PGP PUBLIC KEY BLOCK-----');
  t.true(lines.slice(2, -2).every((line) => line.length <= 40));
  const a = await openpgp.readKey({ armoredKey: key.armoredPublicKey });
  const b = await openpgp.readKey({ armoredKey: rewrapped });
  t.deepEqual(b.write(), a.write());
});

test('printablePublicKey leaves a key alone when nothing collides, and re-wraps it when secret lines would censor it', async (t) => {
  const key = await generateKey();
  t.is(printablePublicKey(key.armoredPublicKey), key.armoredPublicKey);
  // Simulate the collision an RSA key has with its secret armor: register lines the public key shares.
  const shared = key.armoredPublicKey.split('\n').filter((line) => line.length >= 40 && !line.startsWith('-----'));
  registerSecret(`-----BEGIN PGP PRIVATE KEY BLOCK-----\n\n${shared.join('\n')}\n-----END PGP PRIVATE KEY BLOCK-----`);
  t.not(redact(key.armoredPublicKey), key.armoredPublicKey, 'precondition: the redactor would censor the public key');
  const printable = printablePublicKey(key.armoredPublicKey);
  t.is(redact(printable), printable);
  const parsed = await openpgp.readKey({ armoredKey: printable });
  t.is(parsed.getFingerprint().toUpperCase(), key.fingerprint);
});
