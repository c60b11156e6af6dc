import test from 'ava';
import { EicBuildError } from '../../src/errors.js';
import { formatDuration, parseDuration } from '../../src/keys/parse-duration.js';
import { publicKeyPathFor } from '../../src/keys/write-key-files.js';

const DAY = 86_400;

for (const [text, seconds] of [
  ['0', 0],
  ['never', 0],
  ['NEVER', 0],
  ['90', 90 * DAY],
  ['90d', 90 * DAY],
  ['12w', 84 * DAY],
  ['6m', 180 * DAY],
  ['2y', 730 * DAY],
] as const) {
  test(`parseDuration('${text}') = ${seconds}s and formats back`, (t) => {
    t.is(parseDuration(text), seconds);
    t.is(parseDuration(formatDuration(seconds)), seconds);
  });
}

for (const bad of ['', 'soon', '-1d', '1.5y', '3h', '0d', '1e3']) {
  test(`parseDuration('${bad}') is a usage error naming the flag`, (t) => {
    const error = t.throws(() => parseDuration(bad), { instanceOf: EicBuildError });
    t.is(error?.code, 'usage');
    t.regex(error?.message ?? '', /--expires/);
  });
}

test('the public key goes next to the secret key', (t) => {
  t.is(publicKeyPathFor('/k/spack-signing-key.asc'), '/k/spack-signing-key.pub.asc');
  t.is(publicKeyPathFor('key.gpg'), 'key.pub.asc');
  t.is(publicKeyPathFor('key'), 'key.pub.asc');
});
