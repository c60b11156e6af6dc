import { mkdir, readFile, stat, writeFile } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import { EicBuildError } from '../errors.js';
import type { SigningLayout } from '../render/layout.js';
import type { BuildOptions } from './build-options.js';
import type { BuildProjectConfig } from './project-config.js';
import type { PipelineDeps, PipelineKey, RenderedFiles } from './run.js';

/**
 * The build's sources in the context: the user's Dockerfile or the rendered project, and the public
 * half of the signing key as a non-secret context file (the renderer's layout), which a new key changes.
 */

/** Which Dockerfile a build uses. */
export type DockerfileChoice = { kind: 'user'; path: string } | { kind: 'render' };

/**
 * Pure, as buildx: --file, else the config's build.dockerfile; without a config file CONTEXT/Dockerfile
 * when there is one. A config without build.dockerfile (or nothing at all) renders the templates.
 */
export function chooseDockerfile(input: {
  file: string | undefined;
  config: { file: BuildProjectConfig['file']; build: Pick<BuildProjectConfig['build'], 'dockerfile'> };
  contextDir: string;
  contextHasDockerfile: boolean;
}): DockerfileChoice {
  if (input.file) return { kind: 'user', path: resolve(input.file) };
  if (input.config.build.dockerfile) return { kind: 'user', path: input.config.build.dockerfile };
  if (!input.config.file && input.contextHasDockerfile) return { kind: 'user', path: join(input.contextDir, 'Dockerfile') };
  return { kind: 'render' };
}

const isFile = async (path: string): Promise<boolean> => Boolean((await stat(path).catch(() => undefined))?.isFile());
const GITIGNORE = '# written by eic-build build\n*\n';

/** Write the sources into the context: the public key file (where it is read), or the rendered project. */
export async function prepareSources(input: {
  config: BuildProjectConfig;
  options: Pick<BuildOptions, 'file' | 'vars'>;
  contextDir: string;
  key: PipelineKey;
  render: PipelineDeps['render'];
  env: NodeJS.ProcessEnv;
  layout: SigningLayout;
}): Promise<RenderedFiles> {
  const { config, contextDir, key, layout } = input;
  const publicFile = join(contextDir, layout.publicContextPath);
  const outDir = dirname(publicFile);
  const choice = chooseDockerfile({ file: input.options.file, config, contextDir, contextHasDockerfile: await isFile(join(contextDir, 'Dockerfile')) });
  if (choice.kind === 'user') {
    if (!(await isFile(choice.path))) {
      throw new EicBuildError('input-not-found', `Dockerfile ${choice.path} does not exist`, {
        hint: config.file ? `check build.dockerfile in ${config.file} or --file.` : 'check --file.',
      });
    }
    // A user Dockerfile gets the public key file only if it reads it (no stray files otherwise).
    if ((await readFile(choice.path, 'utf8')).includes(layout.publicContextPath)) {
      await mkdir(outDir, { recursive: true });
      await writeFile(join(outDir, '.gitignore'), GITIGNORE);
      await writeFile(publicFile, key.armoredPublicKey);
    }
    return { dockerfile: choice.path, mirrorsFile: undefined };
  }
  if (!input.render) {
    throw new EicBuildError('config', `no Dockerfile to build in ${contextDir}: the renderer is not available in this version`, {
      hint: 'pass --file Dockerfile, or set build.dockerfile in eic-build.yaml.',
    });
  }
  // The renderer writes the public key file itself, and nothing at all when it finds a problem.
  const rendered = await input.render({ configFile: config.file, configText: config.text, outDir, key, env: input.env, layout, vars: input.options.vars });
  await writeFile(join(outDir, '.gitignore'), GITIGNORE);
  return rendered;
}
