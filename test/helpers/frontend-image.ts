import { execa } from 'execa';
import { existsSync } from 'node:fs';
import { cp, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { repoRoot } from './cli.js';
import { ensureDebianGnupgImage } from './images.js';
import { requireIntegration } from './unit-only.js';

// eic-build's own image (Dockerfile.frontend) for tests that run the real tool inside a build step.
// Made as test/build/build.test.ts makes it (a base with the host's node and docker client, then
// Dockerfile.frontend over the repository), but with a plain BuildKit build: no scan, and BuildKit's
// cache makes a second call cheap while still picking up a rebuilt dist/.

const DOCKER = '/usr/bin/docker';
/** The base Dockerfile.frontend builds on: the shared Debian image plus the host's node and docker client. */
export const FRONTEND_BASE_IMAGE = 'eic-build-test/frontend-base:1';

async function imageExists(image: string): Promise<boolean> {
  return (await execa(DOCKER, ['image', 'inspect', image], { reject: false })).exitCode === 0;
}

/** Make FRONTEND_BASE_IMAGE unless present. */
export async function ensureFrontendBaseImage(): Promise<string> {
  requireIntegration('Docker (the frontend base image)');
  if (await imageExists(FRONTEND_BASE_IMAGE)) return FRONTEND_BASE_IMAGE;
  const debian = await ensureDebianGnupgImage();
  const context = await mkdtemp(join(tmpdir(), 'eic-build-frontend-base-'));
  try {
    await cp(process.execPath, join(context, 'node'));
    await cp(DOCKER, join(context, 'docker'));
    await writeFile(join(context, 'Dockerfile'), `FROM ${debian}\nCOPY node docker /usr/local/bin/\n`);
    const built = await execa(DOCKER, ['build', '-q', '-t', FRONTEND_BASE_IMAGE, context], { env: { DOCKER_BUILDKIT: '1' }, reject: false, all: true });
    if (built.exitCode !== 0) throw new Error(`building ${FRONTEND_BASE_IMAGE} failed:\n${String(built.all)}`);
  } finally {
    await rm(context, { recursive: true, force: true });
  }
  return FRONTEND_BASE_IMAGE;
}

/**
 * Build Dockerfile.frontend from the repository (its dist/ must be built from the current src/:
 * `npm run build`; `npm ci` does it in CI) and tag it `tag`. `requiredDistFiles` (relative to
 * dist/) name what the caller needs, so a dist/ older than the feature fails with the fix, not
 * with a puzzling error inside a build step.
 */
export async function ensureFrontendImage(tag: string, requiredDistFiles: readonly string[] = []): Promise<string> {
  requireIntegration('Docker (the frontend image)');
  for (const file of ['cli.js', ...requiredDistFiles]) {
    if (!existsSync(join(repoRoot, 'dist', file))) throw new Error(`dist/${file} is missing: run \`npm run build\` before this integration test`);
  }
  const base = await ensureFrontendBaseImage();
  const built = await execa(DOCKER, ['build', '-q', '-f', 'Dockerfile.frontend', '--build-arg', `BASE_IMAGE=${base}`, '-t', tag, '.'], {
    cwd: repoRoot,
    env: { DOCKER_BUILDKIT: '1' },
    reject: false,
    all: true,
  });
  if (built.exitCode !== 0) throw new Error(`building ${tag} from Dockerfile.frontend failed:\n${String(built.all)}`);
  return tag;
}
