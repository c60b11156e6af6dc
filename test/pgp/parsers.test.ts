import test from 'ava';
import { formatCanonicalSexp, identifyGnupgKeyFile, parseGnupgKeyFile, parseSexp } from '../../src/pgp/index.js';

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
