import test from 'ava';
import { parseProjectConfig, BUNDLED_CONFIG } from '../../src/render/index.js';

test('a full config parses; absent keys keep the bundled defaults', (t) => {
  const { config, problems } = parseProjectConfig(
    'eic-build.yaml',
    [
      'version: 1',
      'syntax: docker/dockerfile:1.7',
      'check: false',
      'shell: posix',
      'transition: true',
      'templates:',
      '  mirrors: m.yaml.in',
      '  dockerfile: [bundled:dockerfile/00-header.Dockerfile.in, s.in]',
      'stages: { build: builder, run: runtime }',
      'variables:',
      '  allowed: [ENV]',
      '  values: { ENV: xl, SPACK_ENV: /e }',
      '',
    ].join('\n'),
  );
  t.deepEqual(problems, []);
  t.is(config!.syntax, 'docker/dockerfile:1.7');
  t.is(config!.check, undefined);
  t.is(config!.shell, 'posix');
  t.true(config!.transition);
  t.deepEqual(config!.mirrorsTemplate, { kind: 'file', path: 'm.yaml.in' });
  t.deepEqual(config!.dockerfileTemplates, [
    { kind: 'bundled', name: 'dockerfile/00-header.Dockerfile.in' },
    { kind: 'file', path: 's.in' },
  ]);
  t.deepEqual(config!.stages, { build: 'builder', run: 'runtime' });
  t.deepEqual(config!.values, { ENV: 'xl', SPACK_ENV: '/e' });
  t.is(BUNDLED_CONFIG.syntax, undefined, 'no syntax line by default: it would make BuildKit pull an image');
});

test('every config problem is reported at once, with line and column', (t) => {
  const { config, problems } = parseProjectConfig(
    'eic-build.yaml',
    [
      'version: 2',
      'shell: zsh',
      'colour: red',
      'stages: { a: sidecar }',
      'variables:',
      '  allowed: [EIC_BUILD_STRICT, "x y"]',
      '  values: { OTHER: v }',
      'syntax: two words',
      '',
    ].join('\n'),
  );
  t.is(config, undefined);
  const text = problems.map((p) => `${p.line}:${p.column} ${p.message}`).join('\n');
  t.regex(text, /1:10 version must be 1/);
  t.regex(text, /2:8 shell must be 'bash' or 'posix'/);
  t.regex(text, /3:1 unknown key 'colour'/);
  t.regex(text, /stages.a must be builder, runtime or other/);
  t.regex(text, /EIC_BUILD_STRICT: names starting with EIC_BUILD_ are computed by eic-build/);
  t.regex(text, /'x y' is not a variable name/);
  t.regex(text, /variables.values.OTHER is not in the allowed list/);
  t.regex(text, /syntax must be one word/);
  t.is(problems.length, 8);
});

test('a build: section is left to eic-build build', (t) => {
  const { config, problems } = parseProjectConfig('eic-build.yaml', 'version: 1\nbuild:\n  target: runtime\n');
  t.deepEqual(problems, []);
  t.truthy(config);
});

test('invalid YAML is reported with its place', (t) => {
  const { problems } = parseProjectConfig('eic-build.yaml', 'templates: [\n');
  t.regex(problems[0]!.message, /not valid YAML/);
});
