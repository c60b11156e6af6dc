import test from 'ava';
import { formatImageReference, isLoopbackHost, parseImageReference } from '../../src/registry/reference.js';
import { parseWwwAuthenticate, parseDockerConfigCredentials, credentialsFromAccessPair } from '../../src/registry/auth.js';
import { nextLink, RegistryClient } from '../../src/registry/client.js';
import { EicBuildError } from '../../src/errors.js';
import { redact, clearRegisteredSecrets } from '../../src/redact.js';

const DIGEST = `sha256:${'a'.repeat(64)}`;

const cases: [string, ReturnType<typeof parseImageReference>][] = [
  ['debian', { registry: 'docker.io', repository: 'library/debian' }],
  ['debian:bookworm', { registry: 'docker.io', repository: 'library/debian', tag: 'bookworm' }],
  ['eic/spack', { registry: 'docker.io', repository: 'eic/spack' }],
  ['index.docker.io/eic/spack:1', { registry: 'docker.io', repository: 'eic/spack', tag: '1' }],
  ['localhost/a/b', { registry: 'localhost', repository: 'a/b' }],
  ['127.0.0.1:5000/spack/cache:zlib-1.3-abc.spack', { registry: '127.0.0.1:5000', repository: 'spack/cache', tag: 'zlib-1.3-abc.spack' }],
  [`reg.example:443/x@${DIGEST}`, { registry: 'reg.example:443', repository: 'x', digest: DIGEST }],
  [`reg.example/x:t@${DIGEST}`, { registry: 'reg.example', repository: 'x', tag: 't', digest: DIGEST }],
  ['[::1]:5000/x:y', { registry: '[::1]:5000', repository: 'x', tag: 'y' }],
];

for (const [input, expected] of cases) {
  test(`parseImageReference(${input})`, (t) => {
    t.deepEqual(parseImageReference(input), expected);
    t.deepEqual(parseImageReference(formatImageReference(expected)), expected);
  });
}

for (const input of ['', 'UPPER/case', 'a/b:bad tag', 'a@sha256:xyz', 'host:5000/', ' a']) {
  test(`parseImageReference rejects '${input}'`, (t) => {
    const error = t.throws(() => parseImageReference(input), { instanceOf: EicBuildError });
    t.is(error?.code, 'usage');
    t.truthy(error?.hint);
  });
}

test('client base URLs: HTTPS by default, HTTP for loopback or when asked, Docker Hub at its API host', (t) => {
  t.is(new RegistryClient({ registry: 'reg.example:5000' }).baseUrl, 'https://reg.example:5000');
  t.is(new RegistryClient({ registry: '127.0.0.1:5000' }).baseUrl, 'http://127.0.0.1:5000');
  t.is(new RegistryClient({ registry: '127.0.0.1:5000', insecure: false }).baseUrl, 'https://127.0.0.1:5000');
  t.is(new RegistryClient({ registry: 'reg.example', insecure: true }).baseUrl, 'http://reg.example');
  t.is(new RegistryClient({ registry: 'docker.io' }).baseUrl, 'https://registry-1.docker.io');
});

test('loopback hosts', (t) => {
  t.true(isLoopbackHost('127.0.0.1:5000'));
  t.true(isLoopbackHost('localhost'));
  t.true(isLoopbackHost('[::1]:80'));
  t.false(isLoopbackHost('registry.example:5000'));
});

test('WWW-Authenticate challenges', (t) => {
  t.deepEqual(parseWwwAuthenticate('Bearer realm="https://auth.example/token",service="registry.example",scope="repository:a/b:pull"'), {
    kind: 'bearer',
    realm: 'https://auth.example/token',
    service: 'registry.example',
    scope: 'repository:a/b:pull',
  });
  t.deepEqual(parseWwwAuthenticate('Basic realm="eic-build-test"'), { kind: 'basic', realm: 'eic-build-test' });
  t.is(parseWwwAuthenticate('Negotiate'), undefined);
  t.is(parseWwwAuthenticate(null), undefined);
});

test('docker config credentials are decoded and registered as secrets', (t) => {
  t.teardown(clearRegisteredSecrets);
  const auth = Buffer.from('robot:s3cret-token-value').toString('base64');
  const text = JSON.stringify({ auths: { 'https://reg.example': { auth } } });
  t.deepEqual(parseDockerConfigCredentials(text, 'reg.example'), { username: 'robot', password: 's3cret-token-value' });
  t.is(parseDockerConfigCredentials(text, 'other.example'), undefined);
  t.false(redact(`x s3cret-token-value ${auth}`).includes('s3cret'));
});

test('access_pair reads the variables Spack reads and fails with Spack wording', (t) => {
  t.teardown(clearRegisteredSecrets);
  t.deepEqual(credentialsFromAccessPair({ idVariable: 'U', secretVariable: 'P' }, { U: 'me', P: 'password-1' }), { username: 'me', password: 'password-1' });
  t.deepEqual(credentialsFromAccessPair({ id: 'me', secretVariable: 'P' }, { P: 'password-1' }), { username: 'me', password: 'password-1' });
  const error = t.throws(() => credentialsFromAccessPair({ idVariable: 'U', secretVariable: 'P' }, { P: 'x' }, 'eic'), { instanceOf: EicBuildError });
  t.is(error?.message, 'invalid push configuration for mirror eic: id_variable U not set in environment');
});

test('Link header next page', (t) => {
  t.is(nextLink('</v2/a/tags/list?last=x&n=2>; rel="next"'), '/v2/a/tags/list?last=x&n=2');
  t.is(nextLink(null), undefined);
});
