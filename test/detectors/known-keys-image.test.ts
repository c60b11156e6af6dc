// [integration] A plain debootstrap Debian bookworm image with gnupg is not a leak: the self-test keys
// compiled into libgcrypt and GnuTLS are reported as notes naming them, never as findings.
import test from 'ava';
import { WELL_KNOWN_KEYS } from '../../src/detectors/index.js';
import { runCli } from '../helpers/cli.js';
import { ensureDebianGnupgImage } from '../helpers/images.js';

test('[integration] scanning the Debian bookworm + gnupg image: exit 0, zero findings, notes name the self-test keys', async (t) => {
  t.timeout(10 * 60_000);
  const image = await ensureDebianGnupgImage();
  const run = await runCli(['scan', `docker-daemon:${image}`, '--format', 'json']);
  t.is(run.exitCode, 0, String(run.stderr));
  const report = JSON.parse(String(run.stdout)) as { leaked: boolean; findings: unknown[]; notes: Array<{ path: string | null; message: string }> };
  t.false(report.leaked);
  t.deepEqual(report.findings, []);
  const named = (prefix: string, path: RegExp): string[] =>
    WELL_KNOWN_KEYS.filter((key) => key.id.startsWith(prefix))
      .filter((key) =>
        report.notes.some(
          (note) => note.path !== null && path.test(note.path) && note.message.startsWith(`well-known public test key (${key.origin}, `) && note.message.endsWith(': not a leak'),
        ),
      )
      .map((key) => key.id);
  t.deepEqual(named('libgcrypt-', /^usr\/lib\/x86_64-linux-gnu\/libgcrypt\.so\./), ['libgcrypt-selftest-dsa', 'libgcrypt-selftest-rsa', 'libgcrypt-selftest-ecdsa-p256']);
  t.is(named('gnutls-', /^usr\/lib\/x86_64-linux-gnu\/libgnutls\.so\./).length, 10);
});
