import test from 'ava';
import { buildFailureError } from '../../src/build/client-calls.js';

test('buildFailureError: a known problem names its fix; otherwise the log tail and the matching hints', (t) => {
  const unknown = buildFailureError({ exitCode: 1, log: 'step 3\nno space left on device\n', stdout: '' }, 'the build', { mirrors: [], network: undefined });
  t.is(unknown.code, 'build-failed');
  t.regex(unknown.message, /^the build failed \(exit 1\):\nstep 3\nno space left on device$/);
  t.regex(unknown.hint ?? '', /free disk space/);
  const plain = buildFailureError({ exitCode: 2, log: 'something odd\n', stdout: '' }, "building stage 'x'", { mirrors: [], network: undefined });
  t.regex(plain.hint ?? '', /--progress plain/);
  const lock = buildFailureError({ exitCode: 1, log: 'error: --spack-lock /env/spack.lock: cannot read the lockfile (ENOENT)\n', stdout: '' }, 'the build', {
    mirrors: [],
    network: undefined,
  });
  t.regex(lock.message, /the runtime stage has no \/env\/spack\.lock/);
});
