import test from 'ava';
import { mkdir, mkdtemp, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { EicBuildError } from '../../src/errors.js';
import { checkOutputPath, describeWriteFailure, OUTPUT_TEMP_KIND, writeFileAtomically, writeOutputFile } from '../../src/io/output-file.js';
import { liveDirCount } from '../../src/exit-cleanup.js';
import { execa } from 'execa';
import { fileURLToPath } from 'node:url';
import { runCli } from '../helpers/cli.js';
import { writeFixture } from '../helpers/image-fixture.js';

let dir = '';
test.before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'eic-build-output-file-'));
});
test.after.always(() => rm(dir, { recursive: true, force: true }));

const errno = (code: string) => Object.assign(new Error(code), { code });

test('describeWriteFailure says what to fix for the usual errnos', (t) => {
  t.is(describeWriteFailure('/a/b/x.json', errno('ENOENT')), 'directory /a/b does not exist');
  t.is(describeWriteFailure('/a/b/x.json', errno('EACCES')), 'no permission to write in /a/b');
  t.is(describeWriteFailure('/a/b/x.json', errno('EISDIR')), '/a/b/x.json is a directory');
  t.is(describeWriteFailure('/a/b/x.json', errno('ENOSPC')), 'no space left on the device of /a/b');
  t.is(describeWriteFailure('/a/b/x.json', errno('EROFS')), '/a/b is on a read-only file system');
  t.is(describeWriteFailure('/a/b/x.json', new Error('odd')), 'odd');
});

test('writeOutputFile writes the whole file with its mode and leaves nothing else', async (t) => {
  const path = join(dir, 'whole.json');
  await writeOutputFile(path, '{"a":1}\n', { mode: 0o600 });
  t.is(await readFile(path, 'utf8'), '{"a":1}\n');
  t.is((await stat(path)).mode & 0o777, 0o600);
  await writeOutputFile(path, 'replaced');
  t.is(await readFile(path, 'utf8'), 'replaced');
  t.deepEqual(
    (await readdir(dir)).filter((name) => name.includes('whole')),
    ['whole.json'],
  );
});

test('a failed write is output-unwritable naming the path, and its temp file is removed', async (t) => {
  const missing = await t.throwsAsync(writeOutputFile(join(dir, 'no-such-dir', 'x.json'), 'x'), { instanceOf: EicBuildError });
  t.is(missing!.code, 'output-unwritable');
  t.regex(missing!.message, /--output .*no-such-dir\/x\.json: cannot write it: directory .*no-such-dir does not exist/);
  t.regex(missing!.hint ?? '', /exists and is writable/);
  // The rename fails after the temp file was written (the target is a non-empty directory).
  const target = join(dir, 'taken');
  await mkdir(target);
  await writeFile(join(target, 'inside'), 'x');
  const renamed = await t.throwsAsync(writeOutputFile(target, 'report', { flag: '--report' }), { instanceOf: EicBuildError });
  t.is(renamed!.code, 'output-unwritable');
  t.true(renamed!.message.startsWith(`--report ${target}: cannot write it`), renamed!.message);
  // only this write's siblings: the other tests of this file write into the same directory concurrently
  t.false(
    (await readdir(dir)).some((name) => name.startsWith('.taken.') && name.endsWith('.tmp')),
    'no temp file left',
  );
});

test('checkOutputPath refuses a missing directory, a file as directory and a directory as target', async (t) => {
  await checkOutputPath(join(dir, 'fine.json'));
  await writeFile(join(dir, 'plain'), 'x');
  for (const [path, why] of [
    [join(dir, 'nope', 'x.json'), /does not exist/],
    [join(dir, 'plain', 'x.json'), /is not a directory/],
    [dir, /is a directory/],
  ] as const) {
    const error = await t.throwsAsync(checkOutputPath(path), { instanceOf: EicBuildError });
    t.is(error!.code, 'output-unwritable');
    t.regex(error!.message, why);
  }
});

test('CLI: eic-build scan --output into a missing directory exits 2 before scanning, names the path, leaves no temp file', async (t) => {
  const clean = await writeFixture({ layers: [{ files: { a: 'a' } }] }, 'docker-legacy', join(dir, 'clean.tar'));
  const result = await runCli(['scan', clean.path, '--output', '/nonexistent-dir/x.json']);
  t.is(result.exitCode, 2, String(result.stderr));
  t.regex(String(result.stderr), /error: --output \/nonexistent-dir\/x\.json: cannot write it: directory \/nonexistent-dir does not exist/);
  t.regex(String(result.stderr), /hint: .*\/nonexistent-dir exists and is writable/);
  t.is(String(result.stdout), '');
  t.false(
    await stat('/nonexistent-dir').then(
      () => true,
      () => false,
    ),
  );
  // A report path that is a directory: also refused, and the directory is left as it was.
  const result2 = await runCli(['scan', clean.path, '--output', dir]);
  t.is(result2.exitCode, 2);
  t.regex(String(result2.stderr), /is a directory/);
  t.false((await readdir(dir)).some((name) => name.endsWith('.tmp')));
});

test('CLI: eic-build key generate and key export --output into a missing directory exit 2 with output-unwritable', async (t) => {
  const generated = await runCli(['key', 'generate', '--output', join(dir, 'missing-keys', 'k.asc')]);
  t.is(generated.exitCode, 2, String(generated.stderr));
  t.regex(String(generated.stderr), /--output .*missing-keys\/k\.asc: cannot write it: directory .*missing-keys does not exist/);
  const key = join(dir, 'k.asc');
  const made = await runCli(['key', 'generate', '--output', key]);
  t.is(made.exitCode, 0, String(made.stderr));
  const exported = await runCli(['key', 'export-public', key, '--output', join(dir, 'missing-pub', 'k.pub.asc')]);
  t.is(exported.exitCode, 2, String(exported.stderr));
  t.regex(String(exported.stderr), /--output .*missing-pub\/k\.pub\.asc: cannot write it: directory .*missing-pub does not exist/);
  t.false((await readdir(dir)).some((name) => name.endsWith('.tmp')));
});

test.serial('the temp sibling is registered for removal on exit while it is written, and released after', async (t) => {
  const before = liveDirCount(OUTPUT_TEMP_KIND);
  const writing = writeOutputFile(join(dir, 'registered.json'), 'x');
  t.is(liveDirCount(OUTPUT_TEMP_KIND), before + 1);
  await writing;
  t.is(liveDirCount(OUTPUT_TEMP_KIND), before);
  await t.throwsAsync(writeOutputFile(join(dir, 'no-such-dir', 'y.json'), 'y'));
  t.is(liveDirCount(OUTPUT_TEMP_KIND), before, 'released after a failure too');
});

test('a process interrupted (SIGINT) while writing an output file leaves no temp file', async (t) => {
  const work = await mkdtemp(join(tmpdir(), 'eic-build-output-sigint-'));
  t.teardown(() => rm(work, { recursive: true, force: true }));
  const module = fileURLToPath(new URL('../../src/io/output-file.ts', import.meta.url));
  // The child interrupts itself as soon as the temp file is there, while 256 MiB are still being written.
  const script = `
    import { readdirSync } from 'node:fs';
    const { writeOutputFile } = await import(${JSON.stringify(module)});
    const poll = setInterval(() => {
      if (readdirSync(${JSON.stringify(work)}).some((name) => name.endsWith('.tmp'))) {
        clearInterval(poll);
        console.log('interrupting');
        process.kill(process.pid, 'SIGINT');
      }
    }, 1);
    await writeOutputFile(${JSON.stringify(join(work, 'key.asc'))}, new Uint8Array(256 * 1024 * 1024), { mode: 0o600 });
    console.log('finished');
  `;
  const result = await execa(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], { reject: false });
  t.is(result.stdout, 'interrupting', String(result.stderr));
  t.is(result.signal, 'SIGINT');
  t.deepEqual(await readdir(work), []);
});

test('writeFileAtomically (the core sign-file shares) keeps the given mode, lets concurrent writers each land whole, and throws the errno error as is', async (t) => {
  const path = join(dir, 'shared.json');
  await writeFile(path, 'old');
  const texts = Array.from({ length: 8 }, (_, i) => `writer ${i} `.repeat(10_000));
  await Promise.all(texts.map((text) => writeFileAtomically(path, text, 0o640)));
  t.true(texts.includes(await readFile(path, 'utf8')), 'one whole text, not a mix');
  t.is((await stat(path)).mode & 0o777, 0o640);
  const error = await t.throwsAsync(writeFileAtomically(join(dir, 'no-such-dir', 'z'), 'z', 0o644));
  t.is((error as NodeJS.ErrnoException).code, 'ENOENT');
  t.false(error instanceof EicBuildError);
  t.deepEqual(
    (await readdir(dir)).filter((name) => name.includes('shared')),
    ['shared.json'],
  );
});
