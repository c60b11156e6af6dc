// .ci/setup-system.sh's apt steps wait for a lock another apt run holds (bounded) instead of exit 100.
// The lock is held the way apt holds it, with fcntl (perl, which every Debian has: perl-base is
// essential), while the script's own functions (.ci/apt-lock.sh) run.
import test from 'ava';
import { execa, type ResultPromise } from 'execa';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { repoRoot } from '../helpers/cli.js';

const HOLD = `use Fcntl; open(my $f, ">>", $ARGV[0]) or die "open: $!"; fcntl($f, F_SETLKW, pack("s s x4 q q i x4", F_WRLCK, SEEK_SET, 0, 0, 0)) or die "lock: $!"; $| = 1; print "locked\\n"; sleep $ARGV[1];`;

/** Hold `file`'s lock for `seconds`; resolves once it is held (boxed: a returned promise would be awaited). */
async function holdLock(file: string, seconds: number): Promise<{ holder: ResultPromise }> {
  const holder = execa('perl', ['-e', HOLD, file, String(seconds)], { reject: false });
  await new Promise<void>((resolve, reject) => {
    holder.stdout!.once('data', () => resolve());
    holder.once('exit', () => reject(new Error('the lock holder exited before it held the lock')));
  });
  return { holder };
}

let dir: string;
test.before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'eic-build-apt-lock-'));
  await mkdir(join(dir, 'lists/partial'), { recursive: true });
  await writeFile(join(dir, 'empty.list'), '');
});
test.after.always(() => rm(dir, { recursive: true, force: true }));

// `apt-get update` against an empty source list in a private lists directory: only its lock matters.
const update = (timeout: string) =>
  execa(
    'bash',
    [
      '-c',
      `source .ci/apt-lock.sh && apt_update_waiting -o Dir::Etc::sourcelist=${dir}/empty.list -o Dir::Etc::sourceparts=${dir}/none -o Dir::State::Lists=${dir}/lists -o Dir::Cache=${dir}/cache`,
    ],
    {
      cwd: repoRoot,
      env: { EIC_BUILD_APT_LOCK_TIMEOUT: timeout },
      reject: false,
    },
  );

test.serial('[integration] apt-get update waits while another apt run holds the lists lock, then runs', async (t) => {
  // Held for 8 s: waiting shows as at least 2.5 s even when this process notices the lock late.
  const { holder } = await holdLock(join(dir, 'lists/lock'), 8);
  const started = Date.now();
  const run = await update('60');
  t.is(run.exitCode, 0, String(run.stderr));
  t.true(Date.now() - started >= 2500, 'it waited for the holder');
  t.regex(String(run.stderr), /waiting for another apt run to release its lock/);
  await holder;
});

test.serial('[integration] the wait is bounded: past EIC_BUILD_APT_LOCK_TIMEOUT it fails with exit 100 and says why', async (t) => {
  // Held for 120 s and killed after: 'gave up at the 2 s bound' and 'waited for the holder' are then far
  // apart (a slow start of bash and apt on a loaded machine cannot blur them).
  const { holder } = await holdLock(join(dir, 'lists/lock'), 120);
  const started = Date.now();
  const run = await update('2');
  t.is(run.exitCode, 100);
  t.true(Date.now() - started < 60_000, 'it gave up at the bound, not when the holder let go');
  t.regex(String(run.stderr), /apt lock still held after 2 s \(EIC_BUILD_APT_LOCK_TIMEOUT\)/);
  holder.kill();
  await holder;
});

test.serial("[integration] apt-get install waits for dpkg's frontend lock (held for 8 s) instead of exit 100", async (t) => {
  if (process.getuid?.() !== 0) {
    t.fail('needs root, as .ci/setup-system.sh does');
    return;
  }
  const { holder } = await holdLock('/var/lib/dpkg/lock-frontend', 8);
  const started = Date.now();
  // procps is installed already (setup-system.sh needs it): apt takes the lock, then has nothing to do.
  const run = await execa('bash', ['-c', 'source .ci/apt-lock.sh && apt_install_waiting procps'], {
    cwd: repoRoot,
    env: { EIC_BUILD_APT_LOCK_TIMEOUT: '60' },
    reject: false,
    all: true,
  });
  t.is(run.exitCode, 0, String(run.all));
  t.true(Date.now() - started >= 2500, `it waited for the holder: ${String(run.all)}`);
  await holder;
});
