// runClient against real child processes (Node itself stands in for the docker client: what matters
// here is how output, secrets, exit codes and signals are handled, not what the client does).
import test from 'ava';
import { clearRegisteredSecrets, registerSecret } from '../../src/redact.js';
import { killLiveClients, lastLines, runClient } from '../../src/build/run-client.js';

const node = process.execPath;
const SECRET = 'not-a-real-token-0123456789abcdef';

test.before(() => registerSecret(SECRET));
test.after.always(() => clearRegisteredSecrets());

/** A child that writes `parts` to stdout/stderr in turn, pausing between them (so chunks split lines). */
function script(parts: { to: 'out' | 'err'; text: string }[], exitCode = 0): string[] {
  return [
    '-e',
    `const parts = ${JSON.stringify(parts)};
(async () => { for (const p of parts) { (p.to === 'out' ? process.stdout : process.stderr).write(p.text); await new Promise((r) => setTimeout(r, 30)); } process.exitCode = ${exitCode}; })();`,
  ];
}

test('stream mode: every line of stdout and stderr reaches err redacted, also a secret split across two writes; the exit code and stdout come back', async (t) => {
  const shown: string[] = [];
  const half = SECRET.length / 2;
  const run = await runClient(
    node,
    script(
      [
        { to: 'err', text: '#1 building\n' },
        { to: 'out', text: `token ${SECRET.slice(0, half)}` },
        { to: 'out', text: `${SECRET.slice(half)} end\nlast line without newline` },
      ],
      3,
    ),
    { mode: 'stream', err: (text) => shown.push(text) },
  );
  t.is(run.exitCode, 3);
  t.deepEqual(shown, ['#1 building\n', 'token [REDACTED] end\n', 'last line without newline\n']);
  t.is(run.stdout, 'token [REDACTED] end\nlast line without newline');
  t.false(run.log.includes(SECRET));
  t.is(lastLines(run.log, 2), 'token [REDACTED] end\nlast line without newline');
});

test('a private key block printed over many lines (RUN cat key) is censored in the stream and in the log, up to its END line', async (t) => {
  const shown: string[] = [];
  const body = ['#7 0.31 lQdGBGZ1dW1mYWtlIGtleSBib2R5IGxpbmUgb25lIGZvciB0aGUgdGVzdA', '#7 0.31 bGluZSB0d28gb2YgdGhlIGZha2Uga2V5IGJvZHkgZm9yIHRoZSB0ZXN0IGhlcmU'];
  const text = ['#7 0.31 -----BEGIN PGP PRIVATE KEY BLOCK-----', '#7 0.31', ...body, '#7 0.31 -----END PGP PRIVATE KEY BLOCK-----', '#7 DONE 0.3s', ''].join('\n');
  const run = await runClient(
    node,
    script([
      { to: 'err', text: text.slice(0, 70) },
      { to: 'err', text: text.slice(70) },
    ]),
    { mode: 'stream', err: (s) => shown.push(s) },
  );
  const all = shown.join('');
  for (const line of body) {
    t.false(all.includes(line.slice(8)), all);
    t.false(run.log.includes(line.slice(8)));
  }
  t.regex(all, /-----END PGP PRIVATE KEY BLOCK-----\n#7 DONE 0\.3s\n$/);
});

test('silent mode shows nothing, and the log keeps only the tail of a long output', async (t) => {
  const shown: string[] = [];
  const run = await runClient(node, ['-e', 'for (let i = 0; i < 20000; i++) process.stderr.write(`line ${i} of a long build log\\n`)'], {
    mode: 'silent',
    err: (s) => shown.push(s),
  });
  t.is(run.exitCode, 0);
  t.deepEqual(shown, []);
  t.true(run.log.length <= 64 * 1024);
  t.is(lastLines(run.log, 1), 'line 19999 of a long build log');
});

test('secrets travel in the environment, never argv; baseEnv replaces process.env', async (t) => {
  const run = await runClient(node, ['-e', 'process.stdout.write(`${process.env.EIC_BUILD_SECRET_X === process.env.EXPECT} ${process.env.PATH === undefined}`)'], {
    mode: 'silent',
    baseEnv: { EXPECT: 'value-in-env-only' },
    env: { EIC_BUILD_SECRET_X: 'value-in-env-only' },
  });
  t.is(run.stdout, 'true true');
});

test.serial('killLiveClients stops a running client (the exit action of an interrupted build); a client that cannot start rejects', async (t) => {
  const running = runClient(node, ['-e', 'setInterval(() => {}, 1000)'], { mode: 'silent' });
  await new Promise((resolve) => setTimeout(resolve, 300));
  killLiveClients('SIGTERM');
  t.is((await running).exitCode, 128);
  await t.throwsAsync(runClient('/nonexistent/docker', ['version'], { mode: 'silent' }), { message: /ENOENT/ });
});
