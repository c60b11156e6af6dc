import test from 'ava';
import { mkdir, mkdtemp, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { EicBuildError } from '../../src/errors.js';
import { checkOutputPath, describeWriteFailure, writeOutputFile } from '../../src/io/output-file.js';
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
  t.deepEqual((await readdir(dir)).filter((name) => name.includes('whole')), ['whole.json']);
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
  t.false((await readdir(dir)).some((name) => name.endsWith('.tmp')), 'no temp file left');
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
  t.false(await stat('/nonexistent-dir').then(() => true, () => false));
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
