import test from 'ava';
import { findDockerClients, hasBuiltinBuildKit, parseBuildxInspect, parseBuildxVersion, parseDockerVersionJson, probeBuildClient, versionAtLeast } from '../../src/build/probe.js';
import { capabilitiesOf, missingCapabilities, assertCapabilities, effectiveProvenance } from '../../src/build/capabilities.js';
import { parseBuildOptions } from '../../src/commands/build.js';
import type { BuildClient } from '../../src/build/probe.js';

// Real outputs, copied from the clients named in each row.
test('docker buildx version lines of upstream and Debian builds', (t) => {
  t.is(parseBuildxVersion('github.com/docker/buildx v0.11.2 9872040\n'), '0.11.2');
  t.is(parseBuildxVersion('github.com/docker/buildx 0.10.4+ds1 0.10.4+ds1-1\n'), '0.10.4');
  t.is(parseBuildxVersion('github.com/docker/buildx v0.29.1-desktop.1 abcdef\n'), '0.29.1');
  t.is(parseBuildxVersion("docker: 'buildx' is not a docker command.\nSee 'docker --help'"), undefined);
});

const INSPECT_DOCKER_DRIVER = `Name:   default
Driver: docker

Nodes:
Name:      default
Endpoint:  default
Status:    running
Buildkit:  20.10.24
Platforms: linux/amd64, linux/386
`;

const INSPECT_CONTAINER_0_12 = `Name:          eic
Driver:        docker-container
Last Activity: 2024-03-01 10:47:12 +0000 UTC

Nodes:
Name:             eic0
Endpoint:         unix:///var/run/docker.sock
Status:           running
BuildKit daemon flags: --allow-insecure-entitlement=network.host
BuildKit version: v0.12.5
Platforms:        linux/amd64, linux/amd64/v2, linux/amd64/v3, linux/386*, linux/arm64*
Labels:
 org.mobyproject.buildkit.worker.executor:         oci
`;

const INSPECT_KUBERNETES = `Name:   cluster
Driver: kubernetes
Nodes:
Name:      cluster0-6f9c
Endpoint:  kubernetes:///cluster?deployment=buildkit&kubeconfig=
Status:    running
Buildkit:  v0.11.6
Platforms: linux/amd64
`;

test('docker buildx inspect: docker driver', (t) => {
  t.deepEqual(parseBuildxInspect(INSPECT_DOCKER_DRIVER), {
    name: 'default',
    driver: 'docker',
    status: 'running',
    buildkitVersion: '20.10.24',
    platforms: ['linux/amd64', 'linux/386'],
  });
});

test('docker buildx inspect: docker-container driver (0.12 layout, starred platforms)', (t) => {
  const parsed = parseBuildxInspect(INSPECT_CONTAINER_0_12)!;
  t.is(parsed.name, 'eic');
  t.is(parsed.driver, 'docker-container');
  t.is(parsed.buildkitVersion, '0.12.5');
  t.deepEqual(parsed.platforms, ['linux/amd64', 'linux/amd64/v2', 'linux/amd64/v3', 'linux/386', 'linux/arm64']);
});

test('docker buildx inspect: kubernetes driver and garbage', (t) => {
  t.is(parseBuildxInspect(INSPECT_KUBERNETES)!.driver, 'kubernetes');
  t.is(parseBuildxInspect('ERROR: no builder "x" found'), undefined);
});

test('docker version JSON: 28.x client, 20.10 client, no engine', (t) => {
  const client28 =
    '{"Client":{"Version":"28.2.2","ApiVersion":"1.41","DefaultAPIVersion":"1.50","GitCommit":"e6534b4","Os":"linux","Arch":"amd64","Context":"default"},"Server":{"Platform":{"Name":""},"Version":"20.10.24+dfsg1","ApiVersion":"1.41"}}';
  t.deepEqual(parseDockerVersionJson(client28), { client: '28.2.2', server: '20.10.24+dfsg1' });
  const noEngine =
    '{"Client":{"Platform":{"Name":""},"Version":"20.10.24+dfsg1","ApiVersion":"1.41","DefaultAPIVersion":"1.41","Context":"default","Experimental":true},"Server":null}';
  t.deepEqual(parseDockerVersionJson(noEngine), { client: '20.10.24+dfsg1', server: undefined });
  t.deepEqual(parseDockerVersionJson('Cannot connect'), { client: undefined, server: undefined });
});

test('BuildKit without buildx: clients 18.09..22.x yes, 23+ no', (t) => {
  t.true(hasBuiltinBuildKit('20.10.24+dfsg1'));
  t.true(hasBuiltinBuildKit('18.09.1'));
  t.false(hasBuiltinBuildKit('28.2.2'));
  t.false(hasBuiltinBuildKit('23.0.0'));
  t.false(hasBuiltinBuildKit('17.06'));
  t.true(versionAtLeast('0.10.4', '0.10'));
  t.false(versionAtLeast('0.9.1', '0.10'));
});

const builtin: BuildClient = { kind: 'builtin', docker: '/usr/bin/docker', clientVersion: '20.10.24+dfsg1', serverVersion: '20.10.24+dfsg1' };
const container: BuildClient = {
  kind: 'buildx',
  docker: 'docker',
  buildxVersion: '0.12.1',
  builder: 'eic',
  driver: 'docker-container',
  buildkitVersion: '0.12.5',
  platforms: ['linux/amd64'],
  status: 'running',
};
const dockerDriver: BuildClient = { ...container, driver: 'docker', builder: 'default' };

test('capability matrix', (t) => {
  t.like(capabilitiesOf(builtin), { secretEnv: true, namedContexts: false, multiPlatform: false, provenance: false, buildsIntoEngine: true });
  t.like(capabilitiesOf(container), { secretEnv: true, namedContexts: true, multiPlatform: true, provenance: true, buildsIntoEngine: false });
  t.like(capabilitiesOf(dockerDriver), { multiPlatform: false, provenance: false, buildsIntoEngine: true });
  t.deepEqual(capabilitiesOf(container).cacheExportTypes.includes('registry'), true);
  t.deepEqual(capabilitiesOf(builtin).cacheExportTypes, ['inline']);
});

test('missing features are named with how to get them', (t) => {
  const options = parseBuildOptions([
    '--platform',
    'linux/amd64,linux/arm64',
    '--build-context',
    'base=../b',
    '--cache-to',
    'type=registry,ref=r/c:x,mode=max',
    '--provenance',
    'mode=min',
  ]);
  const missing = missingCapabilities(options, builtin);
  t.deepEqual(
    missing.map((m) => m.asked),
    ['--build-context', '--platform linux/amd64,linux/arm64', '--cache-to type=registry', '--provenance mode=min'],
  );
  const error = t.throws(() => assertCapabilities(options, builtin));
  t.regex(error!.message, /named build contexts.*multi-platform/);
  t.regex((error as { hint?: string }).hint ?? '', /docker-buildx/);
  t.deepEqual(missingCapabilities(options, container), []);
});

test('provenance is explicit: min where supported, off otherwise, never the client default', (t) => {
  const options = parseBuildOptions([]);
  t.is(effectiveProvenance(options, capabilitiesOf(container)), 'min');
  t.is(effectiveProvenance(options, capabilitiesOf(builtin)), 'off');
  t.is(effectiveProvenance(parseBuildOptions(['--provenance', 'false']), capabilitiesOf(container)), 'off');
});

test('[integration] probe finds every docker client and picks one that can build with BuildKit', async (t) => {
  const clients = await findDockerClients();
  t.true(clients.length >= 1);
  const result = await probeBuildClient();
  t.is(result.candidates.length, clients.length);
  t.truthy(result.client, result.candidates.map((c) => `${c.docker}: ${c.reason}`).join('\n'));
  // On this machine /usr/local/bin/docker (28.x, no buildx) comes first on PATH and must be skipped.
  const refused = result.candidates.find((c) => c.clientVersion && !hasBuiltinBuildKit(c.clientVersion) && !c.buildxVersion);
  if (refused) t.false(refused.usable);
});
