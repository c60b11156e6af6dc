// A key committed to a git repository that is copied into an image, with the working-tree file
// deleted: as loose (zlib) objects, and inside a packfile after `git gc` (zlib entries and OFS
// deltas). Made with the real git; keys generated now; a public-only repository is the control.
import test from 'ava';
import { readdir, readFile, writeFile } from 'node:fs/promises';
import { join, relative } from 'node:path';
import { execa } from 'execa';
import * as openpgp from 'openpgp';
import { scanTarget } from '../../src/scan/index.js';
import { applyGitDelta, GitPackError, parseGitPack } from '../../src/scan/nested/git-pack-parse.js';
import { makeFixtureDir, writeFixture } from '../helpers/image-fixture.js';

let dir = '';
let cleanup = async () => {};
let secret = '';
let publicOnly = '';

test.before(async () => {
  ({ dir, cleanup } = await makeFixtureDir('eic-scan-nested-git'));
  const key = await openpgp.generateKey({ userIDs: [{ name: 'Git', email: 'git@example.org' }], format: 'armored' });
  secret = key.privateKey;
  publicOnly = key.publicKey;
});
test.after.always(() => cleanup());

let counter = 0;
const GIT_ENV = {
  GIT_AUTHOR_NAME: 't',
  GIT_AUTHOR_EMAIL: 't@example.org',
  GIT_COMMITTER_NAME: 't',
  GIT_COMMITTER_EMAIL: 't@example.org',
  GIT_CONFIG_NOSYSTEM: '1',
  HOME: '/nonexistent',
};

/** A repository whose history holds `content` twice (two similar versions), deleted from the tree. */
async function makeRepo(content: string, gc: boolean): Promise<string> {
  const repo = join(dir, `repo-${counter++}`);
  const git = (...args: string[]) => execa('git', args, { cwd: repo, env: GIT_ENV, extendEnv: false });
  await execa('git', ['init', '-q', repo], { env: GIT_ENV, extendEnv: false });
  await writeFile(join(repo, 'README'), 'a project\n');
  await writeFile(join(repo, 'signing.asc'), content);
  await git('add', '.');
  await git('commit', '-q', '-m', 'add key');
  await writeFile(join(repo, 'signing.asc'), `${content}\n# rotated later\n`);
  await git('commit', '-q', '-am', 'touch key');
  await git('rm', '-q', 'signing.asc');
  await git('commit', '-q', '-m', 'remove key');
  if (gc) await git('gc', '-q', '--aggressive', '--prune=now');
  return repo;
}

async function filesOf(root: string, prefix: string): Promise<Record<string, Uint8Array>> {
  const files: Record<string, Uint8Array> = {};
  for (const entry of await readdir(root, { recursive: true, withFileTypes: true })) {
    if (!entry.isFile()) continue;
    const full = join(entry.parentPath ?? (entry as unknown as { path: string }).path, entry.name);
    files[`${prefix}/${relative(root, full)}`] = await readFile(full);
  }
  return files;
}

async function scanRepo(repo: string) {
  const written = await writeFixture({ layers: [{ files: await filesOf(repo, 'src/app') }] }, 'docker-oci', join(dir, `img-${counter++}.tar`));
  return scanTarget(written.path);
}

test('[integration] a key committed then deleted is found in the loose objects; the public-only repository is clean', async (t) => {
  const repo = await makeRepo(secret, false);
  const report = await scanRepo(repo);
  t.true(report.leaked);
  const paths = report.findings.map((f) => `${f.path} :: ${f.nestedPath}`);
  t.is(paths.length, 2, paths.join('\n'));
  t.true(
    paths.every((p) => /^src\/app\/\.git\/objects\/[0-9a-f]{2}\/[0-9a-f]{38} :: [0-9a-f]{40}:blob$/.test(p)),
    paths.join('\n'),
  );
  const control = await scanRepo(await makeRepo(publicOnly, false));
  t.false(control.leaked, JSON.stringify(control.findings));
  t.false(
    control.notes.some((n) => n.kind.startsWith('nested-')),
    JSON.stringify(control.notes),
  );
});

test('[integration] after git gc the key is found inside the packfile, including the delta-compressed version', async (t) => {
  const repo = await makeRepo(secret, true);
  const packs = (await readdir(join(repo, '.git/objects/pack'))).filter((name) => name.endsWith('.pack'));
  t.is(packs.length, 1);
  const verify = await execa('git', ['verify-pack', '-v', join(repo, '.git/objects/pack', packs[0]!)], { env: GIT_ENV, extendEnv: false });
  // `oid type size size-in-pack offset depth base` lines are deltas.
  const deltas = verify.stdout
    .split('\n')
    .filter((line) => /^[0-9a-f]{40} blob +\d+ \d+ \d+ \d+ [0-9a-f]{40}$/.test(line))
    .map((line) => line.split(/\s+/)[0]!);
  t.true(deltas.length >= 1, verify.stdout);
  const report = await scanRepo(repo);
  const nested = report.findings.map((f) => f.nestedPath ?? '');
  t.true(
    report.findings.every((f) => /\.git\/objects\/pack\/pack-[0-9a-f]+\.pack$/.test(f.path ?? '')),
    JSON.stringify(report.findings.map((f) => f.path)),
  );
  t.is(nested.length, 2, nested.join('\n'));
  t.true(nested.includes(`${deltas[0]}:blob`), `the delta object ${deltas[0]} is resolved and scanned: ${nested.join(', ')}`);
  const control = await scanRepo(await makeRepo(publicOnly, true));
  t.false(control.leaked);
  t.false(
    control.notes.some((n) => n.kind.startsWith('nested-')),
    JSON.stringify(control.notes),
  );
});

test('[integration] a damaged pack is a note naming it; hostile deltas and sizes are refused, never allocated', async (t) => {
  const repo = await makeRepo(secret, true);
  const packName = (await readdir(join(repo, '.git/objects/pack'))).find((name) => name.endsWith('.pack'))!;
  const pack = await readFile(join(repo, '.git/objects/pack', packName));
  t.throws(() => parseGitPack(pack.subarray(0, pack.length >> 1), 1 << 30), { instanceOf: GitPackError });
  const hugeCount = Buffer.from(pack);
  hugeCount.writeUInt32BE(0xffffffff, 8);
  t.throws(() => parseGitPack(hugeCount, 1 << 30), { instanceOf: GitPackError, message: /claims 4294967295 objects/ });
  // A delta that declares a 16 GiB result is refused from its header.
  const delta = Buffer.from([3, 0x80, 0x80, 0x80, 0x80, 0x40, 0x03, 0x61, 0x62, 0x63]);
  t.throws(() => applyGitDelta(Buffer.from('abc'), delta, 1 << 30), { message: /declares a 17179869184-byte object/ });
  const files = await filesOf(repo, 'src/app');
  const key = Object.keys(files).find((name) => name.endsWith('.pack'))!;
  files[key] = pack.subarray(0, pack.length >> 1);
  const written = await writeFixture({ layers: [{ files }] }, 'docker-oci', join(dir, `img-${counter++}.tar`));
  const report = await scanTarget(written.path);
  t.true(
    report.notes.some((n) => n.kind === 'nested-unreadable' && n.path === key && /git pack/.test(n.message)),
    JSON.stringify(report.notes),
  );
});
