import test from 'ava';
import { setTimeout as sleep } from 'node:timers/promises';
import { EicBuildError } from '../../src/errors.js';
import { createProgressReporter, progressIntervalMs, startScanProgress } from '../../src/progress/index.js';

function collect() {
  const out: string[] = [];
  return { out, write: (text: string) => void out.push(text) };
}

test('plain: the step is announced, then a line every interval with the latest counts, then the final line', async (t) => {
  const sink = collect();
  const reporter = createProgressReporter({ mode: 'plain', write: sink.write, intervalMs: 20 });
  reporter.announce('making base image x with debootstrap (about a minute)…');
  const task = reporter.start('verifying m', { noun: 'entries' });
  task.update(3, 10);
  await sleep(70);
  task.update(10, 10);
  task.finish('verified m');
  const count = sink.out.length;
  await sleep(60);
  t.is(sink.out.length, count, 'no line after finish');
  t.is(sink.out[0], 'eic-build: making base image x with debootstrap (about a minute)…\n');
  t.is(sink.out[1], 'eic-build: verifying m…\n');
  t.regex(sink.out[2]!, /^eic-build: verifying m: 30%, 3\/10 entries, \ds elapsed\n$/);
  t.is(sink.out.at(-1), 'eic-build: verified m\n');
  t.true(
    sink.out.every((line) => line.endsWith('\n') && !line.includes('\r')),
    'plain lines only, no redraws',
  );
});

test('tty: one line redrawn in place, cleared when the step ends or a line is announced', async (t) => {
  const sink = collect();
  const reporter = createProgressReporter({ mode: 'tty', write: sink.write, columns: 80 });
  const scan = startScanProgress(reporter, 'scanning img');
  scan.onProgress({ layersDone: 1, layersTotal: 2, bytesDone: 1024, bytesTotal: 2048 });
  await sleep(450);
  reporter.announce('note');
  scan.finish(true);
  const text = sink.out.join('');
  t.true(text.startsWith('\r\x1b[K'), 'drawn at once');
  t.regex(text, /\r\x1b\[Kscanning img \[#{10}\.{10}\] {2}50% 1\.0 KiB\/2\.0 KiB, 1\/2 layers/);
  t.true(text.includes('\r\x1b[Keic-build: note\n'), 'the bar is cleared before a line is said');
  t.regex(text, /eic-build: scanning img: done, 1 layers, 1\.0 KiB in \ds\n$/);
  t.false(
    text.split('\r\x1b[K').some((part) => part.replace(/\n$/, '').length > 80),
    'never wider than the terminal',
  );
});

test('quiet says nothing at all', async (t) => {
  const sink = collect();
  const reporter = createProgressReporter({ mode: 'quiet', write: sink.write, intervalMs: 5 });
  reporter.announce('x');
  const task = reporter.start('y');
  task.update(1, 2);
  await sleep(30);
  task.finish('z');
  t.deepEqual(sink.out, []);
});

test('EIC_BUILD_PROGRESS_INTERVAL: seconds; a malformed value is a usage error naming it', (t) => {
  t.is(progressIntervalMs({}), 10_000);
  t.is(progressIntervalMs({ EIC_BUILD_PROGRESS_INTERVAL: '0.5' }), 500);
  const error = t.throws(() => progressIntervalMs({ EIC_BUILD_PROGRESS_INTERVAL: 'soon' }));
  t.true(error instanceof EicBuildError && error.code === 'usage' && error.message.includes('EIC_BUILD_PROGRESS_INTERVAL'));
});
