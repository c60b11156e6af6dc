import { fileURLToPath } from 'node:url';
import { renderProject, type RenderedProject } from '../../src/render/index.js';

/** The EIC-like fixture project. */
export const EIC_FIXTURE_CONFIG = fileURLToPath(new URL('./fixtures/eic/eic-build.yaml', import.meta.url));

/** A placeholder public key: the pure renderer does not parse it, so goldens stay stable. */
export const PLACEHOLDER_KEY = {
  armored: '-----BEGIN PGP PUBLIC KEY BLOCK-----\n\nplaceholder for the golden tests\n-----END PGP PUBLIC KEY BLOCK-----\n',
  fingerprint: '0123456789ABCDEF0123456789ABCDEF01234567',
};

/** EIC's CI environment, with loopback registries (no real host name in the repo). */
export const EIC_ENV: NodeJS.ProcessEnv = {
  CI_REGISTRY: '127.0.0.1:5000',
  CI_PROJECT_PATH: 'eic/containers',
  SPACKPACKAGES_VERSION: 'v2025.06.1',
  GITHUB_REGISTRY: '127.0.0.1:5001',
  GITHUB_REPOSITORY: 'eic/spack-mirror',
  SPACK_VERSION: 'v1.1.0',
  // Not allowed anywhere: must be ignored, never read.
  HOME: '/root',
};

/** Render the bundled templates from EIC's environment. */
export async function renderBundled(env: NodeJS.ProcessEnv = EIC_ENV): Promise<RenderedProject> {
  return renderProject({ vars: {}, env, publicKey: PLACEHOLDER_KEY });
}

/** Render the EIC-like fixture project. */
export async function renderEicFixture(env: NodeJS.ProcessEnv = EIC_ENV, vars: Record<string, string> = {}): Promise<RenderedProject> {
  return renderProject({ configFile: EIC_FIXTURE_CONFIG, vars, env, publicKey: PLACEHOLDER_KEY });
}
