import test from 'ava';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { join } from 'node:path';
import { parse } from 'yaml';
import type { RenderedProject } from '../../src/render/index.js';
import { renderBundled, renderEicFixture } from './inputs.js';

const goldenDir = fileURLToPath(new URL('./golden/', import.meta.url));
const update = process.env.UPDATE_GOLDEN === '1';

async function compare(t: import('ava').ExecutionContext, name: string, actual: string): Promise<void> {
  const path = join(goldenDir, name);
  if (update) {
    await mkdir(join(path, '..'), { recursive: true });
    await writeFile(path, actual);
  }
  const expected = await readFile(path, 'utf8');
  t.is(actual, expected, `${name} differs from its golden (UPDATE_GOLDEN=1 rewrites it; review the diff)`);
}

function summary(project: RenderedProject): string {
  const { files: _files, ...rest } = project;
  return `${JSON.stringify(rest, null, 2)}\n`;
}

test('bundled EIC templates render to the golden Dockerfile, mirrors.yaml and build contract', async (t) => {
  const project = await renderBundled();
  await compare(t, 'bundled/Dockerfile', project.files.dockerfile);
  await compare(t, 'bundled/mirrors.yaml', project.files.mirrorsYaml);
  await compare(t, 'bundled/project.json', summary(project));
});

test('the EIC-like fixture project renders to its goldens', async (t) => {
  const project = await renderEicFixture();
  await compare(t, 'eic/Dockerfile', project.files.dockerfile);
  await compare(t, 'eic/mirrors.yaml', project.files.mirrorsYaml);
  await compare(t, 'eic/project.json', summary(project));
});

test('EIC fixture: OCI mirrors are rendered signed: false, credentials stay variable names, secrets match', async (t) => {
  const project = await renderEicFixture();
  const mirrors = parse(project.files.mirrorsYaml).mirrors;
  t.is(mirrors.eicweb.signed, false);
  t.is(mirrors['ghcr-spack'].signed, false);
  t.deepEqual(mirrors.eicweb.access_pair, { id_variable: 'CI_REGISTRY_USER', secret_variable: 'CI_REGISTRY_PASSWORD' });
  t.deepEqual(
    project.secrets.map((secret) => `${secret.id}:${secret.kind}`),
    ['spack-signing-key:file', 'mirrors:file', 'CI_REGISTRY_USER:env', 'CI_REGISTRY_PASSWORD:env', 'GITHUB_REGISTRY_USER:env', 'GITHUB_REGISTRY_TOKEN:env'],
  );
  t.deepEqual(project.buildArgs, { SPACK_SIGNER_FINGERPRINT: '0123456789ABCDEF0123456789ABCDEF01234567' });
  t.true(project.notes.some((note) => note.includes('eic-build buildcache sign')));
  // The signing step signs the autopush mirror only; the runtime verifies both mirrors it installs from.
  t.regex(project.files.dockerfile, /buildcache sign 'oci:\/\/127\.0\.0\.1:5000\/eic\/containers\/spack-v2025\.06\.1'/);
  t.notRegex(project.files.dockerfile, /buildcache sign 'oci:\/\/127\.0\.0\.1:5001/);
  t.regex(project.files.dockerfile, /buildcache verify 'oci:\/\/127\.0\.0\.1:5001\/eic\/spack-mirror\/spack-v1\.1\.0'/);
  t.false(project.files.dockerfile.includes('/root'), 'HOME is not an allowed variable and must not be read');
});

test('a file-only mirror without credentials: Spack signs, no registry secrets, no eic-build sign step', async (t) => {
  const { readFile: read } = await import('node:fs/promises');
  const { BUNDLED_CONFIG, BUNDLED_TEMPLATES_DIR, renderFromTexts, lintDockerfile, DEFAULT_LAYOUT } = await import('../../src/render/index.js');
  const { PLACEHOLDER_KEY } = await import('./inputs.js');
  const dockerfileTemplates = [];
  for (const ref of BUNDLED_CONFIG.dockerfileTemplates) {
    if (ref.kind === 'bundled') dockerfileTemplates.push({ file: ref.name, text: await read(join(BUNDLED_TEMPLATES_DIR, ref.name), 'utf8') });
  }
  const project = renderFromTexts({
    config: BUNDLED_CONFIG,
    mirrorsTemplate: { file: 'mirrors.yaml.in', text: 'mirrors:\n  local:\n    url: file:///opt/buildcache\n    autopush: true\n' },
    dockerfileTemplates,
    vars: { CI_REGISTRY: '127.0.0.1:5000', CI_PROJECT_PATH: 'p' },
    env: {},
    publicKey: PLACEHOLDER_KEY,
  });
  t.deepEqual(
    project.secrets.map((secret) => secret.id),
    ['spack-signing-key', 'mirrors'],
  );
  t.is(parse(project.files.mirrorsYaml).mirrors.local.signed, true);
  t.regex(project.files.dockerfile, /: no OCI autopush mirror to sign/);
  t.notRegex(project.files.dockerfile, /buildcache sign/);
  t.regex(project.files.dockerfile, /buildcache verify 'file:\/\/\/opt\/buildcache'/);
  t.deepEqual(lintDockerfile(project.files.dockerfile, { layout: DEFAULT_LAYOUT, stageKinds: BUNDLED_CONFIG.stages, mirrors: project.mirrors, transition: false }), []);
});
