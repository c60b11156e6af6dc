import test from 'ava';
import { estimateRemainingMs, formatBytes, formatDuration, formatPlainLine, formatTtyLine, type ProgressState } from '../../src/progress/index.js';
import { parseProgressRequest, resolveProgressMode } from '../../src/progress/index.js';
import { EicBuildError } from '../../src/errors.js';

const state = (over: Partial<ProgressState> = {}): ProgressState => ({ label: 'scanning img', unit: 'bytes', done: 0, total: undefined, elapsedMs: 0, ...over });

test('formatBytes and formatDuration', (t) => {
  t.is(formatBytes(0), '0 B');
  t.is(formatBytes(1023), '1023 B');
  t.is(formatBytes(1536), '1.5 KiB');
  t.is(formatBytes(300 * 1024 * 1024), '300 MiB');
  t.is(formatBytes(5.5 * 1024 ** 3), '5.5 GiB');
  t.is(formatDuration(400), '0s');
  t.is(formatDuration(42_000), '42s');
  t.is(formatDuration(83_000), '1m23s');
  t.is(formatDuration(2 * 3600_000 + 5 * 60_000), '2h05m');
});

test('the ETA extrapolates the average rate, only once there is one', (t) => {
  t.is(estimateRemainingMs({ done: 0, total: 100, elapsedMs: 5000 }), undefined);
  t.is(estimateRemainingMs({ done: 10, total: 100, elapsedMs: 500 }), undefined, 'under a second: no estimate yet');
  t.is(estimateRemainingMs({ done: 25, total: 100, elapsedMs: 10_000 }), 30_000);
  t.is(estimateRemainingMs({ done: 100, total: 100, elapsedMs: 10_000 }), 0);
  t.is(estimateRemainingMs({ done: 5, total: undefined, elapsedMs: 10_000 }), undefined);
});

test('a plain line has the percentage, both counters, the elapsed time and the ETA', (t) => {
  const line = formatPlainLine(state({ done: 120 * 1024 * 1024, total: 300 * 1024 * 1024, items: { noun: 'layers', done: 3, total: 7 }, elapsedMs: 12_000 }));
  t.is(line, 'scanning img: 40%, 120 MiB/300 MiB, 3/7 layers, 12s elapsed, about 18s left');
  // Unmeasurable work: elapsed time and what it is doing.
  t.is(formatPlainLine(state({ unit: 'items', elapsedMs: 65_000, status: 'Unpacking the base system' })), 'scanning img: 1m05s elapsed, Unpacking the base system');
  t.is(formatPlainLine(state({ unit: 'items', noun: 'entries', done: 3, total: 12, elapsedMs: 500 })), 'scanning img: 25%, 3/12 entries, 1s elapsed');
});

test('a TTY line is a bar that never exceeds the terminal width', (t) => {
  const line = formatTtyLine(state({ done: 50, total: 100, unit: 'items', elapsedMs: 2000 }), 200);
  t.true(line.startsWith('scanning img [##########..........]  50% 50/100'), line);
  t.true(formatTtyLine(state({ done: 50, total: 100, elapsedMs: 2000, label: 'x'.repeat(300) }), 60).length <= 60);
  // No total: a spinner that turns with each redraw.
  t.not(formatTtyLine(state(), 80, 0), formatTtyLine(state(), 80, 1));
});

test('--progress values and how auto resolves', (t) => {
  t.is(parseProgressRequest('plain'), 'plain');
  const error = t.throws(() => parseProgressRequest('loud'));
  t.true(error instanceof EicBuildError && error.code === 'usage' && /auto, tty, plain or quiet/.test(error.hint ?? ''));
  t.is(resolveProgressMode('auto', true, {}), 'tty');
  t.is(resolveProgressMode('auto', true, { CI: 'true' }), 'plain', 'CI logs get lines, not a redrawn bar');
  t.is(resolveProgressMode('auto', false, {}), 'plain');
  t.is(resolveProgressMode('json', true, {}), 'plain');
  t.is(resolveProgressMode('quiet', true, {}), 'quiet');
  t.is(resolveProgressMode('tty', false, {}), 'tty');
});
