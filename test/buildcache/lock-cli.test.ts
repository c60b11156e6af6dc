// `buildcache verify --spack-lock` usage and input errors through the CLI: exit 2, the file named, and
// not one request made to the mirror (a loopback server counts them).
import test from 'ava';
import { mkdir, writeFile } from 'node:fs/promises';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { runCli } from '../helpers/cli.js';
import { tempDir } from './fixtures.js';

let work: string;
let cleanup: () => Promise<void>;
let mirror: string;
let requests = 0;
let close: () => void;

test.before(async () => {
  ({ dir: work, cleanup } = await tempDir());
  const server = createServer((_req, res) => {
    requests += 1;
    res.writeHead(404).end();
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  close = () => server.close();
  mirror = `oci+http://127.0.0.1:${(server.address() as AddressInfo).port}/eic/cache`;
});
test.after.always(async () => {
  close?.();
  await cleanup?.();
});

const verify = (...args: string[]) => runCli(['buildcache', 'verify', mirror, ...args]);

test('[integration] bad --spack-lock files: exit 2 naming the file, before any request to the mirror', async (t) => {
  const files: Record<string, string> = {
    'not-json.lock': '{"_meta": {',
    'spack.yaml': 'spack:\n  specs: [zlib]\n',
    'not-a-lock.json': JSON.stringify({ spec: { _meta: { version: 5 }, nodes: [] } }),
    'abstract.lock': JSON.stringify({ _meta: { 'file-type': 'spack-lockfile', 'lockfile-version': 5 }, roots: [] }),
    'old.lock': JSON.stringify({ _meta: { 'file-type': 'spack-lockfile', 'lockfile-version': 3 }, roots: [], concrete_specs: {} }),
  };
  for (const [name, text] of Object.entries(files)) await writeFile(join(work, name), text);
  await mkdir(join(work, 'a-directory'));
  const cases: [string, RegExp][] = [
    [
      join(work, 'missing', 'spack.lock'),
      /error: --spack-lock .*missing\/spack\.lock: cannot read the lockfile \(ENOENT\)\nhint: the runtime stage needs the environment's spack\.lock: COPY it from the concretization stage.*--spec.*--all/,
    ],
    [join(work, 'a-directory'), /error: --spack-lock .*a-directory: cannot read the lockfile \(EISDIR\)/],
    [join(work, 'not-json.lock'), /error: .*not-json\.lock is not JSON/],
    [join(work, 'spack.yaml'), /error: .*spack\.yaml is not JSON/],
    [join(work, 'not-a-lock.json'), /error: .*not-a-lock\.json is not a Spack environment lockfile/],
    [join(work, 'abstract.lock'), /error: .*abstract\.lock has no concrete_specs/],
    [join(work, 'old.lock'), /error: .*old\.lock is a lockfile of version 3.*\nhint: re-concretize the environment with a current Spack/],
  ];
  const runs = await Promise.all(cases.map(([file]) => verify('--spack-lock', file, '--copy-to', join(work, 'never'))));
  runs.forEach((run, i) => {
    const [file, message] = cases[i]!;
    t.is(run.exitCode, 2, file);
    t.regex(String(run.stderr), message, file);
    t.true(String(run.stderr).includes(file), `${file} is named`);
    t.is(String(run.stdout), '', 'no partial report');
  });
  t.is(requests, 0, 'no request reached the mirror');
});

test('[integration] --spack-lock excludes --all and --spec; --include-build-deps needs it; sign does not take it', async (t) => {
  const lock = join(work, 'any.lock');
  const [all, spec, build, sign] = await Promise.all([
    verify('--spack-lock', lock, '--all'),
    verify('--spack-lock', lock, '--spec', 'zlib-1.3.1-zzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzz'),
    verify('--include-build-deps', '--all'),
    runCli(['buildcache', 'sign', mirror, '--spack-lock', lock]),
  ]);
  t.is(all.exitCode, 2);
  t.regex(String(all.stderr), /error: --spack-lock excludes --all/);
  t.is(spec.exitCode, 2);
  t.regex(String(spec.stderr), /error: --spack-lock excludes --spec/);
  t.is(build.exitCode, 2);
  t.regex(String(build.stderr), /error: --include-build-deps needs --spack-lock/);
  t.is(sign.exitCode, 2);
  t.regex(String(sign.stderr), /--spack-lock belong to buildcache verify/);
  t.is(requests, 0);
});

test('[integration] --help lists --spack-lock and the absent status', async (t) => {
  const run = await runCli(['buildcache', 'verify', '--help']);
  t.is(run.exitCode, 0);
  t.regex(String(run.stdout), /--spack-lock FILE/);
  t.regex(String(run.stdout), /--include-build-deps/);
  t.regex(String(run.stdout), /absent \(--spack-lock only/);
});
