import { join } from 'node:path';
import { readFile } from 'node:fs/promises';
import { BUNDLED_CONFIG, BUNDLED_TEMPLATES_DIR, parseProjectConfig, renderFromTexts, writeRenderedProject, type ProjectConfig, type TemplateRef } from '../render/index.js';
import { throwProblems } from '../render/problems.js';
import { dirname, resolve } from 'node:path';
import { EicBuildError } from '../errors.js';
import type { PipelineDeps, RenderedFiles } from './run.js';

async function readTemplate(ref: TemplateRef, baseDir: string): Promise<{ file: string; text: string }> {
  const path = ref.kind === 'bundled' ? join(BUNDLED_TEMPLATES_DIR, ref.name) : resolve(baseDir, ref.path);
  try {
    return { file: ref.kind === 'bundled' ? `bundled:${ref.name}` : path, text: await readFile(path, 'utf8') };
  } catch (error) {
    throw new EicBuildError('input-not-found', `cannot read template ${path}: ${(error as Error).message}`, { hint: 'check the templates: section of eic-build.yaml.' });
  }
}

/**
 * Render the project for a build: the config file as it is (the renderer skips the `build:`
 * section, which project-config.ts validates) or the bundled defaults, written into `outDir`.
 */
export async function renderForBuild(input: Parameters<NonNullable<PipelineDeps['render']>>[0]): Promise<RenderedFiles> {
  let config: ProjectConfig = BUNDLED_CONFIG;
  let baseDir = BUNDLED_TEMPLATES_DIR;
  if (input.configFile && input.configText !== undefined) {
    const parsed = parseProjectConfig(input.configFile, input.configText);
    throwProblems('config', `invalid project config ${input.configFile}`, parsed.problems, 'fix the listed keys; docs/render.md describes eic-build.yaml.');
    config = parsed.config!;
    baseDir = dirname(resolve(input.configFile));
  }
  const mirrorsTemplate = await readTemplate(config.mirrorsTemplate, baseDir);
  const dockerfileTemplates = [];
  for (const ref of config.dockerfileTemplates) dockerfileTemplates.push(await readTemplate(ref, baseDir));
  const project = renderFromTexts({
    config,
    mirrorsTemplate,
    dockerfileTemplates,
    vars: input.vars,
    env: input.env,
    publicKey: { armored: input.key.armoredPublicKey, fingerprint: input.key.fingerprint },
    layout: input.layout,
  });
  const written = await writeRenderedProject(project, input.outDir);
  return {
    dockerfile: written.dockerfile,
    mirrorsFile: written.mirrorsYaml,
    warnings: project.warnings,
    buildArgs: project.buildArgs,
    mirrors: project.mirrors.flatMap((mirror) => [{ name: mirror.name, url: mirror.url }, ...(mirror.pushUrl !== mirror.url ? [{ name: mirror.name, url: mirror.pushUrl }] : [])]),
    split: { runtimeStages: project.stages.filter((stage) => stage.kind === 'runtime').map((stage) => stage.name), runtimeAloneBuildArgs: project.runtimeAloneBuildArgs },
  };
}
