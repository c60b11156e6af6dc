import test from 'ava';
import { parseBuildOptions } from '../../src/build/build-options.js';
import { capabilitiesOf } from '../../src/build/capabilities.js';
import { parseDockerfileStages, stageClosure } from '../../src/build/dockerfile-stages.js';
import { parseCacheSpec } from '../../src/build/flags.js';
import { buildInvocation, buildMetadata, chooseScanRoute, decidePublish, effectiveProgress, planScans, type InvocationInput } from '../../src/build/plan.js';
import type { BuildClient } from '../../src/build/probe.js';
import { parseBuildSection } from '../../src/build/project-config.js';
import { parsePushDigest, configDigestOf } from '../../src/build/publish.js';
import { hintsForLog } from '../../src/build/run-client.js';
import { secretNeedles } from '../../src/build/context-check.js';

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
  t.deepEqual(stages.map((s) => [s.name, s.dependsOn]), [
    ['deps', []],
    ['builder', [0]],
    ['spack-signer-public', []],
    ['runtime', [1, 2]],
    ['unrelated', [3]],
  ]);
  t.deepEqual(stageClosure(stages, 3).map((s) => s.name), ['deps', 'builder', 'spack-signer-public', 'runtime']);
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
  t.throws(() => planScans(parseDockerfileStages('FROM a\nRUN x\nFROM b AS final\nCOPY --from=0 / /\n'), undefined, [parseCacheSpec('type=local,dest=/c,mode=max')]), { message: /has no name/ });
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
const container: BuildClient = { kind: 'buildx', docker: 'docker', buildxVersion: '0.12.1', builder: 'eic', driver: 'docker-container', buildkitVersion: '0.12.5', platforms: [], status: 'running' };
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
    'build', '--progress', 'plain', '--file', '/ctx/Dockerfile', '--target', 'runtime', '--platform', 'linux/amd64',
    '--build-arg', 'SPACK_SIGNER_FINGERPRINT=ABCD',
    '--secret', 'id=spack-signing-key,env=EIC_BUILD_SECRET_SPACK_SIGNING_KEY',
    '--cache-from', 'r/c:x',
    '--build-arg', 'BUILDKIT_INLINE_CACHE=1',
    '--iidfile', '/tmp/iid', '--tag', 'eic-build-scan/x:0', '/ctx',
  ]);
  t.deepEqual(inv.env, { DOCKER_BUILDKIT: '1', EIC_BUILD_SECRET_SPACK_SIGNING_KEY: SECRET_VALUE });
  t.false(inv.args.join(' ').includes('PRIVATE KEY'));
});

test('buildx container builder: explicit provenance, OCI layout output, file secret by path', (t) => {
  const inv = buildInvocation(input(container, {
    provenance: 'min',
    secrets: [{ kind: 'file', id: 'spack-signing-key', path: '/tmp/eic-build-secret-x/spack-signing-key' }],
    cacheTo: [parseCacheSpec('type=registry,ref=r/c:x,mode=max')],
    output: { kind: 'oci-layout', dest: '/tmp/layout' },
  }));
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
  const metadata = buildMetadata({ tags: ['127.0.0.1:5000/a:1', '127.0.0.1:5000/a:latest'], configDigest: 'sha256:c', manifestDigest: 'sha256:m', keyFingerprint: 'F', layers: 3, bytesScanned: 10, imagesScanned: 1, pushed: true });
  t.is(metadata['containerimage.digest'], 'sha256:m');
  t.is(metadata['containerimage.config.digest'], 'sha256:c');
  t.is(metadata['image.name'], '127.0.0.1:5000/a:1,127.0.0.1:5000/a:latest');
  t.like(metadata['eic-build.scan'] as object, { verdict: 'clean', keyFingerprint: 'F', pushed: true });
  t.false('containerimage.digest' in buildMetadata({ tags: [], configDigest: 'sha256:c', manifestDigest: undefined, keyFingerprint: 'F', layers: 0, bytesScanned: 0, imagesScanned: 1, pushed: false }));
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

test('project config: the build section is read, the rest handed to the renderer without it', (t) => {
  const { build, renderText } = parseBuildSection('eic-build.yaml', 'version: 1\nbuild:\n  dockerfile: Dockerfile\n  baseImages:\n    - kind: debootstrap\n      name: eic-build/bookworm-gnupg:1\n      packages: [gnupg]\n    - kind: busybox\n      name: x/busybox:1\nshell: posix\n');
  t.deepEqual(build, { dockerfile: 'Dockerfile', baseImages: [{ kind: 'debootstrap', name: 'eic-build/bookworm-gnupg:1', packages: ['gnupg'] }, { kind: 'busybox', name: 'x/busybox:1' }] });
  t.false(renderText.includes('build'));
  t.true(renderText.includes('shell: posix'));
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
  t.deepEqual(hintsForLog('ERROR: failed to solve: pull access denied for eic-build/x, repository does not exist').map((h) => h.id), ['image-missing']);
  t.deepEqual(hintsForLog('Cannot connect to the Docker daemon at unix:///var/run/docker.sock. Is the docker daemon running?').map((h) => h.id), ['no-daemon']);
  t.deepEqual(hintsForLog('http: server gave HTTP response to HTTPS client').map((h) => h.id), ['http-registry']);
});

test('context check needles are body lines of the secret armor, not of the public one', (t) => {
  const armor = ['-----BEGIN PGP PRIVATE KEY BLOCK-----', '', ...Array.from({ length: 8 }, (_, i) => `${String(i).repeat(64)}`), '=abcd', '-----END PGP PRIVATE KEY BLOCK-----'].join('\n');
  const needles = secretNeedles(armor);
  t.deepEqual(needles, ['4'.repeat(64), '5'.repeat(64)]);
});

test('publish gate: the signing key anywhere, or any key in a layer this build added, blocks; base-image self-test keys are reported', async (t) => {
  const { gateFindings } = await import('../../src/build/scan-gate.js');
  const base = new Set(['sha256:base0']);
  const inBase = { detector: 'pem-private-key', source: 'layer', path: 'usr/lib/libgnutls.so', layer: { index: 0, digest: 'sha256:base0' }, matchesPublicKey: false };
  const ourKeyInBase = { ...inBase, detector: 'pgp-armored-private-key', matchesPublicKey: true };
  const added = { ...inBase, path: 'root/id_rsa', layer: { index: 3, digest: 'sha256:added3' } };
  const config = { ...inBase, source: 'config', layer: null, path: null };
  const gate = gateFindings([inBase, ourKeyInBase, added, config], base, false);
  t.deepEqual(gate.inherited, [inBase]);
  t.deepEqual(gate.blocking, [ourKeyInBase, added, config]);
  t.deepEqual(gateFindings([inBase], base, true).blocking, [inBase]);
  t.deepEqual(gateFindings([inBase], new Set(), false).blocking, [inBase], 'unknown base layers: everything blocks');
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
