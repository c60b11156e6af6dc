import test, { type ExecutionContext } from 'ava';
import { createLineRedactor } from '../../src/build/line-redactor.js';
import { createRandom } from '../helpers/seeded-random.js';

/** Feed `lines` to one redactor in order: each [printed, shown] pair is what goes in and what comes out. */
function shows(t: ExecutionContext, redactLine: (line: string) => string, lines: Array<[string, string]>): void {
  for (const [index, [printed, shown]] of lines.entries()) t.is(redactLine(printed), shown, `line ${index + 1}: ${JSON.stringify(printed)}`);
}

test('an armored/PEM block: censored from its BEGIN line to its END line; an unterminated one stays censored', (t) => {
  const redactLine = createLineRedactor();
  shows(t, redactLine, [
    ['-----BEGIN OPENSSH PRIVATE KEY-----\n', '-----BEGIN OPENSSH PRIVATE KEY-----\n[REDACTED]\n'],
    ['b3BlbnNzaC1rZXktdjEAAAAABG5vbmUAAAAEbm9uZQ\n', '[REDACTED]\n'],
    ['short\n', '[REDACTED]\n'],
    ['prefix -----END OPENSSH PRIVATE KEY----- tail\n', '-----END OPENSSH PRIVATE KEY----- tail\n'],
    ['ordinary\n', 'ordinary\n'],
  ]);
  const oneLine = createLineRedactor();
  oneLine('-----BEGIN PRIVATE KEY-----x-----END PRIVATE KEY-----\n');
  t.is(oneLine('ordinary\n'), 'ordinary\n');
  const unterminated = createLineRedactor();
  unterminated('#5 0.2 -----BEGIN RSA PRIVATE KEY-----');
  t.is(unterminated('#5 DONE 0.2s'), '[REDACTED]');
});

test('a GnuPG key S-expression over several lines (an extended-format key file): censored up to its balancing parenthesis', (t) => {
  const redactLine = createLineRedactor();
  shows(t, redactLine, [
    ['Key: (private-key (rsa (n #00C3A1B2#)\n', 'Key: (private-key [REDACTED])\n'],
    [' (e #010001#)(d #5F3E2D1C0B0A09080706050403020100#)\n', '[REDACTED]\n'],
    [' (u #77#)))  # rest of the line\n', '  # rest of the line\n'],
    ['#9 DONE 0.1s\n', '#9 DONE 0.1s\n'],
  ]);
  // a path is not a key, and a balanced key on one line opens nothing
  const other = createLineRedactor();
  t.is(other('COPY private-keys-v1.d/ (ignored)\n'), 'COPY private-keys-v1.d/ (ignored)\n');
  other('(private-key (ecc (q #40#)(d #01#)))\n');
  t.is(other('next line\n'), 'next line\n');
});

test('parentheses inside a quoted string (an S2K salt) or a canonical atom do not end the censoring early', (t) => {
  // gpg-agent writes the salt as a quoted string: a ")" in it is a byte of the salt, not the end of the key.
  const redactLine = createLineRedactor();
  shows(t, redactLine, [
    ['Key: (protected-private-key (ecc (curve Ed25519)(q #40AB#)\n', 'Key: (protected-private-key [REDACTED])\n'],
    [' (protected openpgp-s2k3-ocb-aes ((sha1 "7)\\x00\\")))"\n', '[REDACTED]\n'],
    ['  "65536")#2B64#)#5CF1C9957B355C676B56F57AFBE0C57\n', '[REDACTED]\n'],
    [' 55D35D72034588994#)(protected-at "20261202T222324"))) tail\n', ' tail\n'],
    ['next\n', 'next\n'],
  ]);
  // the canonical form: the 4 bytes after "4:" are data, whatever they are
  const canonical = createLineRedactor();
  shows(t, canonical, [
    ['(11:private-key(3:ecc(1:q2:@A)(1:d4:))))\n', '(private-key [REDACTED])\n'],
    ['more\n', '[REDACTED]\n'],
    ['))) after\n', ' after\n'],
  ]);
});

test('BuildKit steps running at once: the lines of another step neither end nor count towards the censoring of a key', (t) => {
  const redactLine = createLineRedactor();
  t.is(redactLine('#5 0.101 Key: (private-key (rsa (n #00C3A1B2#)\n'), '#5 0.101 Key: (private-key [REDACTED])\n');
  // step 6 prints a closing parenthesis while step 5's key is still open: step 6 is shown, step 5 stays censored
  shows(t, redactLine, [
    ['#6 0.102 (done))\n', '#6 0.102 (done))\n'],
    ['#5 0.103  (d #5F3E2D1C0B0A0908#)\n', '[REDACTED]\n'],
    ['#5 0.104  (u #77#)))\n', '\n'],
    ['#5 0.105 after\n', '#5 0.105 after\n'],
  ]);
  // a PuTTY key's private lines: step 6's lines in between do not use up the count
  const putty = createLineRedactor();
  shows(t, putty, [
    ['#7 0.2 Private-Lines: 2\n', '#7 0.2 Private-Lines: 2\n'],
    ['#8 0.2 unrelated\n', '#8 0.2 unrelated\n'],
    ['#8 0.2 unrelated\n', '#8 0.2 unrelated\n'],
    ['#7 0.2 AAAAB3NzaC1yc2EAAAADAQABAAABAQ\n', '[REDACTED]\n'],
    ['#7 0.2 AAAAgQC8ZxQm1lAAAAB3NzaC1yc2EAAAADAQ\n', '[REDACTED]\n'],
    ['#7 0.2 Private-MAC: 0a1b\n', '#7 0.2 Private-MAC: 0a1b\n'],
  ]);
  // an armored block: step 6 is shown while step 5's block is open, step 5 up to its END line is not
  const block = createLineRedactor();
  block('#5 0.3 -----BEGIN PGP PRIVATE KEY BLOCK-----\n');
  shows(t, block, [
    ['#6 0.3 compiling\n', '#6 0.3 compiling\n'],
    ['#5 0.3 lQOYBGV0ZXN0AQgAxyz\n', '[REDACTED]\n'],
    ['#5 0.3 -----END PGP PRIVATE KEY BLOCK-----\n', '-----END PGP PRIVATE KEY BLOCK-----\n'],
  ]);
});

test('property: however a private key prints over lines (BuildKit prefixes, other output around it), no line of its body is shown', (t) => {
  const random = createRandom(Number(process.env.EIC_BUILD_FUZZ_SEED ?? 0x5eed));
  const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/';
  const word = (length: number) => Array.from({ length }, () => alphabet[random.int(alphabet.length)]).join('');
  for (let round = 0; round < 300; round++) {
    const body = Array.from({ length: 1 + random.int(8) }, () => word(20 + random.int(44)));
    const prefix = random.int(2) ? `#${random.int(30)} ${random.int(9)}.${random.int(99)} ` : '';
    const printed =
      random.int(2) === 0
        ? ['-----BEGIN PGP PRIVATE KEY BLOCK-----', '', ...body, '=' + word(4), '-----END PGP PRIVATE KEY BLOCK-----']
        : [`Key: (private-key (rsa (n #${body[0]}#)`, ...body.slice(1).map((b) => ` (d #${b}#)`), ' ))'];
    const lines = [...Array.from({ length: random.int(3) }, () => `${prefix}${word(10)}`), ...printed.map((l) => prefix + l), `${prefix}DONE`];
    const redactLine = createLineRedactor();
    const shown = lines.map((line) => redactLine(`${line}\n`)).join('');
    for (const secret of body) t.false(shown.includes(secret), `seed ${random.seed}, round ${round}:\n${shown}`);
    t.true(shown.endsWith(`${prefix}DONE\n`) || shown.endsWith('DONE\n'), shown);
  }
});

test('a PuTTY .ppk printed line by line: the N lines after Private-Lines: N are censored, the public part and what follows are shown', (t) => {
  const redactLine = createLineRedactor();
  shows(t, redactLine, [
    ['#7 0.3 PuTTY-User-Key-File-3: ssh-ed25519\n', '#7 0.3 PuTTY-User-Key-File-3: ssh-ed25519\n'],
    ['#7 0.3 Public-Lines: 2\n', '#7 0.3 Public-Lines: 2\n'],
    ['#7 0.3 AAAAC3NzaC1lZDI1NTE5AAAAIPublicPartShown\n', '#7 0.3 AAAAC3NzaC1lZDI1NTE5AAAAIPublicPartShown\n'],
    ['#7 0.3 Private-Lines: 2\n', '#7 0.3 Private-Lines: 2\n'],
    ['#7 0.3 AAAAIHByaXZhdGVQYXJ0TGluZU9uZQ\n', '[REDACTED]\n'],
    ['#7 0.3 AAAAIHByaXZhdGVQYXJ0TGluZVR3bw\n', '[REDACTED]\n'],
    ['#7 0.3 Private-MAC: 0123abcd\n', '#7 0.3 Private-MAC: 0123abcd\n'],
  ]);
});

test('a canonical key decoded as UTF-8 (a binary atom shorter in characters than its length) stays censored to the end of the output', (t) => {
  // "é" is the 2 bytes of a 2-byte atom: counted as characters, the "(" after it would be skipped and the key end early.
  const redactLine = createLineRedactor();
  const line = Buffer.from([...Buffer.from('(11:private-key(1:a2:'), 0xc3, 0xa9, ...Buffer.from('(1:b1:x))(1:d6:SECRET)) after\n')]).toString('utf8');
  shows(t, redactLine, [
    [line, '(private-key [REDACTED])\n'],
    ['(1:d6:SECRET))\n', '[REDACTED]\n'],
    ['later output\n', '[REDACTED]\n'],
  ]);
});
