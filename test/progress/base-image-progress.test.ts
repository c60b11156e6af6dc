// Making a base image is announced before it starts and ends with how long it took (the README's
// first command used to be minutes of silence). The busybox kind runs for real here in seconds;
// debootstrap's line is checked as text (a real debootstrap is the minutes this is about).
import test from 'ava';
import Docker from 'dockerode';
import { execa } from 'execa';
import { describeBaseImageWork, ensureBaseImage } from '../../src/docker/base-image.js';
import { createProgressReporter } from '../../src/progress/index.js';

const NAME = `eic-build-test/ci-fit-busybox:${process.pid}`;
test.after.always(async () => {
  await execa('docker', ['rmi', NAME], { reject: false });
});

test('the debootstrap announcement names the image, the tool, and how long it takes', (t) => {
  const line = describeBaseImageWork({ kind: 'debootstrap', name: 'eic-build/bookworm-gnupg:1', packages: ['gnupg'] });
  t.is(line, "making base image eic-build/bookworm-gnupg:1 with debootstrap bookworm + gnupg from the machine's apt mirror (about a minute, longer on a slow mirror)…");
});

test('[integration] ensureBaseImage says what it makes before it starts, then that it made it; nothing when the image exists', async (t) => {
  const lines: string[] = [];
  const docker = new Docker();
  const progress = createProgressReporter({
    mode: 'plain',
    intervalMs: 60_000,
    write: (text) => {
      lines.push(text);
    },
  });
  const made = await ensureBaseImage({ kind: 'busybox', name: NAME }, docker, progress);
  t.true(made.created);
  t.is(lines.length, 2, lines.join(''));
  t.is(lines[0], `eic-build: making base image ${NAME} from this machine's busybox (a few seconds)…\n`);
  t.regex(lines.at(-1)!, new RegExp(`^eic-build: made base image ${NAME.replace(/[.:/]/g, '\\$&')} \\(busybox\\) in \\d+s\\n$`));
  lines.length = 0;
  t.false((await ensureBaseImage({ kind: 'busybox', name: NAME }, docker, progress)).created);
  t.deepEqual(lines, [], 'an image already there is not news');
});
