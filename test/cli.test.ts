import test from 'ava';
import { main, exitCodeFor } from '../src/cli.js';
import { memoryIo } from '../src/cli-io.js';
import { runCli } from './helpers/cli.js';

test('no command prints usage on stderr and exits 2', async (t) => {
  const io = memoryIo();
  t.is(await main([], io), 2);
  t.regex(io.stderr, /usage: eic-build <command>/);
});

test('an unknown command names itself and exits 2', async (t) => {
  const io = memoryIo();
  t.is(await main(['frobnicate'], io), 2);
  t.regex(io.stderr, /unknown command 'frobnicate'/);
});

test('exit codes follow the documented table', (t) => {
  t.is(exitCodeFor('leak-found'), 1);
  t.is(exitCodeFor('usage'), 2);
  t.is(exitCodeFor('build-failed'), 3);
  t.is(exitCodeFor('push-failed'), 4);
  t.is(exitCodeFor('internal'), 70);
});

test('a bug (an error eic-build did not raise on purpose) exits 70, not 2, and says how to report it', async (t) => {
  const io = memoryIo();
  // an output channel that breaks stands in for any bug inside a command
  const broken = {
    ...io,
    out: () => {
      throw new TypeError('Cannot read properties of undefined');
    },
  };
  t.is(await main(['key', '--help'], broken), 70);
  t.regex(io.stderr, /internal error: TypeError: Cannot read properties of undefined/);
  t.regex(io.stderr, /hint: this is a bug in eic-build; please report it/);
});

test('the CLI runs as a child process and prints its version', async (t) => {
  const result = await runCli(['--version']);
  t.is(result.exitCode, 0);
  t.regex(String(result.stdout), /^\d+\.\d+\.\d+/);
});
