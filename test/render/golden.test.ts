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
