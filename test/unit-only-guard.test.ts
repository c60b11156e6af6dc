// The unit-only guard (test/helpers/unit-only-guard.mjs) in a child Node process of its own, so its
// stand-ins and its exit check belong to that child and not to this test worker. Nothing external runs:
// the guard stops each tool before it starts.
import test from 'ava';
import { execa } from 'execa';
import { chmod, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { delimiter, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { externalTools } from './helpers/unit-only-guard.mjs';

const guard = fileURLToPath(new URL('./helpers/unit-only-guard.mjs', import.meta.url));

/** This process's environment without a guard it may carry itself (npm run test:unit). */
function cleanEnv(extra: Record<string, string>): Record<string, string> {
  const env: Record<string, string> = {};
  for (const [name, value] of Object.entries(process.env)) {
    if (value !== undefined && !['EIC_BUILD_UNIT_ONLY', 'NODE_OPTIONS', 'EIC_BUILD_SCAN_DECODE_TOOLS'].includes(name)) env[name] = value;
  }
  env.PATH = (process.env.PATH ?? '')
    .split(delimiter)
    .filter((dir) => !dir.startsWith(join(tmpdir(), 'eic-build-unit-only-')))
    .join(delimiter);
  return { ...env, ...extra };
}

/** Run `script` (an ES module) in a child Node that loads the guard, as an ava worker does. */
async function inGuardedChild(script: string, env: Record<string, string>) {
  return execa(process.execPath, ['--import', guard, '--input-type=module', '-e', script], { env: cleanEnv(env), extendEnv: false, reject: false });
}

test('the external tools are what .ci/setup-system.sh installs, their companions and Spack; Node and the essential tools are not', (t) => {
  const tools = externalTools();
  for (const tool of [
    'docker',
    'dockerd',
    'docker-registry',
    'skopeo',
    'debootstrap',
    'gpg',
    'gpg-agent',
    'gpgconf',
    'spack',
    'zstd',
    'xz',
    'ssh-keygen',
    'openssl',
    'git',
    'zip',
  ]) {
    t.true(tools.includes(tool), tool);
  }
  for (const tool of ['node', 'sh', 'bash', 'tar', 'gzip', 'perl']) t.false(tools.includes(tool), tool);
  // Read from the script: a tool it starts to install is external at once.
  const fromScript = externalTools('command -v /usr/bin/docker >/dev/null 2>&1 || need+=(docker.io)\ncommand -v newtool >/dev/null 2>&1 || need+=(newtool)\n');
  t.true(fromScript.includes('docker') && fromScript.includes('newtool') && fromScript.includes('spack') && fromScript.includes('gpg-agent'), fromScript.join(' '));
  t.false(fromScript.includes('skopeo'));
});

test('with EIC_BUILD_UNIT_ONLY=1: a spawn of a tool, a grandchild Node, and the Docker socket all fail naming the rule; a test-made stand-in runs', async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'eic-build-guard-test-'));
  t.teardown(() => rm(dir, { recursive: true, force: true }));
  const fake = join(dir, 'gpg');
  await writeFile(fake, '#!/bin/sh\necho fake-gpg\n');
  await chmod(fake, 0o755);
  const script = `
    import { execFileSync, spawnSync } from 'node:child_process';
    import { connect } from 'node:net';
    const out = {};
    const attempt = (name, run) => { try { out[name] = String(run()).trim(); } catch (error) { out[name] = String(error.message); } };
    attempt('gpg', () => execFileSync('gpg', ['--version']));
    attempt('absolute', () => execFileSync('/usr/bin/skopeo', ['--version']));
    attempt('fake', () => execFileSync(${JSON.stringify(fake)}));
    attempt('grandchild', () => spawnSync(process.execPath, ['-e', "require('node:child_process').execFileSync('docker', ['version'])"], { encoding: 'utf8' }).stderr);
    out.socket = await new Promise((resolve) => connect('/var/run/docker.sock').on('error', (e) => resolve(e.message)).on('connect', () => resolve('connected')));
    console.log(JSON.stringify(out));
  `;
  const run = await inGuardedChild(script, { EIC_BUILD_UNIT_ONLY: '1' });
  t.is(run.exitCode, 0, run.stderr);
  const out = JSON.parse(run.stdout) as Record<string, string>;
  const rule = /unit-only run \(EIC_BUILD_UNIT_ONLY=1, npm run test:unit\).*must have "\[integration\]" in its title/;
  t.regex(out.gpg!, rule);
  t.regex(out.gpg!, /'gpg'/);
  t.regex(out.absolute!, /'skopeo'/);
  t.is(out.fake, 'fake-gpg');
  t.regex(out.grandchild!, /'docker'/);
  t.regex(out.socket!, /the Docker engine \(\/var\/run\/docker\.sock\)/);
});

test('with EIC_BUILD_UNIT_ONLY=1: a tool run inside a shell pipeline (its exit status hidden) fails the process at exit', async (t) => {
  const run = await inGuardedChild(`import { execFileSync } from 'node:child_process'; console.log(execFileSync('sh', ['-c', 'zip -v | cat; echo piped']).toString().trim());`, {
    EIC_BUILD_UNIT_ONLY: '1',
  });
  t.is(run.stdout, 'piped');
  t.is(run.exitCode, 1);
  t.regex(run.stderr, /external tool\(s\) zip from a shell or script/);
});

test('without EIC_BUILD_UNIT_ONLY the guard does nothing', async (t) => {
  const run = await inGuardedChild(`console.log(JSON.stringify({ options: process.env.NODE_OPTIONS ?? '', path: process.env.PATH }));`, {});
  t.is(run.exitCode, 0, run.stderr);
  const out = JSON.parse(run.stdout) as { options: string; path: string };
  t.is(out.options, '');
  t.false(out.path.includes('eic-build-unit-only-'));
});
