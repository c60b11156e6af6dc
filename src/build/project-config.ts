import { readFile } from 'node:fs/promises';
import { dirname, isAbsolute, join, resolve } from 'node:path';
import { isMap, isScalar, isSeq, LineCounter, parseDocument, type Node as YamlNode } from 'yaml';
import { EicBuildError } from '../errors.js';
import type { BaseImageSpec } from '../docker/base-image.js';

/** The `build:` section of `eic-build.yaml` (the rest belongs to the renderer, which skips this one). */
export interface BuildSection {
  /** Build this Dockerfile (relative to the config file) instead of rendering templates. */
  dockerfile: string | undefined;
  /** Base images eic-build makes locally when the engine lacks them (nothing can be pulled). */
  baseImages: BaseImageSpec[];
}

/** The config file as `eic-build build` sees it. */
export interface BuildProjectConfig {
  /** Absolute path of the file, or undefined when there is none. */
  file: string | undefined;
  build: BuildSection;
  /** The file's text as read, for the renderer, which ignores `build:` (undefined: no file). */
  text: string | undefined;
}

const NAME = /^[a-z0-9][a-z0-9._/-]*(?::[\w][\w.-]*)?$/;

/**
 * Pure: read the `build:` section. Every problem is reported at once with line and column; a bad
 * section is a 'config' error naming the file.
 */
export function parseBuildSection(file: string, text: string): { build: BuildSection } {
  const lineCounter = new LineCounter();
  const doc = parseDocument(text, { lineCounter, uniqueKeys: true });
  const problems: string[] = [];
  const at = (node: YamlNode | null | undefined, message: string) => {
    const pos = lineCounter.linePos(node?.range?.[0] ?? 0);
    problems.push(`${file}:${pos.line}:${pos.col}: ${message}`);
  };
  for (const error of doc.errors) {
    const pos = lineCounter.linePos(error.pos[0]);
    problems.push(`${file}:${pos.line}:${pos.col}: not valid YAML: ${error.message.split('\n')[0]}`);
  }
  const build: BuildSection = { dockerfile: undefined, baseImages: [] };
  const root = doc.contents;
  const section = isMap(root) ? root.get('build', true) : undefined;
  if (section !== undefined && section !== null) {
    if (!isMap(section)) at(section as YamlNode, 'build must be a mapping with dockerfile and/or baseImages');
    else {
      for (const pair of section.items) {
        const key = isScalar(pair.key) ? String(pair.key.value) : '';
        const value = pair.value as YamlNode | null;
        if (key === 'dockerfile') {
          if (isScalar(value) && typeof value.value === 'string' && value.value.trim()) build.dockerfile = value.value;
          else at(value ?? (pair.key as YamlNode), 'build.dockerfile must be a path');
        } else if (key === 'baseImages') {
          if (!isSeq(value)) {
            at(value ?? (pair.key as YamlNode), 'build.baseImages must be a list');
            continue;
          }
          for (const item of value.items) {
            const spec = (item as YamlNode & { toJSON(): unknown }).toJSON() as Record<string, unknown>;
            const where = item as YamlNode;
            if (!spec || typeof spec !== 'object') {
              at(where, 'each base image is a mapping with kind and name');
              continue;
            }
            const name = spec.name;
            if (typeof name !== 'string' || !NAME.test(name)) {
              at(where, `base image name '${String(name)}' is not a lowercase image reference (e.g. example/bookworm-gnupg:1)`);
              continue;
            }
            if (spec.kind === 'busybox') build.baseImages.push({ kind: 'busybox', name });
            else if (spec.kind === 'debootstrap') {
              const packages = spec.packages ?? [];
              if (!Array.isArray(packages) || !packages.every((p) => typeof p === 'string' && /^[a-z0-9][a-z0-9.+-]*$/.test(p))) {
                at(where, `${name}: packages must be a list of Debian package names`);
                continue;
              }
              if (spec.suite !== undefined && (typeof spec.suite !== 'string' || !/^[a-z]+$/.test(spec.suite))) {
                at(where, `${name}: suite must be a Debian suite name such as bookworm`);
                continue;
              }
              const hostFiles = spec.hostFiles ?? [];
              if (!Array.isArray(hostFiles) || !hostFiles.every((h) => h && typeof h.from === 'string' && typeof h.to === 'string')) {
                at(where, `${name}: hostFiles must be a list of {from, to[, mode]}`);
                continue;
              }
              build.baseImages.push({
                kind: 'debootstrap',
                name,
                ...(spec.suite ? { suite: spec.suite as string } : {}),
                packages: packages as string[],
                ...(hostFiles.length ? { hostFiles: hostFiles as { from: string; to: string; mode?: number }[] } : {}),
              });
            } else at(where, `${name}: kind must be debootstrap or busybox`);
            for (const key of Object.keys(spec)) {
              if (!['kind', 'name', 'suite', 'packages', 'hostFiles'].includes(key)) at(where, `${name}: unknown key '${key}'`);
            }
          }
        } else at(pair.key as YamlNode, `build: unknown key '${key}' (known: dockerfile, baseImages)`);
      }
    }
  }
  if (problems.length) {
    throw new EicBuildError('config', `${file} has ${problems.length} problem(s):\n${problems.join('\n')}`, { hint: 'fix the build: section (see docs/build.md).' });
  }
  // The renderer reads the same file: it knows `build:` and leaves it to us.
  return { build };
}

/** Find and read the config: `--config FILE`, else CONTEXT/eic-build.yaml when present. */
export async function readBuildProjectConfig(configPath: string | undefined, contextDir: string): Promise<BuildProjectConfig> {
  const file = configPath ? resolve(configPath) : join(contextDir, 'eic-build.yaml');
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (error) {
    if (!configPath && (error as NodeJS.ErrnoException).code === 'ENOENT') return { file: undefined, build: { dockerfile: undefined, baseImages: [] }, text: undefined };
    throw new EicBuildError('input-not-found', `cannot read config ${file}: ${(error as Error).message}`, { hint: 'check the --config path.' });
  }
  const { build } = parseBuildSection(file, text);
  if (build.dockerfile && !isAbsolute(build.dockerfile)) build.dockerfile = join(dirname(file), build.dockerfile);
  for (const spec of build.baseImages) {
    if (spec.kind === 'debootstrap') for (const h of spec.hostFiles ?? []) if (!isAbsolute(h.from)) h.from = join(dirname(file), h.from);
  }
  return { file, build, text };
}
