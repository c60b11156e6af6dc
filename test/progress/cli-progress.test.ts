// Progress as a user sees it: the real CLI as a child process. Lines on stderr (never stdout, which
// carries the JSON report), none with --progress quiet, a redrawn bar on a terminal (a pty from script(1)).
import test from 'ava';
import { execa } from 'execa';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { runCli, repoRoot } from '../helpers/cli.js';
import { makeFixtureDir, writeFixture } from '../helpers/image-fixture.js';
import { SPACK_FIXTURE, SPACK_FIXTURE_KEY } from '../buildcache/fixtures.js';

let fixture: Awaited<ReturnType<typeof makeFixtureDir>>;
let image: string;
test.before(async () => {
  fixture = await makeFixtureDir('eic-build-progress');
  image = join(fixture.dir, 'image.tar');
  await writeFixture({ layers: [1, 2, 3].map((n) => ({ files: { [`f${n}.txt`]: `layer ${n}\n`.repeat(10_000) } })) }, 'docker-oci', image);
});
test.after.always(() => fixture?.cleanup());
// Children must not think they run in CI (auto would pick plain anyway, but the tty case must not).
const env = { CI: '', EIC_BUILD_PROGRESS_INTERVAL: '0.01' };

test('scan: not a terminal → plain lines on stderr; stdout is the JSON report alone', async (t) => {
  for (const args of [['--progress', 'plain'], []]) {
    const run = await runCli(['scan', image, '--format', 'json', ...args], { env });
    t.is(run.exitCode, 0, String(run.stderr));
    t.like(JSON.parse(String(run.stdout)), { leaked: false }, 'stdout parses as the report');
    t.false(String(run.stdout).includes('eic-build:'));
    const lines = String(run.stderr).trimEnd().split('\n');
    t.is(lines[0], `eic-build: scanning ${image}…`, `announced first (${args.join(' ') || 'auto'})`);
    t.regex(lines.at(-1)!, new RegExp(`^eic-build: scanning ${image}: done, 3 layers, \\d+(\\.\\d)? (B|KiB) in \\d+s$`));
    t.false(String(run.stderr).includes('\r'), 'no redraws in a log');
  }
});

test('scan --progress quiet: nothing on stderr', async (t) => {
  const run = await runCli(['scan', image, '--format', 'json', '--progress', 'quiet'], { env });
  t.is(run.exitCode, 0);
  t.is(String(run.stderr), '');
  t.like(JSON.parse(String(run.stdout)), { leaked: false });
});

test('a bad --progress value exits 2 naming the modes', async (t) => {
  const run = await runCli(['scan', image, '--progress', 'loud'], { env });
  t.is(run.exitCode, 2);
  t.regex(String(run.stderr), /--progress 'loud'[\s\S]*auto, tty, plain or quiet/);
  t.is(String(run.stdout), '');
});

test('scan on a terminal (pty): a bar redrawn in place, then the summary line', async (t) => {
  const cli = fileURLToPath(new URL('../../src/cli.ts', import.meta.url));
  const command = `${process.execPath} --import tsx ${cli} scan ${image} --progress auto --format json`;
  // script(1) gives the child a pty for stdout and stderr; -e passes its exit code on.
  const run = await execa('script', ['-qefc', command, '/dev/null'], { cwd: repoRoot, env: { ...env, TERM: 'xterm' }, reject: false });
  t.is(run.exitCode, 0, String(run.stdout));
  const text = String(run.stdout);
  t.true(text.includes('\r\x1b[K'), 'the line is redrawn with a carriage return and erase-line');
  t.regex(text, /scanning \S+ \[[#.]{20}\] +\d+%|scanning \S+ \[[|/\\-]\]/);
  t.regex(text, /eic-build: scanning \S+: done, 3 layers/);
  t.false(text.includes(`eic-build: scanning ${image}…`), 'no plain announcement on a terminal: the bar is it');
});

test('[integration] buildcache verify and --copy-to: entry progress on stderr, the JSON report alone on stdout', async (t) => {
  const run = await runCli(['buildcache', 'verify', `file://${SPACK_FIXTURE}`, '--public-key', SPACK_FIXTURE_KEY, '--format', 'json', '--progress', 'plain'], { env });
  t.is(run.exitCode, 0, String(run.stderr));
  t.like(JSON.parse(String(run.stdout)), { ok: true });
  t.true(String(run.stderr).startsWith(`eic-build: verifying file://${SPACK_FIXTURE}…\n`), String(run.stderr));
  const copy = await runCli(
    ['buildcache', 'verify', `file://${SPACK_FIXTURE}`, '--public-key', SPACK_FIXTURE_KEY, '--copy-to', join(fixture.dir, 'copy'), '--format', 'json', '--progress', 'plain'],
    { env },
  );
  t.is(copy.exitCode, 0, String(copy.stderr));
  t.like(JSON.parse(String(copy.stdout)), { copy: { kind: 'written' } });
  t.regex(String(copy.stderr), /eic-build: verifying file:\/\/\S+…\n[\s\S]*eic-build: copying verified entries to \S+…/);
  const quiet = await runCli(['buildcache', 'verify', `file://${SPACK_FIXTURE}`, '--public-key', SPACK_FIXTURE_KEY, '--progress', 'quiet'], { env });
  t.is(String(quiet.stderr), '');
});
