import test from 'ava';
import { parse } from 'yaml';
import { validateMirrors, mirrorKind } from '../../src/render/index.js';

const ok = (text: string, transition = false) => validateMirrors('mirrors.yaml', text, { transition });

test('OCI mirror: signed: false is rendered and the user is told who signs', (t) => {
  const result = ok(
    'mirrors:\n  cache:\n    url: oci://127.0.0.1:5000/x/spack\n    autopush: true\n    access_pair:\n      id_variable: CI_REGISTRY_USER\n      secret_variable: CI_REGISTRY_PASSWORD\n',
  );
  t.deepEqual(result.problems, []);
  t.is(parse(result.text).mirrors.cache.signed, false);
  t.deepEqual(result.mirrors[0], {
    name: 'cache',
    kind: 'oci',
    url: 'oci://127.0.0.1:5000/x/spack',
    pushUrl: 'oci://127.0.0.1:5000/x/spack',
    autopush: true,
    binary: true,
    signed: false,
    credentialVariables: ['CI_REGISTRY_USER', 'CI_REGISTRY_PASSWORD'],
    fetchCredentials: { idVariable: 'CI_REGISTRY_USER', secretVariable: 'CI_REGISTRY_PASSWORD' },
    pushCredentials: { idVariable: 'CI_REGISTRY_USER', secretVariable: 'CI_REGISTRY_PASSWORD' },
  });
  t.regex(result.notes[0]!, /Spack cannot sign or verify OCI.*eic-build buildcache sign.*eic-build buildcache verify/);
});

test('file/http/s3 mirrors are rendered signed: true; a bare URL becomes an object', (t) => {
  const result = ok('mirrors:\n  local: file:///opt/cache\n  web:\n    url: https://127.0.0.1/cache\n  bucket:\n    url: s3://bucket/cache\n    profile: ci\n');
  t.deepEqual(result.problems, []);
  const mirrors = parse(result.text).mirrors;
  t.deepEqual(mirrors.local, { url: 'file:///opt/cache', signed: true });
  t.is(mirrors.web.signed, true);
  t.is(mirrors.bucket.signed, true);
  t.deepEqual(
    result.mirrors.map((m) => m.kind),
    ['file', 'http', 's3'],
  );
});

test('signed: true on OCI is refused (Spack does not sign OCI)', (t) => {
  const result = ok('mirrors:\n  cache:\n    url: oci+http://127.0.0.1:5000/x\n    signed: true\n');
  t.is(result.problems.length, 1);
  t.regex(result.problems[0]!.message, /claims what Spack does not do.*write 'signed: false'/);
  t.is(result.problems[0]!.line, 4);
});

test('signed: false on a file mirror is refused, except in transition mode where it warns', (t) => {
  const text = 'mirrors:\n  local:\n    url: file:///opt/cache\n    signed: false\n';
  t.regex(ok(text).problems[0]!.message, /transition mode/);
  const transition = ok(text, true);
  t.deepEqual(transition.problems, []);
  t.regex(transition.warnings[0]!, /transition mode: mirror local is 'signed: false'/);
});

const negative: [string, string, RegExp][] = [
  ['unknown key', 'mirrors:\n  a:\n    url: oci://h/x\n    sigend: false\n', /unknown key 'sigend'/],
  ['unknown connection key', 'mirrors:\n  a:\n    fetch:\n      url: oci://h/x\n      password: x\n    push:\n      url: oci://h/x\n', /fetch: unknown key 'password'/],
  [
    'GitHub token',
    'mirrors:\n  a:\n    url: oci://h/x\n    access_pair:\n      id_variable: U\n      secret_variable: ghp_abcdefghijklmnopqrstuvwxyz0123456789\n',
    /looks like a GitHub token/,
  ],
  ['GitLab token', 'mirrors:\n  a:\n    url: oci://h/x\n    access_token_variable: glpat-abcdefghijklmnopqrst\n', /looks like a GitLab token/],
  [
    'long base64',
    'mirrors:\n  a:\n    url: oci://h/x\n    access_pair:\n      id: bot\n      secret_variable: QUJDREVGR0hJSktMTU5PUFFSU1RVVldYWVphYmNkZWZnaGlqa2xtbm9w\n',
    /long base64/,
  ],
  ['long hex', 'mirrors:\n  a:\n    url: oci://h/x\n    endpoint_url: 0123456789abcdef0123456789abcdef01234567\n', /long hex/],
  ['credentials in URL', 'mirrors:\n  a:\n    url: https://bot:hunter22@127.0.0.1/cache\n', /credentials in a URL/],
  ['access_pair list', 'mirrors:\n  a:\n    url: oci://h/x\n    access_pair: [bot, pass]\n', /as a list holds literal credentials/],
  ['no secret_variable', 'mirrors:\n  a:\n    url: oci://h/x\n    access_pair:\n      id_variable: U\n', /needs secret_variable/],
  [
    'id and id_variable',
    'mirrors:\n  a:\n    url: oci://h/x\n    access_pair:\n      id: bot\n      id_variable: U\n      secret_variable: P\n',
    /exactly one of id \/ id_variable/,
  ],
  [
    'value instead of variable name',
    'mirrors:\n  a:\n    url: oci://h/x\n    access_pair:\n      id_variable: U\n      secret_variable: "not a name!"\n',
    /must name an environment variable/,
  ],
  ['not YAML', 'mirrors:\n  a: [\n', /not valid YAML/],
  ['wrong top level', 'mirror:\n  a: oci://h/x\n', /exactly one key, 'mirrors:'/],
  ['no url', 'mirrors:\n  a:\n    autopush: true\n', /needs 'url'/],
  ['boolean as string', 'mirrors:\n  a:\n    url: oci://h/x\n    autopush: "yes"\n', /autopush must be true or false/],
  ['unknown scheme', 'mirrors:\n  a:\n    url: ftp://h/x\n', /is not oci:\/\//],
  ['quote in URL', 'mirrors:\n  a:\n    url: "oci://h/x\'y"\n', /contains quotes/],
];

for (const [name, text, message] of negative) {
  test(`mirrors.yaml refused: ${name}`, (t) => {
    const result = ok(text);
    t.true(
      result.problems.some((p) => message.test(p.message)),
      JSON.stringify(result.problems),
    );
    t.true(result.problems.every((p) => p.line >= 1 && p.column >= 1));
  });
}

test('long URL paths and commit hashes in URLs are not mistaken for tokens', (t) => {
  const result = ok(
    'mirrors:\n  a:\n    url: oci://127.0.0.1:5000/eicweb/containers/spackpackages/buildcache/development\n  b:\n    url: oci://127.0.0.1:5000/eic/spack-0123456789abcdef0123456789abcdef01234567\n',
  );
  t.deepEqual(result.problems, []);
});

test('all mirror problems are reported at once', (t) => {
  const result = ok('mirrors:\n  a:\n    url: oci://h/x\n    typo: 1\n  b:\n    url: oci://h/y\n    signed: true\n');
  t.deepEqual(
    result.problems.map((p) => p.line),
    [4, 7],
  );
});

test('fetch/push access_pairs override the mirror-level one; a literal id is kept as a user name', (t) => {
  const result = ok(
    'mirrors:\n  a:\n    url: oci://h/x\n    access_pair: { id: bot, secret_variable: P }\n    push:\n      url: oci://h/x\n      access_pair: { id_variable: PU, secret_variable: PP }\n',
  );
  t.deepEqual(result.problems, []);
  t.deepEqual(result.mirrors[0]!.fetchCredentials, { id: 'bot', secretVariable: 'P' });
  t.deepEqual(result.mirrors[0]!.pushCredentials, { idVariable: 'PU', secretVariable: 'PP' });
  t.deepEqual(result.mirrors[0]!.credentialVariables, ['P', 'PU', 'PP']);
});

test('mirrorKind classifies URLs', (t) => {
  t.deepEqual(['oci://a/b', 'oci+http://a/b', 'file:///x', '/x', 'https://a', 's3://b', 'gs://b'].map(mirrorKind), ['oci', 'oci', 'file', 'file', 'http', 's3', 'other']);
});
