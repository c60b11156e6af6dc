import test from 'ava';
import { randomBytes } from 'node:crypto';
import { findKeyFileSexp, formatCanonicalSexp, identifyGnupgKeyFile, parseGnupgKeyFile, parseSexp } from '../../src/pgp/index.js';

test('S-expressions: canonical and advanced forms parse to the same tree; cut-off data is incomplete, garbage invalid', (t) => {
  const advanced = Buffer.from('(private-key (rsa (n #00C0FFEE#)(e #010001#) (label "a \\"b\\"") (x |AQID|)))');
  const parsed = parseSexp(advanced);
  if (parsed.kind !== 'ok') return t.fail(parsed.kind);
  const canonical = formatCanonicalSexp(parsed.value);
  t.is(Buffer.from(canonical).toString('latin1').slice(0, 22), '(11:private-key(3:rsa(');
  const again = parseSexp(canonical);
  t.deepEqual(again.kind === 'ok' ? formatCanonicalSexp(again.value) : null, canonical);
  for (let cut = 1; cut < advanced.length; cut++) t.is(parseSexp(advanced.subarray(0, cut)).kind, 'incomplete', `cut at ${cut}`);
  for (let cut = 1; cut < canonical.length; cut++) t.is(parseSexp(canonical.subarray(0, cut)).kind, 'incomplete', `canonical cut at ${cut}`);
  t.is(parseSexp(Buffer.from('(a #zz#)')).kind, 'invalid');
  t.is(parseSexp(Buffer.from('x')).kind, 'invalid');
  t.is(parseSexp(Buffer.from('('.repeat(100) + ')'.repeat(100))).kind, 'invalid');
});

test('format strings and half keys are not key files', (t) => {
  for (const text of ['(private-key(rsa(n%m)(e%m)(d%m)(p%m)(q%m)(u%m)))', '(private-key(ecc(curve %s)(q%m)(d%m)))', '(private-key (rsa (n #00C0FFEE#)))']) {
    t.is(parseGnupgKeyFile(Buffer.from(text)).kind, 'invalid', text);
  }
  t.is(identifyGnupgKeyFile(Buffer.from('no key here')), null);
});

// The seeded fuzz loop of these parsers is test/fuzz/targets/pgp.ts.

test('quoted strings take every escape libgcrypt reads: \\xHH, octal, the one-letter ones and a backslash line break', (t) => {
  const parsed = parseSexp(Buffer.from('("\\x00\\x1F\\xf9" "\\101\\000\\377" "\\b\\t\\v\\n\\f\\r\\"\\\'\\\\" "a\\\nb" "a\\\r\nb" "a\\\n\rb")', 'latin1'));
  if (parsed.kind !== 'ok') return t.fail(JSON.stringify(parsed));
  t.deepEqual(
    parsed.value.map((atom) => Buffer.from(atom as Uint8Array).toString('latin1')),
    ['\x00\x1f\xf9', 'A\x00\xff', '\b\t\v\n\f\r"\'\\', 'ab', 'ab', 'ab'],
  );
  for (const bad of ['("\\q")', '("\\x0g")', '("\\8")', '("\\12x")', '("\\777")']) t.is(parseSexp(Buffer.from(bad)).kind, 'invalid', bad);
  for (const cut of ['("\\', '("\\x0', '("\\12']) t.is(parseSexp(Buffer.from(cut)).kind, 'incomplete', cut);
});

test('a protected extended key file whose S2K salt gpg-agent wrote with \\x escapes is a protected key with its keygrip', (t) => {
  // The shape gpg 2.2 writes for an ed25519 key under a passphrase; q and the sealed bytes are random here.
  const q = randomBytes(32).toString('hex').toUpperCase();
  const sealed = randomBytes(80).toString('hex').toUpperCase();
  const file = (salt: string): Buffer =>
    Buffer.from(
      `Created: 20261202T222324\nKey: (protected-private-key (ecc (curve Ed25519)(flags eddsa)(q\n  #40${q}#)\n (protected openpgp-s2k3-ocb-aes ((sha1 ${salt}\n  "65536")#2B6470120E16186B75467F91#)#${sealed}#)(protected-at "20261202T222324")))\n`,
      'latin1',
    );
  const escaped = file('"7\\x00b\xf9m\xfe\xc8"');
  const hex = file('#370062F96DFEC8#');
  const fromEscaped = parseGnupgKeyFile(escaped, findKeyFileSexp(escaped));
  const fromHex = parseGnupgKeyFile(hex, findKeyFileSexp(hex));
  if (fromEscaped.kind !== 'ok' || fromHex.kind !== 'ok') return t.fail(`${fromEscaped.kind} ${fromHex.kind}`);
  t.is(fromEscaped.file.kind, 'protected');
  t.truthy(fromEscaped.file.keygrip);
  t.is(fromEscaped.file.keygrip, fromHex.file.keygrip);
});
