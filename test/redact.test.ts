import test from 'ava';
import { redact, registerSecret, clearRegisteredSecrets } from '../src/redact.js';
import { EicBuildError, formatError } from '../src/errors.js';

test.afterEach(() => clearRegisteredSecrets());

test('a registered secret is censored, also in base64', (t) => {
  registerSecret('correct horse battery staple');
  const b64 = Buffer.from('correct horse battery staple').toString('base64');
  t.is(redact(`pass=correct horse battery staple and ${b64}`), 'pass=[REDACTED] and [REDACTED]');
});

test('an armored private key block is censored even when not registered', (t) => {
  const text = 'x -----BEGIN PGP PRIVATE KEY BLOCK-----\n\nlQVYBGabc\n=abcd\n-----END PGP PRIVATE KEY BLOCK----- y';
  const out = redact(text);
  t.false(out.includes('lQVYBGabc'));
  t.true(out.includes('-----BEGIN PGP PRIVATE KEY BLOCK-----'));
  t.true(out.endsWith(' y'));
});

test('a JSON-escaped private key is censored', (t) => {
  const out = redact('{"k":"-----BEGIN OPENSSH PRIVATE KEY-----\\nb3BlbnNzaC1rZXk\\n-----END OPENSSH PRIVATE KEY-----"}');
  t.false(out.includes('b3BlbnNzaC1rZXk'));
});

test('a GnuPG key file body is censored', (t) => {
  const out = redact('Key: (private-key (rsa (n #00C0FFEE#)(d #1234#)))');
  t.false(out.includes('C0FFEE'));
});

test('errors are redacted and carry a hint', (t) => {
  registerSecret('hunter2hunter2');
  const error = new EicBuildError('key-invalid', 'bad key hunter2hunter2', { hint: 'fix hunter2hunter2' });
  t.is(formatError(error), 'error: bad key [REDACTED]\nhint: fix [REDACTED]');
});

test('a path naming private-keys-v1.d is not mistaken for a key body', (t) => {
  const text = 'found in (root/.gnupg/private-keys-v1.d/AB.key) layer 2 (sha256:1234)';
  t.is(redact(text), text);
});

test('a canonical S-expression key is censored up to its balancing parenthesis only', (t) => {
  const out = redact('before (21:protected-private-key(3:rsa(1:n3:abc))) after (x)');
  t.is(out, 'before (protected-private-key [REDACTED]) after (x)');
  // a parenthesis inside a quoted string or a canonical atom is data, not the end of the key
  t.is(redact('Key: (protected-private-key (ecc (q #40#)(protected x ((sha1 "a)b\\")") #01#)))) after (y)'), 'Key: (protected-private-key [REDACTED]) after (y)');
  t.is(redact('(11:private-key(3:ecc(1:q1:))(1:d2:))))) after'), '(private-key [REDACTED]) after');
});

test('a canonical key decoded as UTF-8 (a binary atom is fewer characters than its length says) is censored to the end, never ended early', (t) => {
  // The 2-byte atom C3 A9 reads as one character "é": skipping 2 characters would pass over the "(" after it,
  // the balance would close one list early and show the next atom. Where the key ends cannot be known: all of it goes.
  const text = Buffer.from([...Buffer.from('(11:private-key(1:a2:'), 0xc3, 0xa9, ...Buffer.from('(1:b1:x))(1:d6:SECRET)) after')]).toString('utf8');
  t.is(redact(`before ${text}`), 'before (private-key [REDACTED])');
  // ASCII atoms are bytes one for one: those are still followed exactly.
  t.is(redact('(11:private-key(1:a2:(((1:b1:x))(1:d6:SECRET)) after'), '(private-key [REDACTED]) after');
});

test('a PuTTY .ppk in one text: the lines after Private-Lines: N are censored, the rest stays', (t) => {
  const ppk = [
    'PuTTY-User-Key-File-2: ssh-rsa',
    'Public-Lines: 1',
    'AAAAB3NzaC1yc2EPublic',
    'Private-Lines: 2',
    'AAAAgQPrivateLineOne',
    'AAAAQQPrivateLineTwo',
    'Private-MAC: 0123',
    '',
  ].join('\n');
  const shown = redact(ppk);
  t.false(shown.includes('PrivateLineOne'));
  t.false(shown.includes('PrivateLineTwo'));
  t.true(shown.includes('AAAAB3NzaC1yc2EPublic'));
  t.true(shown.includes('Private-Lines: 2\n[REDACTED]\nPrivate-MAC: 0123'));
});

test('a registered secret is censored in base64 wrapped at 64 or 76 columns too', (t) => {
  clearRegisteredSecrets();
  const secret = 'a registered secret long enough that its base64 wraps over more than one line of output, twice over';
  registerSecret(secret);
  const base64 = Buffer.from(secret, 'utf8').toString('base64');
  for (const width of [64, 76]) {
    const wrapped = base64.match(new RegExp(`.{1,${width}}`, 'g'))!.join('\n');
    const shown = redact(wrapped);
    t.false(shown.includes(base64.slice(0, width)), `width ${width}`);
    t.false(shown.includes(base64.slice(width, 2 * width)), `width ${width}`);
  }
  clearRegisteredSecrets();
});

test('a PuTTY .ppk escaped in a JSON string (LF and CRLF): the pieces after Private-Lines: N are censored, the rest stays', (t) => {
  const ppk = [
    'PuTTY-User-Key-File-3: ssh-ed25519',
    'Encryption: none',
    'Comment: ci',
    'Public-Lines: 1',
    'AAAAC3NzaC1lZDI1NTE5Public',
    'Private-Lines: 2',
    'AAAAIPrivateLineOne',
    'AAAAIPrivateLineTwo',
    'Private-MAC: 0123',
    '',
  ];
  for (const eol of ['\n', '\r\n']) {
    const json = JSON.stringify({ key: ppk.join(eol), user: 'ci' });
    const shown = redact(json);
    t.false(shown.includes('PrivateLineOne'), JSON.stringify(eol));
    t.false(shown.includes('PrivateLineTwo'), JSON.stringify(eol));
    t.true(shown.includes('AAAAC3NzaC1lZDI1NTE5Public') && shown.includes('Private-MAC: 0123') && shown.endsWith('"user":"ci"}'), shown);
  }
  // a string that ends before N pieces: censored to the end of the string, not past it
  t.is(redact('{"k":"Private-Lines: 3\\nAAAAIPrivateLineOne","v":"shown"}'), '{"k":"Private-Lines: 3\\n[REDACTED]","v":"shown"}');
});
