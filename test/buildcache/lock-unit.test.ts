// `--spack-lock`: which entries of a Spack environment lockfile are selected (pure parsing over
// hand-written lockfiles in the real formats), how they are matched to a mirror's entries, and how
// 'absent' entries count in the report and the exit code.
import test from 'ava';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { EicBuildError } from '../../src/errors.js';
import { parseSpackLockSelection, readSpackLockSelection, selectLockEntries, type LockEntry } from '../../src/buildcache/spack-lock.js';
import { selectOciLockEntries } from '../../src/buildcache/verify/verify-oci.js';
import { spackTag } from '../../src/buildcache/oci-entries.js';
import { formatVerifyJson, formatVerifyText, verifyExitCode, type EntryResult, type VerifyReport } from '../../src/buildcache/report.js';

const H = {
  app: 'aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa',
  zlib: 'zzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzz',
  cmake: 'cccccccccccccccccccccccccccccccc',
  gcc: 'gggggggggggggggggggggggggggggggg',
  runtime: 'rrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrr',
  python: 'pppppppppppppppppppppppppppppppp',
  wrapper: 'wwwwwwwwwwwwwwwwwwwwwwwwwwwwwwww',
};

/** A dependency edge as lockfiles v5+ write it (specfile v4/v5). */
const dep = (name: keyof typeof H, deptypes: string[], virtuals: string[] = []) => ({ name, hash: H[name], parameters: { deptypes, virtuals } });

/** A node as Spack writes it into concrete_specs. */
function node(name: keyof typeof H, version: string, extra: Record<string, unknown> = {}) {
  return {
    name,
    version,
    arch: { platform: 'linux', platform_os: 'debian12', target: 'x86_64_v3' },
    namespace: 'builtin',
    parameters: { build_system: 'generic', cflags: [], cppflags: [], cxxflags: [], fflags: [], ldflags: [], ldlibs: [] },
    package_hash: 'wqhipfa4ispflxkgeqhliasltpb6y7draebggqx5tnw6g6ryomrq====',
    ...extra,
    hash: H[name],
  };
}

/**
 * A Spack 1.x-style environment: root `app` links zlib and gcc-runtime, runs python, builds with cmake,
 * compiler-wrapper and the external system gcc (a build dependency providing c/cxx).
 */
function v6Lock(): Record<string, unknown> {
  return {
    _meta: { 'file-type': 'spack-lockfile', 'lockfile-version': 6, 'specfile-version': 5 },
    spack: { version: '1.1.0', type: 'release' },
    roots: [{ hash: H.app, spec: 'app' }],
    concrete_specs: {
      [H.app]: node('app', '2.0', {
        dependencies: [
          dep('zlib', ['build', 'link']),
          dep('cmake', ['build']),
          dep('python', ['run']),
          dep('gcc', ['build'], ['c', 'cxx']),
          dep('runtime', ['link']),
          dep('wrapper', ['build']),
        ],
      }),
      [H.zlib]: node('zlib', '1.3.1', { dependencies: [dep('gcc', ['build'], ['c']), dep('runtime', ['link'])] }),
      [H.cmake]: node('cmake', '3.31.2', { dependencies: [dep('zlib', ['build', 'link'])] }),
      [H.python]: node('python', '3.12.5', { dependencies: [dep('zlib', ['build', 'link'])] }),
      [H.gcc]: node('gcc', '12.2.0', { external: { path: '/usr', module: null, extra_attributes: { compilers: { c: '/usr/bin/gcc' } } } }),
      [H.runtime]: node('runtime', '12.2.0', { dependencies: [dep('gcc', ['build'])] }),
      [H.wrapper]: node('wrapper', '1.0'),
    },
  };
}

const ids = (entries: readonly { id: string }[]) => entries.map((e) => e.id);

test('parseSpackLockSelection: roots and their link/run closure, no externals, no build-only dependencies', (t) => {
  const selection = parseSpackLockSelection(JSON.stringify(v6Lock()), 'env/spack.lock');
  t.deepEqual(ids(selection.entries), [`app-2.0-${H.app}`, `python-3.12.5-${H.python}`, `runtime-12.2.0-${H.runtime}`, `zlib-1.3.1-${H.zlib}`]);
  t.deepEqual(selection.skipped, [
    { id: `cmake-3.31.2-${H.cmake}`, reason: 'build-only' },
    { id: `gcc-12.2.0-${H.gcc}`, reason: 'external' },
    { id: `wrapper-1.0-${H.wrapper}`, reason: 'build-only' },
  ]);
  t.like(selection, { file: 'env/spack.lock', lockfileVersion: 6, includeBuildDeps: false, roots: 1, nodes: 7 });
  t.like(selection.entries[3], { name: 'zlib', version: '1.3.1', hash: H.zlib });
  t.is((selection.entries[3]!.node as { arch: { platform_os: string } }).arch.platform_os, 'debian12', 'the node is kept (v2 paths need arch and compiler)');
});

test('parseSpackLockSelection: includeBuildDeps selects every node but the externals (no test-only edge here)', (t) => {
  const selection = parseSpackLockSelection(JSON.stringify(v6Lock()), 'spack.lock', { includeBuildDeps: true });
  t.deepEqual(
    ids(selection.entries),
    ['app', 'cmake', 'python', 'runtime', 'wrapper', 'zlib'].map(
      (n) => `${n}-${{ app: '2.0', cmake: '3.31.2', python: '3.12.5', runtime: '12.2.0', wrapper: '1.0', zlib: '1.3.1' }[n]}-${H[n as keyof typeof H]}`,
    ),
  );
  t.deepEqual(selection.skipped, [{ id: `gcc-12.2.0-${H.gcc}`, reason: 'external' }]);
});

test('parseSpackLockSelection: test-only dependencies are not selected, not even with includeBuildDeps', (t) => {
  const lock = v6Lock();
  const specs = lock.concrete_specs as Record<string, { dependencies?: unknown[] }>;
  // wrapper becomes a test-only dependency of app; cmake stays a build dependency.
  specs[H.app]!.dependencies = specs[H.app]!.dependencies!.map((d) => ((d as { name: string }).name === 'wrapper' ? dep('wrapper', ['test']) : d));
  for (const includeBuildDeps of [false, true]) {
    const selection = parseSpackLockSelection(JSON.stringify(lock), 'spack.lock', { includeBuildDeps });
    t.false(ids(selection.entries).includes(`wrapper-1.0-${H.wrapper}`), `includeBuildDeps: ${includeBuildDeps}`);
    t.deepEqual(
      selection.skipped.find((s) => s.id.startsWith('wrapper-')),
      { id: `wrapper-1.0-${H.wrapper}`, reason: 'build-only' },
    );
    t.is(ids(selection.entries).includes(`cmake-3.31.2-${H.cmake}`), includeBuildDeps);
  }
});

test('parseSpackLockSelection: the v5 example shape, an external root, and a build+link edge', (t) => {
  const lock = {
    _meta: { 'file-type': 'spack-lockfile', 'lockfile-version': 5, 'specfile-version': 4 },
    spack: { version: '0.22.2', type: 'git', commit: '0123456789abcdef' },
    roots: [
      { hash: H.zlib, spec: 'zlib' },
      { hash: H.cmake, spec: 'cmake' },
    ],
    concrete_specs: {
      [H.zlib]: { ...node('zlib', '1.3.1'), compiler: { name: 'gcc', version: '12.2.0' } },
      [H.cmake]: { ...node('cmake', '3.25.1'), external: { path: '/usr', module: null } },
    },
  };
  const selection = parseSpackLockSelection(JSON.stringify(lock), 'spack.lock');
  t.deepEqual(ids(selection.entries), [`zlib-1.3.1-${H.zlib}`]);
  t.deepEqual(selection.skipped, [{ id: `cmake-3.25.1-${H.cmake}`, reason: 'external' }]);
});

test('parseSpackLockSelection: lockfile v4 edges (`type` instead of parameters.deptypes)', (t) => {
  const lock = {
    _meta: { 'file-type': 'spack-lockfile', 'lockfile-version': 4, 'specfile-version': 3 },
    roots: [{ hash: H.app, spec: 'app' }],
    concrete_specs: {
      [H.app]: node('app', '1.0', {
        dependencies: [
          { name: 'zlib', hash: H.zlib, type: ['build', 'link'] },
          { name: 'cmake', hash: H.cmake, type: ['build'] },
        ],
      }),
      [H.zlib]: node('zlib', '1.2.13'),
      [H.cmake]: node('cmake', '3.20.0'),
    },
  };
  const selection = parseSpackLockSelection(JSON.stringify(lock), 'spack.lock');
  t.deepEqual(ids(selection.entries), [`app-1.0-${H.app}`, `zlib-1.2.13-${H.zlib}`]);
  t.deepEqual(selection.skipped, [{ id: `cmake-3.20.0-${H.cmake}`, reason: 'build-only' }]);
});

test('parseSpackLockSelection: newer lockfile versions pass; include_concrete environments are installed too', (t) => {
  const lock = {
    _meta: { 'file-type': 'spack-lockfile', 'lockfile-version': 9, 'specfile-version': 7 },
    roots: [{ hash: H.app, spec: 'app' }],
    concrete_specs: { [H.app]: node('app', '1.0') },
    include_concrete: {
      '/opt/envs/base': {
        roots: [{ hash: H.zlib, spec: 'zlib' }],
        concrete_specs: { [H.zlib]: node('zlib', '1.3.1', { dependencies: [dep('python', ['run'])] }) },
        include_concrete: { '/opt/envs/inner': { roots: [], concrete_specs: { [H.python]: node('python', '3.12.5') } } },
      },
    },
  };
  const selection = parseSpackLockSelection(JSON.stringify(lock), 'spack.lock');
  t.is(selection.lockfileVersion, 9);
  t.deepEqual(ids(selection.entries), [`app-1.0-${H.app}`, `python-3.12.5-${H.python}`, `zlib-1.3.1-${H.zlib}`]);
  t.is(selection.roots, 2);
});

test("parseSpackLockSelection: a spliced node brings its build spec (whose tarball Spack installs), not the build spec's dependencies", (t) => {
  const lock = {
    _meta: { 'file-type': 'spack-lockfile', 'lockfile-version': 6, 'specfile-version': 5 },
    roots: [{ hash: H.app, spec: 'app' }],
    concrete_specs: {
      // app was built against python (the build spec, hash H.wrapper), then spliced onto zlib.
      [H.app]: node('app', '2.0', { dependencies: [dep('zlib', ['build', 'link'])], build_spec: { name: 'app', hash: H.wrapper } }),
      [H.zlib]: node('zlib', '1.3.1'),
      [H.wrapper]: { ...node('app', '2.0', { dependencies: [dep('python', ['build', 'link'])] }), hash: H.wrapper },
      [H.python]: node('python', '3.12.5'),
    },
  };
  const selection = parseSpackLockSelection(JSON.stringify(lock), 'spack.lock');
  t.deepEqual(ids(selection.entries), [`app-2.0-${H.app}`, `app-2.0-${H.wrapper}`, `zlib-1.3.1-${H.zlib}`]);
  t.deepEqual(selection.skipped, [{ id: `python-3.12.5-${H.python}`, reason: 'unreachable' }]);
});

test('parseSpackLockSelection: an environment with no specs selects nothing', (t) => {
  const selection = parseSpackLockSelection(JSON.stringify({ _meta: { 'file-type': 'spack-lockfile', 'lockfile-version': 5 }, roots: [], concrete_specs: {} }), 'spack.lock');
  t.deepEqual(selection.entries, []);
  t.deepEqual(selection.skipped, []);
});

test('parseSpackLockSelection: every kind of bad input is an EicBuildError naming the file', (t) => {
  const bad: [string, string, RegExp][] = [
    ['not json', '{"_meta": ', /bad\/spack\.lock is not JSON/],
    ['spack.yaml', 'spack:\n  specs: [zlib]\n', /bad\/spack\.lock is not JSON/],
    ['no _meta', JSON.stringify({ roots: [], concrete_specs: {} }), /bad\/spack\.lock is not a Spack environment lockfile/],
    ['a spec.json', JSON.stringify({ spec: { _meta: { version: 5 }, nodes: [] } }), /bad\/spack\.lock is not a Spack environment lockfile/],
    ['other file-type', JSON.stringify({ _meta: { 'file-type': 'other', 'lockfile-version': 5 }, concrete_specs: {} }), /file-type is "other"/],
    ['array', '[]', /bad\/spack\.lock is not a Spack environment lockfile/],
    ['no concrete_specs', JSON.stringify({ _meta: { 'file-type': 'spack-lockfile', 'lockfile-version': 5 }, roots: [] }), /bad\/spack\.lock has no concrete_specs/],
    ['concrete_specs list', JSON.stringify({ _meta: { 'lockfile-version': 5 }, roots: [], concrete_specs: [] }), /bad\/spack\.lock has no concrete_specs/],
    ['dangling root', JSON.stringify({ _meta: { 'lockfile-version': 5 }, roots: [{ hash: H.app, spec: 'app' }], concrete_specs: {} }), /root a{32} is not in concrete_specs/],
    [
      'dangling dependency',
      JSON.stringify({ _meta: { 'lockfile-version': 5 }, roots: [], concrete_specs: { [H.app]: node('app', '1', { dependencies: [dep('zlib', ['link'])] }) } }),
      /app-1-a{32} depends on z{32}, which is not in concrete_specs/,
    ],
    [
      'no version',
      JSON.stringify({ _meta: { 'lockfile-version': 5 }, roots: [], concrete_specs: { [H.app]: { name: 'app', hash: H.app } } }),
      /concrete_specs\["a{32}"\] \(app\) has no single version/,
    ],
  ];
  for (const [name, text, message] of bad) {
    const error = t.throws(() => parseSpackLockSelection(text, 'bad/spack.lock'), { instanceOf: EicBuildError }, name);
    t.regex(error!.message, message, name);
    t.truthy(error!.hint, name);
  }
});

test('parseSpackLockSelection: lockfile versions 1 to 3 are refused with re-concretize advice', (t) => {
  for (const version of [1, 2, 3]) {
    const error = t.throws(
      () => parseSpackLockSelection(JSON.stringify({ _meta: { 'file-type': 'spack-lockfile', 'lockfile-version': version }, roots: [], concrete_specs: {} }), 'old/spack.lock'),
      { instanceOf: EicBuildError },
    );
    t.regex(error!.message, new RegExp(`old/spack\\.lock is a lockfile of version ${version}`));
    t.regex(error!.hint ?? '', /re-concretize the environment with a current Spack/);
  }
});

test('readSpackLockSelection: a missing file names the path and says where a runtime stage gets spack.lock', async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'eic-build-lock-'));
  t.teardown(() => rm(dir, { recursive: true, force: true }));
  const missing = join(dir, 'nope', 'spack.lock');
  const error = await t.throwsAsync(readSpackLockSelection(missing), { instanceOf: EicBuildError });
  t.is(error!.code, 'input-not-found');
  t.true(error!.message.includes(missing));
  t.regex(error!.hint ?? '', /COPY it from the concretization stage.*--spec.*--all/);
  t.is((await t.throwsAsync(readSpackLockSelection(dir), { instanceOf: EicBuildError }))!.code, 'input-unreadable', 'a directory');
  await writeFile(join(dir, 'spack.lock'), JSON.stringify(v6Lock()));
  t.is((await readSpackLockSelection(join(dir, 'spack.lock'))).entries.length, 4);
});

const lockEntry = (name: string, version: string, hash: string): LockEntry => ({ id: `${name}-${version}-${hash}`, name, version, hash, node: {} });

test('selectLockEntries: by id, else by hash; the rest are absent', (t) => {
  const listed = [
    { id: `zlib-1.3.1-${H.zlib}`, path: 'a' },
    { id: `app-2.0.0-${H.app}`, path: 'b' },
    { id: `other-1-${H.cmake}`, path: 'c' },
  ];
  const { present, absent } = selectLockEntries(listed, [lockEntry('zlib', '1.3.1', H.zlib), lockEntry('app', '2.0', H.app), lockEntry('python', '3', H.python)]);
  t.deepEqual(
    present.map((p) => [p.entry.path, p.lock.name]),
    [
      ['a', 'zlib'],
      ['b', 'app'],
    ],
  );
  t.deepEqual(ids(absent), [`python-3-${H.python}`]);
});

test('selectOciLockEntries: Spack tag rules (sanitised and cut tags), index and signature tags ignored', (t) => {
  const long = lockEntry(`py-${'x'.repeat(120)}`, '1.0', H.python);
  const plus = lockEntry('g++-wrap', '1.0', H.gcc);
  const tags = [spackTag(long.id), spackTag(plus.id), `zlib-1.3.1-${H.zlib}.spack`, 'index.spack', `sha256-${'ab'.repeat(32)}.0123456789ABCDEF.sig`];
  t.is(spackTag(long.id).length, 128);
  const { picked, absent } = selectOciLockEntries(tags, [long, plus, lockEntry('zlib', '1.3.1', H.zlib), lockEntry('app', '2.0', H.app)]);
  t.deepEqual(picked, [
    { id: long.id, tag: spackTag(long.id) },
    { id: plus.id, tag: 'g__-wrap-1.0-gggggggggggggggggggggggggggggggg.spack' },
    { id: `zlib-1.3.1-${H.zlib}`, tag: `zlib-1.3.1-${H.zlib}.spack` },
  ]);
  t.deepEqual(ids(absent), [`app-2.0-${H.app}`]);
});

function lockReport(entries: EntryResult[]): VerifyReport {
  return {
    mirror: 'oci://reg.example/eic/cache',
    layout: 'oci',
    trusted: [],
    mirrorKeys: [],
    entries,
    lock: { file: 'spack.lock', lockfileVersion: 6, includeBuildDeps: false, selected: entries.length, skipped: { external: 1, buildOnly: 2, unreachable: 0 } },
  };
}
const verified = (id: string): EntryResult => ({ kind: 'verified', id, location: 'x', detail: 'signed' });
const absent = (id: string): EntryResult => ({ kind: 'absent', id, location: 'x', detail: 'not in this mirror; another mirror must provide it, or spack install fails' });

test('exit code and reports with a lock: absent entries do not fail, any other failure does, none present is 0', (t) => {
  const ok = lockReport([verified('a-1-x'), verified('b-1-y'), absent('c-1-z')]);
  t.is(verifyExitCode(ok), 0);
  t.regex(formatVerifyText(ok), /^absent\s+c-1-z\s+not in this mirror; another mirror must provide it, or spack install fails$/m);
  t.regex(formatVerifyText(ok), /lock: spack\.lock \(lockfile v6\): 3 entries selected \(1 external, 2 build-only not selected\); 2 in this mirror, 2 verified; 1 absent/);
  const json = JSON.parse(formatVerifyJson(ok)) as { ok: boolean; lock: Record<string, unknown>; summary: Record<string, number> };
  t.true(json.ok);
  t.like(json.lock, { file: 'spack.lock', lockfileVersion: 6, selected: 3, present: 2, verified: 2, absent: 1, skipped: { external: 1, buildOnly: 2 } });
  t.deepEqual(json.summary, { verified: 2, absent: 1 });

  t.is(verifyExitCode(lockReport([verified('a-1-x'), { ...absent('b-1-y'), kind: 'unsigned' }, absent('c-1-z')])), 1);
  const none = lockReport([absent('a-1-x'), absent('c-1-z')]);
  t.is(verifyExitCode(none), 0);
  t.regex(formatVerifyText(none), /none is in this mirror: nothing to verify \(2 absent/);
  t.is(verifyExitCode(lockReport([])), 0, 'a lock with nothing to install from a buildcache');
  const { lock: _lock, ...plain } = lockReport([]);
  t.is(verifyExitCode(plain), 1, 'without a lock an empty selection still fails');
});
