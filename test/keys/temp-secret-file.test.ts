import test from 'ava';
import { execa } from 'execa';
import { mkdtemp, readdir, readFile, rm, stat } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { liveTempSecretDirCount, writeTempSecretFile } from '../../src/keys/temp-secret-file.js';

const child = fileURLToPath(new URL('./helpers/temp-secret-child.ts', import.meta.url));

async function freshTmp(t: { teardown(fn: () => Promise<void>): void }): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'eic-build-test-tmp-'));
  t.teardown(async () => rm(dir, { recursive: true, force: true }));
  return dir;
}

/** Our directories left in `tmp` (tsx keeps its own cache there too, which is not ours to judge). */
async function secretDirsIn(tmp: string): Promise<string[]> {
  return (await readdir(tmp)).filter((name) => name.startsWith('eic-build-secret-'));
}

/** Start the child with its own TMPDIR, wait until it reports the file it made. */
async function startChild(mode: string, tmp: string) {
  const proc = execa(process.execPath, ['--import', 'tsx', child, mode], {
    env: { TMPDIR: tmp },
    reject: false,
    buffer: true,
  });
  const info = await new Promise<{ path: string; dir: string }>((resolve, reject) => {
    let seen = '';
    proc.stdout?.on('data', (chunk: Buffer) => {
      seen += chunk.toString('utf8');
      const line = seen.split('\n')[0];
      if (seen.includes('\n') && line) resolve(JSON.parse(line) as { path: string; dir: string });
    });
    void proc.then((result) => reject(new Error(`child ended before reporting: ${String(result.stderr)}`)));
  });
  return { proc, info };
}

test('the file is 0600 in a fresh 0700 directory under os.tmpdir and dispose removes it', async (t) => {
  const before = liveTempSecretDirCount();
  const file = await writeTempSecretFile('secret contents', 'key.asc');
  t.true(file.path.startsWith(file.dir));
  t.true(file.dir.startsWith(tmpdir()));
  t.is((await stat(file.path)).mode & 0o777, 0o600);
  t.is((await stat(file.dir)).mode & 0o777, 0o700);
  t.is(await readFile(file.path, 'utf8'), 'secret contents');
  t.is(liveTempSecretDirCount(), before + 1);
  await file.dispose();
  await file.dispose();
  t.false(existsSync(file.dir));
  t.is(liveTempSecretDirCount(), before);
});

test('a file name with a path separator is refused', async (t) => {
  await t.throwsAsync(writeTempSecretFile('x', '../escape'), { instanceOf: TypeError });
});

for (const signal of ['SIGTERM', 'SIGINT'] as const) {
  test(`${signal} removes the directory and the child dies of the signal`, async (t) => {
    const tmp = await freshTmp(t);
    const { proc, info } = await startChild('wait', tmp);
    t.true(existsSync(info.path));
    proc.kill(signal);
    const result = await proc;
    t.is(result.signal, signal);
    t.false(existsSync(info.dir));
    t.deepEqual(await secretDirsIn(tmp), []);
  });
}

for (const [mode, exitCode] of [
  ['throw', 1],
  ['reject', 1],
  ['exit', 7],
  ['normal', 0],
] as const) {
  test(`a child that ends by '${mode}' leaves nothing behind (exit ${exitCode})`, async (t) => {
    const tmp = await freshTmp(t);
    const { proc, info } = await startChild(mode, tmp);
    const result = await proc;
    t.is(result.exitCode, exitCode, String(result.stderr));
    t.false(existsSync(info.dir));
    t.deepEqual(await secretDirsIn(tmp), []);
  });
}
