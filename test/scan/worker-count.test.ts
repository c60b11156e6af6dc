import test from 'ava';
import { availableParallelism } from 'node:os';
import { workerCount } from '../../src/scan/worker-pool.js';

const MiB = 1024 * 1024;

test('several large layers get one worker per core (at most four, at most one per layer)', (t) => {
  const cores = availableParallelism();
  const expected = cores <= 1 ? 0 : Math.min(cores, 3, 4);
  t.is(workerCount([64 * MiB, 64 * MiB, 64 * MiB], {}), expected);
});

test('one layer, or a small image, stays on the main thread', (t) => {
  t.is(workerCount([512 * MiB], {}), 0);
  t.is(workerCount([1 * MiB, 1 * MiB, 1 * MiB], {}), 0);
});

test('EIC_BUILD_SCAN_WORKERS forces the count, bounded by the number of layers', (t) => {
  t.is(workerCount([1, 2, 3], { EIC_BUILD_SCAN_WORKERS: '2' }), 2);
  t.is(workerCount([1], { EIC_BUILD_SCAN_WORKERS: '3' }), 1);
  t.is(workerCount([64 * MiB, 64 * MiB], { EIC_BUILD_SCAN_WORKERS: '0' }), 0);
});
