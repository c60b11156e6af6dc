import test from 'ava';
import { join } from 'node:path';
import { EicBuildError } from '../../src/errors.js';
import { parseScanTuning, scanTarget } from '../../src/scan/index.js';
import { mainThreadConcurrency, workerCount } from '../../src/scan/worker-pool.js';
import { runCli } from '../helpers/cli.js';
import { makeFixtureDir, writeFixture } from '../helpers/image-fixture.js';

test('unset or empty variables leave the defaults; integers in range are taken', (t) => {
  t.deepEqual(parseScanTuning({}), {});
  t.deepEqual(parseScanTuning({ EIC_BUILD_SCAN_WORKERS: '', EIC_BUILD_SCAN_CONCURRENCY: '  ' }), {});
  t.deepEqual(parseScanTuning({ EIC_BUILD_SCAN_WORKERS: '0', EIC_BUILD_SCAN_CONCURRENCY: ' 8 ', EIC_BUILD_SCAN_DECODE_THREADS: '0' }), {
    workers: 0,
    concurrency: 8,
    decodeThreads: 0,
  });
  t.deepEqual(parseScanTuning({ EIC_BUILD_SCAN_WORKERS: '64', EIC_BUILD_SCAN_CONCURRENCY: '1', EIC_BUILD_SCAN_DECODE_THREADS: '4' }), {
    workers: 64,
    concurrency: 1,
    decodeThreads: 4,
  });
});

const malformed: [string, string, string][] = [
  ['EIC_BUILD_SCAN_WORKERS', 'two', 'from 0 to 64'],
  ['EIC_BUILD_SCAN_WORKERS', '-1', 'from 0 to 64'],
  ['EIC_BUILD_SCAN_WORKERS', '2.5', 'from 0 to 64'],
  ['EIC_BUILD_SCAN_WORKERS', '1e3', 'from 0 to 64'],
  ['EIC_BUILD_SCAN_WORKERS', '65', 'from 0 to 64'],
  ['EIC_BUILD_SCAN_WORKERS', '0x2', 'from 0 to 64'],
  ['EIC_BUILD_SCAN_CONCURRENCY', '0', 'from 1 to 64'],
  ['EIC_BUILD_SCAN_CONCURRENCY', '99999999999', 'from 1 to 64'],
  ['EIC_BUILD_SCAN_DECODE_THREADS', 'off', 'from 0 to 4'],
  ['EIC_BUILD_SCAN_DECODE_THREADS', '5', 'from 0 to 4'],
];

for (const [name, value, range] of malformed) {
  test(`${name}=${value} is a usage error naming the variable, the value and the range`, (t) => {
    const error = t.throws(() => parseScanTuning({ [name]: value }), { instanceOf: EicBuildError });
    t.is(error!.code, 'usage');
    t.true(error!.message.includes(name), error!.message);
    t.true(error!.message.includes(`"${value}"`), error!.message);
    t.true(error!.message.includes(range), error!.message);
    t.true((error!.hint ?? '').includes(name));
  });
}

test('workerCount and mainThreadConcurrency refuse what they used to ignore', (t) => {
  t.throws(() => workerCount([1, 2], { EIC_BUILD_SCAN_WORKERS: 'all' }), { instanceOf: EicBuildError });
  t.throws(() => mainThreadConcurrency(3, { EIC_BUILD_SCAN_CONCURRENCY: '0' }), { instanceOf: EicBuildError });
  t.is(mainThreadConcurrency(3, { EIC_BUILD_SCAN_CONCURRENCY: '2' }), 2);
});

test('scanTarget refuses a malformed variable before it reads the target', async (t) => {
  // The target does not exist: the usage error (not input-not-found) shows nothing was read first.
  const error = await t.throwsAsync(scanTarget('/nonexistent/image.tar', { env: { EIC_BUILD_SCAN_CONCURRENCY: 'many' } }), { instanceOf: EicBuildError });
  t.is(error!.code, 'usage');
});

test('CLI: eic-build scan with a malformed EIC_BUILD_SCAN_WORKERS exits 2 naming it', async (t) => {
  const { dir, cleanup } = await makeFixtureDir('eic-scan-tuning');
  t.teardown(cleanup);
  const clean = await writeFixture({ layers: [{ files: { a: 'a' } }] }, 'docker-legacy', join(dir, 'clean.tar'));
  const bad = await runCli(['scan', clean.path], { env: { EIC_BUILD_SCAN_WORKERS: 'four' } });
  t.is(bad.exitCode, 2, String(bad.stderr));
  t.regex(String(bad.stderr), /EIC_BUILD_SCAN_WORKERS="four" is not an integer from 0 to 64/);
  t.is(String(bad.stdout), '');
  const good = await runCli(['scan', clean.path], { env: { EIC_BUILD_SCAN_WORKERS: '1' } });
  t.is(good.exitCode, 0, String(good.stderr));
});
