import test from 'ava';
import { execa } from 'execa';
import * as openpgp from 'openpgp';
import { createContentScanner } from '../../src/detectors/index.js';

async function freshArmoredKey(name: string): Promise<{ armored: string; fingerprint: string }> {
  const { privateKey } = await openpgp.generateKey({ type: 'ecc', curve: 'curve25519Legacy', userIDs: [{ name }], format: 'armored' });
  const key = await openpgp.readPrivateKey({ armoredKey: privateKey });
  return { armored: privateKey, fingerprint: key.getFingerprint().toUpperCase() };
}

/** What coreutils `base64` writes (76-column lines, '=' padding). */
async function base64Tool(text: string): Promise<string> {
  return (await execa('base64', { input: text })).stdout;
}

test('two base64-encoded keys one after the other in one file are both findings (each text decoded on its own)', async (t) => {
  const [a, b] = await Promise.all([freshArmoredKey('a'), freshArmoredKey('b')]);
  // Keys whose base64 text ends in padding: the decoder of the whole run stopped at the first '='.
  const texts = await Promise.all([base64Tool(a.armored), base64Tool(b.armored)]);
  t.true(texts[0]!.endsWith('='), 'the first text is padded (the case under test)');
  for (const separator of ['\n', '\n\n', '']) {
    const scanner = createContentScanner({ path: 'etc/keys.b64', knownKeys: [] });
    scanner.write(Buffer.from(texts.join(separator)));
    const result = scanner.end();
    const found = result.findings.flatMap((f) => f.fingerprints);
    t.true(found.includes(a.fingerprint) && found.includes(b.fingerprint), `separator ${JSON.stringify(separator)}: ${JSON.stringify(found)}`);
  }
});

test('a base64 text with "LS0t" before the key (a YAML "---" line, or by chance mid-group) still decodes to the key', async (t) => {
  const { armored, fingerprint } = await freshArmoredKey('c');
  // "---\n" encodes to "LS0tCg": the run's first LS0t is not the key's. "abKKKx" encodes to "YWJLS0t4": an LS0t
  // across two groups, so the run's first candidate is not even aligned with its groups.
  for (const before of ['---\nkind: Secret\n', 'notes\n---\n', 'abKKKx\n', '']) {
    const encoded = Buffer.from(`${before}${armored}`).toString('base64');
    t.true(encoded.includes('LS0t'));
    const scanner = createContentScanner({ path: 'etc/config.yaml', knownKeys: [] });
    scanner.write(Buffer.from(`data:\n  key: ${encoded}\n`));
    const result = scanner.end();
    t.deepEqual(
      result.findings.map((f) => [f.kind, f.fingerprints[0]]),
      [['base64-armored', fingerprint]],
      JSON.stringify(before),
    );
  }
});
