// The nested decoders (base64-wrapped, UTF-16) as plug-ins: several blocks of one form in one chunk
// are each decoded (a form's region ends when its capture completes, not when the chunk is done).
import test from 'ava';
import * as openpgp from 'openpgp';
import { createContentScanner, CONTENT_DETECTORS, DETECTORS } from '../../src/detectors/index.js';

async function armoredKey(name: string): Promise<string> {
  const { privateKey } = await openpgp.generateKey({ type: 'ecc', curve: 'curve25519Legacy', userIDs: [{ name }], format: 'armored' });
  return privateKey;
}

test('two base64-wrapped keys in one chunk are both found (YAML values side by side)', async (t) => {
  const a = await armoredKey('a');
  const b = await armoredKey('b');
  const yaml = `first: ${Buffer.from(a).toString('base64')}\nsecond: ${Buffer.from(b).toString('base64')}\n`;
  const scanner = createContentScanner({ path: null, knownKeys: [] });
  scanner.write(Buffer.from(yaml));
  const { findings } = scanner.end();
  t.deepEqual(
    findings.map((f) => f.kind),
    ['base64-armored', 'base64-armored'],
  );
  t.notDeepEqual(findings[0]!.fingerprints, findings[1]!.fingerprints);
});

test('a key both UTF-16 and base64-wrapped inside is found once, through both decoders', async (t) => {
  const a = await armoredKey('c');
  const inner = `-----BEGIN NOTE-----\nsecret: ${Buffer.from(a).toString('base64')}\n-----END NOTE-----\n`;
  const scanner = createContentScanner({ path: null, knownKeys: [] });
  scanner.write(Buffer.from(inner, 'utf16le'));
  const { findings } = scanner.end();
  t.deepEqual(
    findings.map((f) => f.kind),
    ['utf16-base64-armored'],
  );
});

test('the registry: decoders carry no report identity; every reporting detector is in DETECTORS once', (t) => {
  const decoders = CONTENT_DETECTORS.filter((detector) => detector.info === null).map((detector) => detector.id);
  t.deepEqual(decoders.sort(), ['base64-wrapped', 'utf16-text']);
  t.deepEqual(
    DETECTORS.map((info) => info.id),
    CONTENT_DETECTORS.flatMap((detector) => (detector.info ? [detector.id] : [])),
  );
  for (const detector of CONTENT_DETECTORS) t.true(detector.triggers.length > 0 && detector.triggers.every((trigger) => trigger.at >= 1 && trigger.at <= 15), detector.id);
});
