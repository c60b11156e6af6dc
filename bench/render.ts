// Render figures: how long rendering (expand + mirrors validation + lint) takes, so the renderer
// never becomes the slow part of a build. Pure work only: no Docker, no files written.
import { renderProject, lintDockerfile, DEFAULT_LAYOUT, BUNDLED_CONFIG } from '../src/render/index.js';

const env = { CI_REGISTRY: '127.0.0.1:5000', CI_PROJECT_PATH: 'eic/containers', SPACKPACKAGES_VERSION: 'v2025.06.1' };
const publicKey = { armored: '-----BEGIN PGP PUBLIC KEY BLOCK-----\n\nx\n-----END PGP PUBLIC KEY BLOCK-----\n', fingerprint: '0123456789ABCDEF0123456789ABCDEF01234567' };

export default async function (log: (line: string) => void): Promise<void> {
  const rounds = 200;
  await renderProject({ vars: {}, env, publicKey });
  let start = performance.now();
  let project = await renderProject({ vars: {}, env, publicKey });
  for (let i = 1; i < rounds; i += 1) project = await renderProject({ vars: {}, env, publicKey });
  const renderMs = (performance.now() - start) / rounds;
  log(`render bundled templates (read + expand + mirrors + lint): ${renderMs.toFixed(2)} ms per render (${rounds} rounds)`);

  // Lint a large Dockerfile: the bundled one with 50 extra runtime-like stages.
  const big =
    project.files.dockerfile +
    Array.from({ length: 50 }, (_, i) => project.files.dockerfile.slice(project.files.dockerfile.indexOf('FROM ${RUNTIME_IMAGE}')).replace('AS runtime', `AS runtime${i}`)).join(
      '\n',
    );
  const context = { layout: DEFAULT_LAYOUT, stageKinds: BUNDLED_CONFIG.stages, mirrors: project.mirrors, transition: false };
  start = performance.now();
  const findings = lintDockerfile(big, context);
  const lintMs = performance.now() - start;
  log(`lint ${big.split('\n').length} lines / 53 stages: ${lintMs.toFixed(1)} ms (${findings.length} findings; ${(big.split('\n').length / lintMs).toFixed(0)} lines/ms)`);
}
