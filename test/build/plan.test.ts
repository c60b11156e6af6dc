import test from 'ava';
import { join } from 'node:path';
import { repoRoot } from '../helpers/cli.js';
import { EicBuildError } from '../../src/errors.js';
import { parseBuildOptions } from '../../src/commands/build.js';
import { capabilitiesOf } from '../../src/build/capabilities.js';
import { parseDockerfileStages, stageClosure } from '../../src/build/dockerfile-stages.js';
import { parseCacheSpec } from '../../src/build/flags.js';
import { buildInvocation, buildMetadata, chooseScanRoute, decidePublish, effectiveProgress, planScans, targetBuildArgs, type InvocationInput } from '../../src/build/plan.js';
import type { BuildClient } from '../../src/build/probe.js';
import { parseBuildSection, readBuildProjectConfig } from '../../src/build/project-config.js';
import { parseProjectConfig } from '../../src/render/config.js';
import { parsePushDigest, configDigestOf } from '../../src/build/publish.js';
import { hintsForLog } from '../../src/build/run-client.js';
import { secretNeedles } from '../../src/build/context-check.js';
import type { FindingOrigin } from '../../src/build/scan-gate.js';

const DOCKERFILE = `ARG BASE=debian
FROM \${BASE} AS deps
RUN echo deps
FROM deps AS builder
RUN --mount=type=secret,id=spack-signing-key \\
    --mount=type=cache,target=/c,from=deps make
FROM scratch AS spack-signer-public
COPY x /x
FROM debian AS runtime
COPY --from=builder /out /out
COPY --from=spack-signer-public /x /x
FROM runtime AS unrelated
`;

test('Dockerfile stages and what each reads from', (t) => {
  const stages = parseDockerfileStages(DOCKERFILE);
  t.deepEqual(
    stages.map((s) => [s.name, s.dependsOn]),
    [
      ['deps', []],
      ['builder', [0]],
      ['spack-signer-public', []],
      ['runtime', [1, 2]],
      ['unrelated', [3]],
    ],
  );
  t.deepEqual(
    stageClosure(stages, 3).map((s) => s.name),
    ['deps', 'builder', 'spack-signer-public', 'runtime'],
  );
});

test('scans: the final image only, unless a mode=max cache export uploads the stages it needs', (t) => {
  const stages = parseDockerfileStages(DOCKERFILE);
  t.deepEqual(planScans(stages, 'runtime', []), [{ target: 'runtime', reason: 'final-image' }]);
  t.deepEqual(planScans(stages, 'runtime', [parseCacheSpec('type=registry,ref=r/c:x,mode=min')]), [{ target: 'runtime', reason: 'final-image' }]);
  t.deepEqual(planScans(stages, 'runtime', [parseCacheSpec('type=registry,ref=r/c:x,mode=max')]), [
    { target: 'runtime', reason: 'final-image' },
    { target: 'deps', reason: 'cache-export' },
    { target: 'builder', reason: 'cache-export' },
    { target: 'spack-signer-public', reason: 'cache-export' },
  ]);
  t.throws(() => planScans(stages, 'nope', [parseCacheSpec('type=local,dest=/c,mode=max')]), { message: /names no stage/ });
  t.throws(() => planScans(parseDockerfileStages('FROM a\nRUN x\nFROM b AS final\nCOPY --from=0 / /\n'), undefined, [parseCacheSpec('type=local,dest=/c,mode=max')]), {
    message: /has no name/,
  });
});

test('publish decision: any leak stops everything; inline cache rides in the image, others need a cached re-run', (t) => {
  const push = { kind: 'push' } as const;
  const cache = [parseCacheSpec('type=inline'), parseCacheSpec('type=registry,ref=r/c:x,mode=max')];
  t.deepEqual(decidePublish([{ item: { target: undefined, reason: 'final-image' }, leaked: false }], push, cache), {
    kind: 'publish',
    destination: push,
    exportCache: [cache[1]!],
  });
  const leak = decidePublish(
    [
      { item: { target: undefined, reason: 'final-image' }, leaked: false },
      { item: { target: 'builder', reason: 'cache-export' }, leaked: true },
    ],
    push,
    cache,
  );
  t.deepEqual(leak, { kind: 'stop-leak', leaking: [{ target: 'builder', reason: 'cache-export' }] });
});

const builtin: BuildClient = { kind: 'builtin', docker: '/usr/bin/docker', clientVersion: '20.10.24+dfsg1', serverVersion: '20.10.24+dfsg1' };
const container: BuildClient = {
  kind: 'buildx',
  docker: 'docker',
  buildxVersion: '0.12.1',
  builder: 'eic',
  driver: 'docker-container',
  buildkitVersion: '0.12.5',
  platforms: [],
  status: 'running',
};
const SECRET_VALUE = '-----BEGIN PGP PRIVATE KEY BLOCK-----\nxVgEZ...secret...\n-----END PGP PRIVATE KEY BLOCK-----\n';

function input(client: BuildClient, over: Partial<InvocationInput> = {}): InvocationInput {
  return {
    client,
    caps: capabilitiesOf(client),
    contextDir: '/ctx',
    dockerfile: '/ctx/Dockerfile',
    target: 'runtime',
    platforms: ['linux/amd64'],
    buildArgs: [{ name: 'SPACK_SIGNER_FINGERPRINT', value: 'ABCD' }],
    buildContexts: [],
    secrets: [{ kind: 'env', id: 'spack-signing-key', envName: 'EIC_BUILD_SECRET_SPACK_SIGNING_KEY', value: SECRET_VALUE }],
    cacheFrom: [parseCacheSpec('type=registry,ref=r/c:x')],
    cacheTo: [parseCacheSpec('type=inline')],
    noCache: false,
    progress: 'plain',
    provenance: 'off',
    output: { kind: 'engine', iidFile: '/tmp/iid', tag: 'eic-build-scan/x:0' },
    ...over,
  };
}

test('built-in client: DOCKER_BUILDKIT=1 docker build; the key only in env, never in argv', (t) => {
  const inv = buildInvocation(input(builtin));
  t.is(inv.command, '/usr/bin/docker');
  t.deepEqual(inv.args, [
    'build',
    '--progress',
    'plain',
    '--file',
    '/ctx/Dockerfile',
    '--target',
    'runtime',
    '--platform',
    'linux/amd64',
    '--build-arg',
    'SPACK_SIGNER_FINGERPRINT=ABCD',
    '--secret',
    'id=spack-signing-key,env=EIC_BUILD_SECRET_SPACK_SIGNING_KEY',
    '--cache-from',
    'r/c:x',
    '--build-arg',
    'BUILDKIT_INLINE_CACHE=1',
    '--iidfile',
    '/tmp/iid',
    '--tag',
    'eic-build-scan/x:0',
    '/ctx',
  ]);
  t.deepEqual(inv.env, { DOCKER_BUILDKIT: '1', EIC_BUILD_SECRET_SPACK_SIGNING_KEY: SECRET_VALUE });
  t.false(inv.args.join(' ').includes('PRIVATE KEY'));
});

test('buildx container builder: explicit provenance, OCI layout output, file secret by path', (t) => {
  const inv = buildInvocation(
    input(container, {
      provenance: 'min',
      secrets: [{ kind: 'file', id: 'spack-signing-key', path: '/tmp/eic-build-secret-x/spack-signing-key' }],
      cacheTo: [parseCacheSpec('type=registry,ref=r/c:x,mode=max')],
      output: { kind: 'oci-layout', dest: '/tmp/layout' },
    }),
  );
  t.deepEqual(inv.args.slice(0, 4), ['buildx', 'build', '--builder', 'eic']);
  t.true(inv.args.includes('--provenance=mode=min'));
  t.true(inv.args.includes('type=oci,dest=/tmp/layout,tar=false'));
  t.true(inv.args.includes('id=spack-signing-key,src=/tmp/eic-build-secret-x/spack-signing-key'));
  t.true(inv.args.includes('type=registry,ref=r/c:x,mode=max'));
  t.deepEqual(inv.env, {});
});

test('scan route: engine for built-in and docker driver, OCI layout (or docker archive for --load) for BuildKit builders', (t) => {
  t.is(chooseScanRoute(capabilitiesOf(builtin), { kind: 'push' }).kind, 'engine');
  t.is(chooseScanRoute(capabilitiesOf(container), { kind: 'push' }).kind, 'oci-layout');
  t.is(chooseScanRoute(capabilitiesOf(container), { kind: 'load' }).kind, 'docker-archive');
});

test('metadata file: buildx keys plus the scan record', (t) => {
  const metadata = buildMetadata({
    tags: ['127.0.0.1:5000/a:1', '127.0.0.1:5000/a:latest'],
    configDigest: 'sha256:c',
    manifestDigest: 'sha256:m',
    keyFingerprint: 'F',
    layers: 3,
    bytesScanned: 10,
    imagesScanned: 1,
    pushed: true,
  });
  t.is(metadata['containerimage.digest'], 'sha256:m');
  t.is(metadata['containerimage.config.digest'], 'sha256:c');
  t.is(metadata['image.name'], '127.0.0.1:5000/a:1,127.0.0.1:5000/a:latest');
  t.like(metadata['eic-build.scan'] as object, { verdict: 'clean', keyFingerprint: 'F', pushed: true });
  t.false(
    'containerimage.digest' in
      buildMetadata({ tags: [], configDigest: 'sha256:c', manifestDigest: undefined, keyFingerprint: 'F', layers: 0, bytesScanned: 0, imagesScanned: 1, pushed: false }),
  );
  const allowed = buildMetadata({
    tags: [],
    configDigest: 'sha256:c',
    manifestDigest: undefined,
    keyFingerprint: 'F',
    layers: 1,
    bytesScanned: 1,
    imagesScanned: 1,
    pushed: false,
    allowedInheritedKeys: 2,
  });
  t.like(allowed['eic-build.scan'] as object, { verdict: 'allowed-inherited-keys', allowedInheritedKeys: 2 });
});

test('progress: plain in CI or without a terminal, tty locally', (t) => {
  t.is(effectiveProgress('auto', { CI: 'true' }, true), 'plain');
  t.is(effectiveProgress('auto', {}, false), 'plain');
  t.is(effectiveProgress('auto', {}, true), 'tty');
  t.is(effectiveProgress('json', {}, true), 'plain');
  t.is(effectiveProgress('quiet', {}, true), 'quiet');
});

test('options: destinations are mutually exclusive and --push needs a tag', (t) => {
  t.throws(() => parseBuildOptions(['--push', '--load']), { message: /mutually exclusive/ });
  t.throws(() => parseBuildOptions(['--load', '--output', 'type=tar,dest=x']), { message: /mutually exclusive/ });
  t.throws(() => parseBuildOptions(['--push']), { message: /needs at least one --tag/ });
  t.throws(() => parseBuildOptions(['--signing-key', 'k.asc', '--ephemeral-key']), { message: /mutually exclusive/ });
  t.throws(() => parseBuildOptions(['a', 'b']), { message: /one CONTEXT/ });
  t.deepEqual(parseBuildOptions(['--output', 'type=registry', '-t', 'r/a:1']).destination, { kind: 'push' });
  t.deepEqual(parseBuildOptions(['--output', 'type=docker']).destination, { kind: 'load' });
  t.like(parseBuildOptions([]), { context: '.', destination: { kind: 'load' }, destinationExplicit: false, progress: 'auto', provenance: undefined });
});

test('options: every finding blocks unless --allow-inherited-keys; --allow-key is validated; --strict-scan is explained', (t) => {
  t.like(parseBuildOptions([]), { allowInheritedKeys: false, allowKeys: [] });
  t.true(parseBuildOptions(['--allow-inherited-keys']).allowInheritedKeys);
  const grip = 'AB'.repeat(20);
  t.deepEqual(parseBuildOptions(['--allow-key', grip, '--allow-key', `SHA256:${'A'.repeat(43)}`]).allowKeys, [grip, `SHA256:${'A'.repeat(43)}`]);
  const bad = t.throws(() => parseBuildOptions(['--allow-key', 'my-key']));
  t.is((bad as EicBuildError).code, 'usage');
  t.regex(bad!.message, /--allow-key: allowed key "my-key" is not a public key identity/);
  const gone = t.throws(() => parseBuildOptions(['--strict-scan']));
  t.is((gone as EicBuildError).code, 'usage');
  t.regex(gone!.message, /--strict-scan is gone: every scan finding blocks/);
  t.regex((gone as EicBuildError).hint ?? '', /--allow-inherited-keys/);
});

test('project config: build reads its section, the renderer reads the same text and skips it', (t) => {
  const text =
    'version: 1\nbuild:\n  dockerfile: Dockerfile\n  baseImages:\n    - kind: debootstrap\n      name: eic-build/bookworm-gnupg:1\n      packages: [gnupg]\n    - kind: busybox\n      name: x/busybox:1\nshell: posix\n';
  const { build } = parseBuildSection('eic-build.yaml', text);
  t.deepEqual(build, {
    dockerfile: 'Dockerfile',
    baseImages: [
      { kind: 'debootstrap', name: 'eic-build/bookworm-gnupg:1', packages: ['gnupg'] },
      { kind: 'busybox', name: 'x/busybox:1' },
    ],
  });
  const rendered = parseProjectConfig('eic-build.yaml', text);
  t.deepEqual(rendered.problems, []);
  t.is(rendered.config!.shell, 'posix');
  const error = t.throws(() => parseBuildSection('p.yaml', 'build:\n  baseImages:\n    - kind: docker\n      name: Bad Name\n  extra: 1\n'));
  t.regex(error!.message, /p\.yaml:3:7: base image name 'Bad Name'/);
  t.regex(error!.message, /unknown key 'extra'/);
});

test('docker push output and manifests give the digests that are checked', (t) => {
  const out = 'The push refers to repository [127.0.0.1:5000/example]\n5f70bf18a086: Pushed\ndev: digest: sha256:' + 'a'.repeat(64) + ' size: 735\n';
  t.is(parsePushDigest(out), `sha256:${'a'.repeat(64)}`);
  t.is(parsePushDigest('nothing'), undefined);
  t.is(configDigestOf('{"schemaVersion":2,"config":{"digest":"sha256:c"}}'), 'sha256:c');
  t.is(configDigestOf('{"schemaVersion":2,"manifests":[]}'), undefined);
});

test('known daemon errors map to actionable hints', (t) => {
  t.deepEqual(
    hintsForLog('ERROR: failed to solve: pull access denied for eic-build/x, repository does not exist').map((h) => h.id),
    ['image-missing'],
  );
  t.deepEqual(
    hintsForLog('Cannot connect to the Docker daemon at unix:///var/run/docker.sock. Is the docker daemon running?').map((h) => h.id),
    ['no-daemon'],
  );
  t.deepEqual(
    hintsForLog('http: server gave HTTP response to HTTPS client').map((h) => h.id),
    ['http-registry'],
  );
});

test('context check needles are body lines of the secret armor, not of the public one', (t) => {
  const armor = [
    '-----BEGIN PGP PRIVATE KEY BLOCK-----',
    '',
    ...Array.from({ length: 8 }, (_, i) => `${String(i).repeat(64)}`),
    '=abcd',
    '-----END PGP PRIVATE KEY BLOCK-----',
  ].join('\n');
  const needles = secretNeedles(armor);
  t.deepEqual(needles, ['4'.repeat(64), '5'.repeat(64)]);
});

// The publish gate as a table: where the finding is × the policy → block or let through with a warning.
// By default every finding blocks (as 'eic-build scan' reports it); only --allow-inherited-keys lets
// base-image keys through, and never the signing key, a key in an added layer, or one in the config.
const BASE = new Set(['sha256:base0']);
const inBase = { detector: 'pem-private-key', source: 'layer', path: 'usr/share/ssl/private/demo.pem', layer: { index: 0, digest: 'sha256:base0' }, matchesPublicKey: false };
const GATE_CASES: {
  name: string;
  finding: typeof inBase | (Omit<typeof inBase, 'layer' | 'path'> & { layer: null; path: null });
  base: ReadonlySet<string>;
  origin: FindingOrigin;
  byDefault: 'block';
  allowInherited: 'block' | 'warn';
}[] = [
  { name: 'key in a base-image layer', finding: inBase, base: BASE, origin: 'base-layer', byDefault: 'block', allowInherited: 'warn' },
  {
    name: 'the signing key in a base-image layer',
    finding: { ...inBase, detector: 'pgp-armored-private-key', matchesPublicKey: true },
    base: BASE,
    origin: 'signing-key',
    byDefault: 'block',
    allowInherited: 'block',
  },
  {
    name: 'key in a layer this build added',
    finding: { ...inBase, path: 'root/id_rsa', layer: { index: 3, digest: 'sha256:added3' } },
    base: BASE,
    origin: 'added-layer',
    byDefault: 'block',
    allowInherited: 'block',
  },
  {
    name: 'the signing key in an added layer',
    finding: { ...inBase, layer: { index: 3, digest: 'sha256:added3' }, matchesPublicKey: true },
    base: BASE,
    origin: 'signing-key',
    byDefault: 'block',
    allowInherited: 'block',
  },
  { name: 'key in the image config', finding: { ...inBase, source: 'config', layer: null, path: null }, base: BASE, origin: 'config', byDefault: 'block', allowInherited: 'block' },
  { name: 'base layers unknown (registry unreadable)', finding: inBase, base: new Set(), origin: 'added-layer', byDefault: 'block', allowInherited: 'block' },
];

for (const c of GATE_CASES) {
  test(`publish gate: ${c.name} → ${c.byDefault} by default, ${c.allowInherited} with --allow-inherited-keys`, async (t) => {
    const { findingOrigin, gateFindings } = await import('../../src/build/scan-gate.js');
    t.is(findingOrigin(c.finding, c.base), c.origin);
    const strict = gateFindings([c.finding], c.base, { allowInheritedKeys: false });
    t.deepEqual(strict.blocking, [c.finding]);
    t.deepEqual(strict.allowedInherited, []);
    t.deepEqual(strict.blockingInherited, c.origin === 'base-layer' ? [c.finding] : [], 'a blocking base-image key is marked so the message can name the opt-out');
    const lenient = gateFindings([c.finding], c.base, { allowInheritedKeys: true });
    t.deepEqual(lenient.blocking, c.allowInherited === 'block' ? [c.finding] : []);
    t.deepEqual(lenient.allowedInherited, c.allowInherited === 'warn' ? [c.finding] : []);
  });
}

test('publish gate: no findings never block; a mix blocks on the one that must', async (t) => {
  const { gateFindings } = await import('../../src/build/scan-gate.js');
  t.deepEqual(gateFindings([], BASE, { allowInheritedKeys: false }), { blocking: [], blockingInherited: [], allowedInherited: [] });
  const added = { ...inBase, path: 'root/id_rsa', layer: { index: 3, digest: 'sha256:added3' } };
  const mixed = gateFindings([inBase, added], BASE, { allowInheritedKeys: true });
  t.deepEqual(mixed.blocking, [added]);
  t.deepEqual(mixed.allowedInherited, [inBase]);
});

test('project config: the example eic-build.yaml is one file both build and render accept', async (t) => {
  const config = await readBuildProjectConfig(undefined, join(repoRoot, 'examples/signed-artifacts'));
  t.is(config.build.dockerfile, join(repoRoot, 'examples/signed-artifacts/Dockerfile'));
  t.is(config.build.baseImages[0]?.name, 'eic-build/bookworm-gnupg:1');
  t.regex(config.text!, /^build:/m, 'the renderer gets the file as it is');
  t.deepEqual(parseProjectConfig(config.file!, config.text!).problems, []);
});

test('FROM resolution follows stages and build args to the external base image', async (t) => {
  const { externalBaseOf, parseGlobalArgs, parseDockerfileStages } = await import('../../src/build/dockerfile-stages.js');
  const text = 'ARG BASE_IMAGE=eic-build/bookworm-gnupg:1\nARG OTHER\nFROM ${BASE_IMAGE} AS builder\nFROM scratch AS pub\nFROM builder AS runtime\nFROM ${OTHER:-debian:12} AS x\n';
  const stages = parseDockerfileStages(text);
  const args = parseGlobalArgs(text);
  t.deepEqual(args, { BASE_IMAGE: 'eic-build/bookworm-gnupg:1', OTHER: '' });
  t.is(externalBaseOf(stages, 2, args), 'eic-build/bookworm-gnupg:1');
  t.is(externalBaseOf(stages, 2, { ...args, BASE_IMAGE: 'mine:2' }), 'mine:2');
  t.is(externalBaseOf(stages, 1, args), 'scratch');
  t.is(externalBaseOf(stages, 3, args), 'debian:12');
});

// --network reaches the client as given; buildx also asks for the network.host entitlement.
const networkRows = [
  { client: builtin, network: undefined, expected: [] },
  { client: builtin, network: 'host', expected: ['--network', 'host'] },
  { client: builtin, network: 'none', expected: ['--network', 'none'] },
  { client: container, network: 'default', expected: ['--network', 'default'] },
  { client: container, network: 'host', expected: ['--network', 'host', '--allow', 'network.host'] },
] as const;

for (const row of networkRows) {
  test(`--network ${row.network ?? '(not given)'} with ${row.client.kind}: ${row.expected.join(' ') || 'no flag'}`, (t) => {
    const { args } = buildInvocation(input(row.client, { network: row.network }));
    const at = args.indexOf('--network');
    if (row.expected.length === 0) t.is(at, -1);
    else t.deepEqual(args.slice(at, at + row.expected.length), [...row.expected]);
    t.is(args.includes('--allow'), (row.expected as readonly string[]).includes('--allow'));
  });
}

test('options: --network takes buildx modes', (t) => {
  t.is(parseBuildOptions(['.', '--network', 'host']).network, 'host');
  t.is(parseBuildOptions(['.']).network, undefined);
  t.throws(() => parseBuildOptions(['.', '--network', 'bridge']), { instanceOf: EicBuildError, message: /--network 'bridge'/ });
});

// --target RUNTIME builds the runtime alone: the builder is switched off, unless the user chose.
const split = { runtimeStages: ['runtime', 'runtime_default'], runtimeAloneBuildArgs: { EIC_BUILD_BUILDER_STAGE: 'builder-skipped' } };
const targetRows = [
  { why: 'no --target: builder then runtime', target: undefined, user: [], expected: [] },
  { why: '--target runtime: builder skipped', target: 'runtime', user: [], expected: [{ name: 'EIC_BUILD_BUILDER_STAGE', value: 'builder-skipped' }] },
  { why: '--target Runtime_Default (BuildKit lowercases names)', target: 'Runtime_Default', user: [], expected: [{ name: 'EIC_BUILD_BUILDER_STAGE', value: 'builder-skipped' }] },
  { why: '--target builder: nothing to switch', target: 'builder', user: [], expected: [] },
  { why: 'the user set the switch: theirs wins', target: 'runtime', user: [{ name: 'EIC_BUILD_BUILDER_STAGE' }], expected: [] },
] as const;

for (const row of targetRows) {
  test(`target build args: ${row.why}`, (t) => {
    t.deepEqual(targetBuildArgs(row.target, split, row.user), row.expected);
  });
}

test('target build args: a project without the switch (user Dockerfile) gets none', (t) => {
  t.deepEqual(targetBuildArgs('runtime', undefined, []), []);
  t.deepEqual(targetBuildArgs('runtime', { runtimeStages: ['runtime'], runtimeAloneBuildArgs: {} }, []), []);
});
