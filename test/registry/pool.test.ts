// mapLimit: bounded concurrency that, on failure, stops taking items and waits for the running ones.
import test from 'ava';
import { mapLimit } from '../../src/registry/pool.js';

const delay = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

test('mapLimit keeps order and never runs more than the limit at once', async (t) => {
  let running = 0;
  let peak = 0;
  const out = await mapLimit([5, 1, 4, 2, 3], 2, async (n, i) => {
    running += 1;
    peak = Math.max(peak, running);
    await delay(n * 3);
    running -= 1;
    return `${i}:${n}`;
  });
  t.deepEqual(out, ['0:5', '1:1', '2:4', '3:2', '4:3']);
  t.is(peak, 2);
});

test('mapLimit after a failure: starts no new item, settles only when the running ones finished, rejects with the first error', async (t) => {
  const started: number[] = [];
  const finished: number[] = [];
  const promise = mapLimit([0, 1, 2, 3, 4], 2, async (i) => {
    started.push(i);
    if (i === 0) {
      await delay(5);
      throw new Error('task 0 failed');
    }
    if (i === 1) {
      await delay(60);
      finished.push(i);
      throw new Error('task 1 failed later');
    }
    finished.push(i);
    return i;
  });
  await t.throwsAsync(promise, { message: 'task 0 failed' });
  t.deepEqual(finished, [1], 'task 1 (in flight when task 0 failed) had finished before mapLimit settled');
  t.deepEqual(started, [0, 1], 'no item started after the failure');
});

test('mapLimit turns a task that throws synchronously into a rejection', async (t) => {
  await t.throwsAsync(
    mapLimit([1], 1, () => {
      throw new Error('sync');
    }),
    { message: 'sync' },
  );
});
