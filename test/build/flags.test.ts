import test from 'ava';
import {
  formatBuildArg,
  formatBuildContextSpec,
  formatCacheSpec,
  formatOutputSpec,
  formatPlatforms,
  formatProvenanceSpec,
  formatSecretSpec,
  parseBuildArg,
  parseBuildContextSpec,
  parseCacheSpec,
  parseOutputSpec,
  parsePlatforms,
  parseProvenanceSpec,
  parseSecretSpec,
  isMaxModeCacheExport,
  parseNetworkMode,
  formatNetworkMode,
} from '../../src/build/flags.js';
import { isEicBuildError } from '../../src/errors.js';

// Each row: what a CI script writes, what it means, and the canonical spelling eic-build hands on.
const secrets = [
  ['id=spack_key,src=/run/key.asc', { kind: 'file', id: 'spack_key', src: '/run/key.asc' }, 'id=spack_key,src=/run/key.asc'],
  ['id=spack_key,source=/run/key.asc', { kind: 'file', id: 'spack_key', src: '/run/key.asc' }, 'id=spack_key,src=/run/key.asc'],
  ['type=file,id=mirrors,src=mirrors.yaml', { kind: 'file', id: 'mirrors', src: 'mirrors.yaml' }, 'id=mirrors,src=mirrors.yaml'],
  ['id=CI_REGISTRY_USER,env=CI_REGISTRY_USER', { kind: 'env', id: 'CI_REGISTRY_USER', env: 'CI_REGISTRY_USER' }, 'id=CI_REGISTRY_USER,env=CI_REGISTRY_USER'],
  ['type=env,id=GITHUB_REGISTRY_TOKEN', { kind: 'env', id: 'GITHUB_REGISTRY_TOKEN', env: 'GITHUB_REGISTRY_TOKEN' }, 'id=GITHUB_REGISTRY_TOKEN,env=GITHUB_REGISTRY_TOKEN'],
  ['type=env,id=tok,src=MY_TOKEN', { kind: 'env', id: 'tok', env: 'MY_TOKEN' }, 'id=tok,env=MY_TOKEN'],
  ['id=x,src="/path/with,comma"', { kind: 'file', id: 'x', src: '/path/with,comma' }, 'id=x,src="/path/with,comma"'],
  ['id=onlyid', { kind: 'file', id: 'onlyid', src: 'onlyid' }, 'id=onlyid,src=onlyid'],
] as const;

for (const [input, expected, canonical] of secrets) {
  test(`--secret ${input} parses, formats and round-trips`, (t) => {
    const parsed = parseSecretSpec(input);
    t.deepEqual(parsed, expected);
    t.is(formatSecretSpec(parsed), canonical);
    t.deepEqual(parseSecretSpec(formatSecretSpec(parsed)), parsed);
  });
}

const badSecrets = ['src=/x', 'id=a,src=b,env=C', 'id=a,type=ssh', 'id=a,bogus=1', 'id=a b,src=x', 'id=a,src', 'id="a,src=b'];
for (const input of badSecrets) {
  test(`--secret ${input} is a usage error naming the flag`, (t) => {
    const error = t.throws(() => parseSecretSpec(input));
    t.true(isEicBuildError(error));
    t.regex(error!.message, /secret|quote/);
  });
}

const contexts = [
  ['base=../base', { kind: 'path', name: 'base', path: '../base' }],
  ['alpine=docker-image://alpine:3.19', { kind: 'docker-image', name: 'alpine', ref: 'alpine:3.19' }],
  ['debian:bookworm=docker-image://127.0.0.1:5000/debian:bookworm', { kind: 'docker-image', name: 'debian:bookworm', ref: '127.0.0.1:5000/debian:bookworm' }],
  ['layout=oci-layout:///tmp/layout@sha256:abc', { kind: 'oci-layout', name: 'layout', path: '/tmp/layout@sha256:abc' }],
  ['deps=target:builder', { kind: 'target', name: 'deps', stage: 'builder' }],
  ['src=https://github.com/eic/containers.git#main', { kind: 'url', name: 'src', url: 'https://github.com/eic/containers.git#main' }],
] as const;
for (const [input, expected] of contexts) {
  test(`--build-context ${input} round-trips`, (t) => {
    const parsed = parseBuildContextSpec(input);
    t.deepEqual(parsed, expected);
    t.is(formatBuildContextSpec(parsed), input);
  });
}
for (const input of ['noequals', '=path', 'name=', 'Bad Name=x']) {
  test(`--build-context ${input} is refused`, (t) => {
    t.true(isEicBuildError(t.throws(() => parseBuildContextSpec(input))));
  });
}

const caches = [
  [
    'type=registry,ref=registry.example.org/eic/cache:buildcache,mode=max',
    {
      type: 'registry',
      attrs: [
        ['ref', 'registry.example.org/eic/cache:buildcache'],
        ['mode', 'max'],
      ],
    },
    true,
  ],
  ['registry.example.org/eic/cache:x', { type: 'registry', attrs: [['ref', 'registry.example.org/eic/cache:x']] }, false],
  [
    'type=local,dest=/tmp/cache,mode=min',
    {
      type: 'local',
      attrs: [
        ['dest', '/tmp/cache'],
        ['mode', 'min'],
      ],
    },
    false,
  ],
  ['type=inline', { type: 'inline', attrs: [] }, false],
  [
    'type=gha,scope=eic,mode=max',
    {
      type: 'gha',
      attrs: [
        ['scope', 'eic'],
        ['mode', 'max'],
      ],
    },
    true,
  ],
] as const;
for (const [input, expected, max] of caches) {
  test(`--cache-to ${input} round-trips`, (t) => {
    const parsed = parseCacheSpec(input, 'cache-to');
    t.deepEqual(parsed, expected as unknown);
    t.deepEqual(parseCacheSpec(formatCacheSpec(parsed)), parsed);
    t.is(isMaxModeCacheExport(parsed), max);
  });
}
for (const input of ['type=ftp,ref=x', 'type=registry,mode=huge', 'mode=max']) {
  test(`--cache-to ${input} is refused`, (t) => {
    t.true(isEicBuildError(t.throws(() => parseCacheSpec(input, 'cache-to'))));
  });
}

const outputs = [
  ['type=oci,dest=/tmp/out.tar', { type: 'oci', attrs: [['dest', '/tmp/out.tar']] }, 'type=oci,dest=/tmp/out.tar'],
  ['./out', { type: 'local', attrs: [['dest', './out']] }, 'type=local,dest=./out'],
  ['-', { type: 'tar', attrs: [['dest', '-']] }, 'type=tar,dest=-'],
  ['type=registry', { type: 'registry', attrs: [] }, 'type=registry'],
  [
    'type=image,name=x/y:z,push=true',
    {
      type: 'image',
      attrs: [
        ['name', 'x/y:z'],
        ['push', 'true'],
      ],
    },
    'type=image,name=x/y:z,push=true',
  ],
] as const;
for (const [input, expected, canonical] of outputs) {
  test(`--output ${input} round-trips`, (t) => {
    const parsed = parseOutputSpec(input);
    t.deepEqual(parsed, expected as unknown);
    t.is(formatOutputSpec(parsed), canonical);
    t.deepEqual(parseOutputSpec(formatOutputSpec(parsed)), parsed);
  });
}
test('--output type=local without dest is refused', (t) => {
  t.regex(t.throws(() => parseOutputSpec('type=local'))!.message, /dest/);
});

test('--platform accepts comma lists and repeats, dedupes, and round-trips', (t) => {
  const parsed = parsePlatforms(['linux/amd64,linux/arm64/v8', 'linux/amd64']);
  t.deepEqual(parsed, ['linux/amd64', 'linux/arm64/v8']);
  t.deepEqual(parsePlatforms([formatPlatforms(parsed)]), parsed);
  t.throws(() => parsePlatforms(['amd64']));
});

const provenance = [
  ['false', 'off', 'false'],
  ['0', 'off', 'false'],
  ['true', 'min', 'mode=min'],
  ['mode=min', 'min', 'mode=min'],
] as const;
for (const [input, kind, canonical] of provenance) {
  test(`--provenance ${input} is ${kind}`, (t) => {
    const parsed = parseProvenanceSpec(input);
    t.is(parsed.kind, kind);
    t.is(formatProvenanceSpec(parsed), canonical);
    t.deepEqual(parseProvenanceSpec(formatProvenanceSpec(parsed)), parsed);
  });
}
test('--provenance mode=max is refused because it records build-arg values', (t) => {
  const error = t.throws(() => parseProvenanceSpec('mode=max'));
  t.regex(error!.message, /build-arg/);
  t.regex((error as { hint?: string }).hint ?? '', /mode=min/);
});

test('--build-arg K=V, K= and bare K round-trip', (t) => {
  for (const input of ['SPACK_VERSION=0.23', 'EMPTY=', 'FROM_ENV', 'X=a=b']) {
    t.is(formatBuildArg(parseBuildArg(input)), input);
  }
  t.is(parseBuildArg('FROM_ENV').value, undefined);
  t.throws(() => parseBuildArg('1BAD=x'));
});

// --network: buildx's modes; a loopback registry needs host.
const networks = [
  ['default', 'default'],
  ['host', 'host'],
  ['none', 'none'],
] as const;

for (const [input, expected] of networks) {
  test(`--network ${input} parses, formats and round-trips`, (t) => {
    const parsed = parseNetworkMode(input);
    t.is(parsed, expected);
    t.is(parseNetworkMode(formatNetworkMode(parsed)), parsed);
  });
}

for (const bad of ['bridge', 'HOST', '', 'container:abc']) {
  test(`--network '${bad}' is a usage error naming the modes`, (t) => {
    const error = t.throws(() => parseNetworkMode(bad));
    t.true(isEicBuildError(error) && error.code === 'usage');
    t.regex(String((error as { hint?: string }).hint), /default, host .* or none/);
  });
}
