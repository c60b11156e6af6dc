// Image archives compressed as a whole: `docker save`-format and OCI archives piped through the
// real gzip, zstd, xz and bzip2 are sniffed, decompressed to a temp copy that is removed again,
// and scanned like the plain archive. Keys generated now.
import test from 'ava';
import { mkdir, readdir, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { execa } from 'execa';
import * as openpgp from 'openpgp';
import { EicBuildError } from '../../src/errors.js';
import { liveDirCount } from '../../src/exit-cleanup.js';
import { decompressArchive } from '../../src/scan/compressed-archive.js';
import { scanTarget } from '../../src/scan/index.js';
import { makeFixtureDir, writeFixture, type FixtureFormat } from '../helpers/image-fixture.js';
import { loadFixtureArchive } from '../helpers/images.js';

let dir = '';
let cleanup = async () => {};
let secret = '';
let publicOnly = '';

test.before(async () => {
  ({ dir, cleanup } = await makeFixtureDir('eic-scan-compressed-archive'));
  // A TMPDIR of this file's own (os.tmpdir() reads it at each call): other test files scan
  // compressed archives at the same time, and their temp copies are not this file's leftovers.
  process.env.TMPDIR = join(dir, 'tmp');
  await mkdir(process.env.TMPDIR);
  const key = await openpgp.generateKey({ userIDs: [{ name: 'Archive', email: 'archive@example.org' }], format: 'armored' });
  secret = key.privateKey;
  publicOnly = key.publicKey;
});
test.after.always(() => cleanup());

let counter = 0;
async function compressedImage(content: string, format: FixtureFormat, command: string): Promise<string> {
  const plain = join(dir, `img-${counter++}.tar`);
  await writeFixture({ layers: [{ files: { 'root/key.asc': content, 'etc/os-release': 'ID=test' } }] }, format, plain);
  const result = await execa(command, ['-c', plain], { encoding: 'buffer' });
  const path = `${plain}.${command}`;
  await writeFile(path, result.stdout);
  return path;
}

async function archiveTempDirs(): Promise<string[]> {
  return (await readdir(tmpdir())).filter((name) => name.startsWith('eic-build-archive-'));
}

for (const command of ['gzip', 'zstd', 'xz', 'bzip2']) {
  for (const format of ['docker-legacy', 'oci-archive'] as const) {
    test.serial(
      `${command === 'gzip' ? '' : '[integration] '}${format} | ${command}: sniffed, decompressed, the key found; public-only twin clean; no temp copy left`,
      async (t) => {
        const before = await archiveTempDirs();
        const leak = await scanTarget(await compressedImage(secret, format, command));
        t.true(leak.leaked);
        t.deepEqual(
          leak.findings.map((f) => f.path),
          ['root/key.asc'],
        );
        const control = await scanTarget(await compressedImage(publicOnly, format, command));
        t.false(control.leaked);
        t.is(liveDirCount('decompressed-archive'), 0);
        t.deepEqual(
          (await archiveTempDirs()).filter((name) => !before.includes(name)),
          [],
        );
      },
    );
  }
}

test.serial('a truncated compressed archive is input-corrupt naming the target, and its temp copy is removed', async (t) => {
  const path = await compressedImage(secret, 'docker-legacy', 'gzip');
  const bytes = await readFile(path);
  const truncated = join(dir, 'truncated.tar.gz');
  await writeFile(truncated, bytes.subarray(0, bytes.length >> 1));
  const error = await t.throwsAsync(scanTarget(truncated));
  t.true(error instanceof EicBuildError);
  t.is((error as EicBuildError).code, 'input-corrupt');
  t.true(error!.message.includes(truncated), error!.message);
  t.is(liveDirCount('decompressed-archive'), 0);
});

test.serial("a whole gzip of a truncated image archive is input-corrupt naming the user's file, not the temp copy", async (t) => {
  const plain = join(dir, `img-${counter++}.tar`);
  await writeFixture({ layers: [{ files: { 'root/key.asc': secret } }] }, 'docker-legacy', plain);
  const bytes = await readFile(plain);
  const path = join(dir, 'cut.tar.gz');
  await writeFile(path, (await execa('gzip', ['-c'], { input: bytes.subarray(0, bytes.length - 3000), encoding: 'buffer' })).stdout);
  const error = await t.throwsAsync(scanTarget(path));
  t.is((error as EicBuildError).code, 'input-corrupt');
  t.true(error!.message.includes(`${path} (decompressed)`), error!.message);
  t.false(error!.message.includes('eic-build-archive-'), error!.message);
});

test.serial('a compressed archive past the bounds is refused before it fills the disk', async (t) => {
  const path = await compressedImage(secret, 'docker-legacy', 'gzip');
  const error = await t.throwsAsync(decompressArchive('bomb.tar.gz', path, 'gzip', { maxBytes: 4096, maxRatio: 100 }));
  t.is((error as EicBuildError).code, 'input-corrupt');
  t.regex(error!.message, /bomb\.tar\.gz.*past 4096 bytes/);
  t.is(liveDirCount('decompressed-archive'), 0);
});

test.serial(
  '[integration] real `docker save | gzip`, `| zstd`, `| xz` of an image in the engine: the key is found through the CLI (exit 1); the public-only image exits 0',
  async (t) => {
    const DOCKER = '/usr/bin/docker';
    const tags = [`eic-build-test/forms-nested-save-leak:${process.pid}`, `eic-build-test/forms-nested-save-clean:${process.pid}`];
    t.teardown(async () => {
      for (const tag of tags) await execa(DOCKER, ['rmi', '-f', tag], { reject: false });
    });
    const { runCli } = await import('../helpers/cli.js');
    for (const [tag, content] of [
      [tags[0]!, secret],
      [tags[1]!, publicOnly],
    ] as const) {
      const archive = join(dir, `load-${counter++}.tar`);
      // Loaded straight under this test's tag: a shared name could be moved by another file's load in between.
      await writeFixture({ layers: [{ files: { 'root/key.asc': content }, compression: 'none' }] }, 'docker-legacy', archive, { repoTags: [tag] });
      await loadFixtureArchive(archive, tag);
    }
    for (const command of ['gzip', 'zstd', 'xz']) {
      for (const [tag, expected] of [
        [tags[0]!, 1],
        [tags[1]!, 0],
      ] as const) {
        const path = join(dir, `saved-${counter++}.tar.${command}`);
        await execa('sh', ['-c', `"$0" save "$1" | ${command} -c > "$2"`, DOCKER, tag, path]);
        const result = await runCli(['scan', path, '--format', 'json']);
        t.is(result.exitCode, expected, `${command} ${tag}: ${String(result.stderr)}`);
        if (expected === 1)
          t.deepEqual(
            (JSON.parse(String(result.stdout)) as { findings: { path: string }[] }).findings.map((f) => f.path),
            ['root/key.asc'],
          );
      }
    }
  },
);

test.serial('[integration] whole-archive xz decodes under a memory limit: an archive needing more is refused naming the bound (real xz, 1 MiB limit)', async (t) => {
  const path = await compressedImage(secret, 'docker-legacy', 'xz');
  const error = await t.throwsAsync(decompressArchive('big-dict.tar.xz', path, 'xz', { maxBytes: 1 << 30, maxRatio: 100, maxHeldBytes: 1 << 20 }));
  t.is((error as EicBuildError).code, 'input-corrupt');
  t.regex(error!.message, /big-dict\.tar\.xz.*more than 1048576 bytes of memory/);
  t.is(liveDirCount('decompressed-archive'), 0);
});

test.serial('[integration] a missing xz or bzip2 names the tool and the package to install, not a damaged archive', async (t) => {
  const emptyPath = join(dir, 'no-tools');
  await execa('mkdir', ['-p', emptyPath]);
  for (const [command, compression, packageName] of [
    ['xz', 'xz', 'xz-utils'],
    ['bzip2', 'bz2', 'bzip2'],
  ] as const) {
    const path = await compressedImage(secret, 'docker-legacy', command);
    const saved = process.env.PATH;
    process.env.PATH = emptyPath;
    try {
      const error = await t.throwsAsync(decompressArchive(`image.tar.${compression}`, path, compression));
      t.is((error as EicBuildError).code, 'capability-missing', error!.message);
      t.regex(error!.message, new RegExp(`${command} is not installed`));
      t.regex((error as EicBuildError).hint ?? '', new RegExp(`install ${packageName}`));
      t.notRegex((error as EicBuildError).hint ?? '', /damaged/);
    } finally {
      process.env.PATH = saved;
    }
  }
});
