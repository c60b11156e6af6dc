import { mkdir, readFile } from 'node:fs/promises';
import { dirname, isAbsolute, join, relative, resolve, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import { EicBuildError } from '../errors.js';
import { writeOutputFile } from '../io/output-file.js';
import { BUNDLED_CONFIG, parseProjectConfig, type ProjectConfig, type TemplateRef } from './config.js';
import { DEFAULT_LAYOUT } from './layout.js';
import { throwProblems } from './problems.js';
import type { PublicKeyInput } from './public-key.js';
import { renderFromTexts, type RenderedProject, type TemplateText } from './render.js';

/** The templates shipped with eic-build. */
export const BUNDLED_TEMPLATES_DIR = fileURLToPath(new URL('../../templates/', import.meta.url));

/** Options of renderProject. */
export interface RenderProjectOptions {
  /** eic-build.yaml; without it the bundled EIC-style templates are rendered. */
  configFile?: string;
  vars: Record<string, string>;
  env: NodeJS.ProcessEnv;
  publicKey: PublicKeyInput;
  /**
   * Path of the public key file inside the build context, as the Dockerfile will COPY it
   * (default `.eic-build/spack-signer-public.asc`). Use publicKeyContextPath() to derive it.
   */
  publicKeyContextPath?: string;
}

/** Read the config and templates, then render (see renderFromTexts). */
export async function renderProject(options: RenderProjectOptions): Promise<RenderedProject> {
  const { config, baseDir } = await readProjectConfig(options.configFile);
  const mirrorsTemplate = await readTemplate(config.mirrorsTemplate, baseDir);
  const dockerfileTemplates: TemplateText[] = [];
  for (const ref of config.dockerfileTemplates) dockerfileTemplates.push(await readTemplate(ref, baseDir));
  const layout = options.publicKeyContextPath ? { ...DEFAULT_LAYOUT, publicContextPath: options.publicKeyContextPath } : DEFAULT_LAYOUT;
  return renderFromTexts({ config, mirrorsTemplate, dockerfileTemplates, vars: options.vars, env: options.env, publicKey: options.publicKey, layout });
}

/** Read and validate eic-build.yaml (or the bundled defaults without one). */
export async function readProjectConfig(configFile: string | undefined): Promise<{ config: ProjectConfig; baseDir: string }> {
  if (configFile === undefined) return { config: BUNDLED_CONFIG, baseDir: BUNDLED_TEMPLATES_DIR };
  const text = await readText(configFile, 'the project config (--config)');
  const { config, problems } = parseProjectConfig(configFile, text);
  throwProblems('config', `invalid project config ${configFile}`, problems, 'fix the listed keys; docs/render.md describes eic-build.yaml.');
  return { config: config!, baseDir: dirname(resolve(configFile)) };
}

async function readTemplate(ref: TemplateRef, baseDir: string): Promise<TemplateText> {
  if (ref.kind === 'bundled') {
    const path = join(BUNDLED_TEMPLATES_DIR, ref.name);
    if (!resolve(path).startsWith(resolve(BUNDLED_TEMPLATES_DIR) + sep))
      throw new EicBuildError('config', `bundled template '${ref.name}' is outside the bundled templates`, { hint: 'use bundled:<name> with a name from templates/.' });
    return { file: `bundled:${ref.name}`, text: await readText(path, `bundled template '${ref.name}'`) };
  }
  const path = isAbsolute(ref.path) ? ref.path : join(baseDir, ref.path);
  return { file: ref.path, text: await readText(path, `template ${ref.path}`) };
}

async function readText(path: string, what: string): Promise<string> {
  try {
    return await readFile(path, 'utf8');
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    throw new EicBuildError(code === 'ENOENT' ? 'input-not-found' : 'input-unreadable', `cannot read ${what}: ${path} (${code ?? 'error'})`, {
      hint: code === 'ENOENT' ? 'check the path (relative template paths are relative to eic-build.yaml).' : 'check the file permissions.',
      cause: error,
    });
  }
}

/**
 * The public key's path inside the build context when the rendered files go to outputDir:
 * outputDir must be inside the context, or the Dockerfile could not COPY the key.
 */
export function publicKeyContextPath(contextDir: string, outputDir: string): string {
  const rel = relative(resolve(contextDir), resolve(outputDir));
  if (rel.startsWith('..') || isAbsolute(rel)) {
    throw new EicBuildError('usage', `output directory ${outputDir} is not inside the build context ${contextDir}`, {
      hint: 'the Dockerfile COPYs the public key from the build context: put --output-dir inside --context.',
    });
  }
  const file = DEFAULT_LAYOUT.publicContextPath.split('/').pop()!;
  return [...rel.split(sep).filter(Boolean), file].join('/');
}

/** Absolute paths writeRenderedProject wrote. */
export interface WrittenFiles {
  dockerfile: string;
  mirrorsYaml: string;
  publicKeyFile: string;
}

/**
 * Write the Dockerfile, mirrors.yaml and the public key file into outputDir, each atomically
 * (temp file + rename in the same directory). Prints nothing.
 */
export async function writeRenderedProject(project: RenderedProject, outputDir: string): Promise<WrittenFiles> {
  await mkdir(outputDir, { recursive: true });
  const written: WrittenFiles = {
    dockerfile: join(outputDir, project.fileNames.dockerfile),
    mirrorsYaml: join(outputDir, project.fileNames.mirrorsYaml),
    publicKeyFile: join(outputDir, project.fileNames.publicKeyFile),
  };
  await writeAtomic(written.dockerfile, project.files.dockerfile);
  await writeAtomic(written.mirrorsYaml, project.files.mirrorsYaml);
  await writeAtomic(written.publicKeyFile, project.files.publicKeyFile);
  return written;
}

async function writeAtomic(path: string, text: string): Promise<void> {
  await writeOutputFile(path, text, { flag: '--output-dir' });
}
