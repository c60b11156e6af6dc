import test from 'ava';
import { MAX_TRIES, retryDelayMs, shouldRetry, shouldRetryFailure } from '../../src/registry/retry.js';

test('transient statuses are retried until the last try; others never', (t) => {
  for (const status of [429, 500, 502, 503, 504]) {
    t.true(shouldRetry(status, 1), String(status));
    t.false(shouldRetry(status, MAX_TRIES), String(status));
  }
  for (const status of [200, 201, 400, 401, 403, 404, 409]) t.false(shouldRetry(status, 1), String(status));
});

test('delays back off exponentially with jitter up to 5 s, and honour Retry-After up to 60 s', (t) => {
  t.is(
    retryDelayMs(1, null, () => 0),
    50,
  );
  t.is(
    retryDelayMs(1, null, () => 1),
    100,
  );
  t.is(
    retryDelayMs(3, null, () => 1),
    400,
  );
  t.is(
    retryDelayMs(20, null, () => 1),
    5000,
  );
  t.is(retryDelayMs(1, '2'), 2000);
  t.is(retryDelayMs(1, '0'), 0);
  // A throttling registry that asks for 30 s gets 30 s; more than a minute is capped.
  t.is(retryDelayMs(1, '30'), 30_000);
  t.is(retryDelayMs(1, '60'), 60_000);
  t.is(retryDelayMs(1, '3600'), 60_000);
  // An HTTP-date Retry-After is not seconds: fall back to the backoff.
  t.is(
    retryDelayMs(2, 'Wed, 21 Oct 2026 07:28:00 GMT', () => 1),
    200,
  );
});

test('a failed connection is retried until the last try', (t) => {
  t.true(shouldRetryFailure(1));
  t.true(shouldRetryFailure(MAX_TRIES - 1));
  t.false(shouldRetryFailure(MAX_TRIES));
});
