// What the real buildx showed on this machine (buildx 0.13.1, docker driver, Docker 20.10's BuildKit 0.8):
// `--build-context` failed late, inside BuildKit, with "unsupported frontend capability
// moby.buildkit.frontend.contexts". The capability matrix now reads the builder's BuildKit version.
import test from 'ava';
import { parseBuildOptions } from '../../src/commands/build.js';
import { capabilitiesOf, missingCapabilities } from '../../src/build/capabilities.js';
import { parseBuildxInspect, parseBuildxVersion, type BuildClient } from '../../src/build/probe.js';
import { hintsForLog } from '../../src/build/run-client.js';

// `docker buildx version` and `docker buildx inspect` as Debian 13's docker-buildx prints them here.
const VERSION = 'github.com/docker/buildx 0.13.1+ds1 0.13.1+ds1-3\n';
const INSPECT = `Name:   default
Driver: docker

Nodes:
Name:             default
Endpoint:         default
Status:           running
BuildKit version: v0.8+unknown
Platforms:        linux/amd64, linux/386
`;

function client(buildkitVersion: string | undefined, driver: 'docker' | 'docker-container' = 'docker'): BuildClient {
  return { kind: 'buildx', docker: '/usr/local/bin/docker', buildxVersion: '0.13.1', builder: 'default', driver, buildkitVersion, platforms: ['linux/amd64'], status: 'running' };
}

test("buildx 0.13.1's version and inspect output parse", (t) => {
  t.is(parseBuildxVersion(VERSION), '0.13.1');
  t.deepEqual(parseBuildxInspect(INSPECT), { name: 'default', driver: 'docker', status: 'running', buildkitVersion: '0.8+unknown', platforms: ['linux/amd64', 'linux/386'] });
});

test("named contexts need the builder's BuildKit 0.10: refused up front, with how to get it", (t) => {
  t.false(capabilitiesOf(client('0.8+unknown')).namedContexts);
  t.true(capabilitiesOf(client('0.12.5', 'docker-container')).namedContexts);
  t.true(capabilitiesOf(client(undefined)).namedContexts, 'an unknown version is not refused here');
  // Older buildx show the engine version for the docker driver.
  t.false(capabilitiesOf(client('20.10.24')).namedContexts);
  t.true(capabilitiesOf(client('24.0.7')).namedContexts);
  const options = parseBuildOptions(['ctx', '--build-context', 'extra=/tmp/extra']);
  const [missing] = missingCapabilities(options, client('0.8+unknown'));
  t.is(missing?.feature, 'named build contexts');
  t.regex(missing?.howToGet ?? '', /BuildKit 0\.8\+unknown is older than 0\.10 \(the docker driver uses the Docker engine's own BuildKit\)/);
  t.deepEqual(missingCapabilities(options, client('0.12.5', 'docker-container')), []);
});

test("BuildKit's 'unsupported frontend capability' gets a hint", (t) => {
  const hints = hintsForLog(
    'ERROR: failed to solve: rpc error: code = Unknown desc = failed to solve with frontend dockerfile.v0: unsupported frontend capability moby.buildkit.frontend.contexts',
  );
  t.deepEqual(
    hints.map((h) => h.id),
    ['frontend-capability'],
  );
});
