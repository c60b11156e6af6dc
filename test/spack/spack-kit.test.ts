import test from 'ava';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { findSpackKit, spackKitTest } from '../helpers/spack-kit.js';

// How real-Spack tests find the kit, and what happens without it: skipped with the reason, or in CI a failure.

test('the kit is found at $EIC_BUILD_SPACK_KIT, else at ../shared/spack-kit beside the repository', async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'eic-build-kit-'));
  t.teardown(() => rm(dir, { recursive: true, force: true }));
  const missing = findSpackKit({ EIC_BUILD_SPACK_KIT: dir });
  t.false(missing.found);
  t.regex(missing.found ? '' : missing.reason, new RegExp(`EIC_BUILD_SPACK_KIT=${dir} has no make-base-image\\.sh`));
  await writeFile(join(dir, 'make-base-image.sh'), '#!/bin/sh\n');
  t.deepEqual(findSpackKit({ EIC_BUILD_SPACK_KIT: dir }), { found: true, dir });
  const beside = findSpackKit({}, join(dir, 'repo'));
  t.false(beside.found);
  t.regex(beside.found ? '' : beside.reason, new RegExp(`no spack-kit at ${join(dir, 'shared', 'spack-kit')}`));
});

test('without the kit, real-Spack tests are skipped with the reason; with CI=true they fail loudly', (t) => {
  const fake = { serial: 'serial', skip: 'skip' };
  const ci = process.env.CI;
  t.teardown(() => {
    if (ci === undefined) delete process.env.CI;
    else process.env.CI = ci;
  });
  delete process.env.CI;
  t.is(spackKitTest(fake, { found: true, dir: '/kit' }), 'serial');
  t.is(spackKitTest(fake, { found: false, reason: 'no spack-kit at /x' }), 'skip');
  process.env.CI = 'true';
  t.throws(() => spackKitTest(fake, { found: false, reason: 'no spack-kit at /x' }), {
    message: /real-Spack tests cannot run: no spack-kit at \/x\. CI must provide the spack-kit/,
  });
});
