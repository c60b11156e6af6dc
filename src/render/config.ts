import { isMap, isScalar, isSeq, LineCounter, parseDocument, type Node as YamlNode } from 'yaml';
import type { RenderProblem } from './problems.js';
import type { ShellKind } from './layout.js';

/** The kind of a stage, for the lint: builders sign, runtimes verify. */
export type StageKind = 'builder' | 'runtime' | 'other';

/** A template reference: bundled with eic-build, or a file relative to the config file. */
export type TemplateRef = { kind: 'bundled'; name: string } | { kind: 'file'; path: string };

/** A validated project config (`eic-build.yaml`). */
export interface ProjectConfig {
  /** Where it came from (for messages); `<bundled defaults>` without a file. */
  source: string;
  mirrorsTemplate: TemplateRef;
  dockerfileTemplates: TemplateRef[];
  /** `# syntax=` value; undefined leaves the line out (BuildKit would pull a frontend image for it). */
  syntax: string | undefined;
  /** `# check=` value; undefined leaves the line out. */
  check: string | undefined;
  shell: ShellKind;
  /** Explicit transition mode: unsigned installs allowed, with warnings. */
  transition: boolean;
  stages: Record<string, StageKind>;
  /** Extra variable names the templates may use. */
  allowedVariables: string[];
  /** Project defaults for variables (overridden by the environment and --var). */
  values: Record<string, string>;
}

/** Variables every project may use (EIC's, and the bundled templates' knobs). */
export const BUILTIN_VARIABLES = [
  'CI_REGISTRY',
  'CI_PROJECT_PATH',
  'SPACKPACKAGES_VERSION',
  'BASE_IMAGE_TAG',
  'EIC_BUILD_IMAGE',
  'SPACK_ENV',
  'SPACK_INSTALL_FLAGS',
  'BUILDCACHE_VERIFY_SELECTION',
  // The stage runtimes wait for (default: builder).
  'BUILDER_STAGE',
] as const;

/** The bundled template set (what runs with no config file). */
export const BUNDLED_CONFIG: ProjectConfig = {
  source: '<bundled defaults>',
  mirrorsTemplate: { kind: 'bundled', name: 'mirrors.yaml.in' },
  dockerfileTemplates: [
    { kind: 'bundled', name: 'dockerfile/00-header.Dockerfile.in' },
    { kind: 'bundled', name: 'dockerfile/10-public-key.Dockerfile.in' },
    { kind: 'bundled', name: 'dockerfile/20-builder.Dockerfile.in' },
    { kind: 'bundled', name: 'dockerfile/25-builder-done.Dockerfile.in' },
    { kind: 'bundled', name: 'dockerfile/30-runtime.Dockerfile.in' },
  ],
  syntax: undefined,
  check: 'error=true',
  shell: 'bash',
  transition: false,
  stages: { 'spack-signer-public': 'other', 'eic-build': 'other', builder: 'builder', 'builder-skipped': 'other', 'builder-done': 'other', runtime: 'runtime' },
  allowedVariables: [],
  values: {},
};

const TOP_KEYS = new Set(['version', 'templates', 'syntax', 'check', 'shell', 'transition', 'stages', 'variables', 'build']);
const VARIABLE_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;
/** Names eic-build computes itself; a project cannot set them. */
export const GENERATED_PREFIX = 'EIC_BUILD_';

/**
 * Parse and validate `eic-build.yaml` text. Pure: returns the config or every problem at once
 * (never the first only), each with file, line and column.
 */
export function parseProjectConfig(file: string, text: string): { config: ProjectConfig | undefined; problems: RenderProblem[] } {
  const problems: RenderProblem[] = [];
  const lineCounter = new LineCounter();
  const doc = parseDocument(text, { lineCounter, prettyErrors: false, uniqueKeys: true });
  const at = (node: YamlNode | null | undefined, message: string) => {
    const pos = lineCounter.linePos(node?.range?.[0] ?? 0);
    problems.push({ file, line: pos.line, column: pos.col, message });
  };
  for (const error of doc.errors) {
    const pos = lineCounter.linePos(error.pos[0]);
    problems.push({ file, line: pos.line, column: pos.col, message: `not valid YAML: ${error.message.split('\n')[0]}` });
  }
  if (problems.length > 0) return { config: undefined, problems };
  const root = doc.contents;
  if (!isMap(root)) {
    at(root, 'eic-build.yaml must be a mapping (see docs/render.md)');
    return { config: undefined, problems };
  }
  const config: ProjectConfig = { ...BUNDLED_CONFIG, source: file, stages: { ...BUNDLED_CONFIG.stages }, allowedVariables: [], values: {} };
  const str = (node: unknown, what: string): string | undefined => {
    if (isScalar(node) && typeof node.value === 'string' && node.value.trim() !== '') return node.value;
    at(node as YamlNode, `${what} must be a non-empty string`);
    return undefined;
  };
  const bool = (node: unknown, what: string): boolean | undefined => {
    if (isScalar(node) && typeof node.value === 'boolean') return node.value;
    at(node as YamlNode, `${what} must be true or false`);
    return undefined;
  };
  const templateRef = (node: unknown, what: string): TemplateRef | undefined => {
    const value = str(node, what);
    if (value === undefined) return undefined;
    return value.startsWith('bundled:') ? { kind: 'bundled', name: value.slice('bundled:'.length) } : { kind: 'file', path: value };
  };
  for (const pair of root.items) {
    if (!isScalar(pair.key)) continue;
    const key = String(pair.key.value);
    const value = pair.value as YamlNode | null;
    if (!TOP_KEYS.has(key)) {
      at(pair.key as YamlNode, `unknown key '${key}' (known: ${[...TOP_KEYS].join(', ')})`);
      continue;
    }
    // `build:` belongs to `eic-build build` (its own validation); the renderer only lets it through.
    if (key === 'build') continue;
    if (key === 'version') {
      if (!isScalar(value) || value.value !== 1) at(value ?? (pair.key as YamlNode), 'version must be 1');
    } else if (key === 'syntax' || key === 'check') {
      if (isScalar(value) && value.value === false) config[key] = undefined;
      else {
        const text = str(value, key);
        if (text !== undefined && /\s/.test(text)) at(value, `${key} must be one word (e.g. docker/dockerfile:1.7), or false to leave the line out`);
        else if (text !== undefined) config[key] = text;
      }
    } else if (key === 'shell') {
      if (!isScalar(value) || (value.value !== 'bash' && value.value !== 'posix')) at(value ?? (pair.key as YamlNode), "shell must be 'bash' or 'posix'");
      else config.shell = value.value;
    } else if (key === 'transition') {
      const flag = bool(value, 'transition');
      if (flag !== undefined) config.transition = flag;
    } else if (key === 'templates') {
      if (!isMap(value)) {
        at(value ?? (pair.key as YamlNode), 'templates must be a mapping with mirrors and dockerfile');
        continue;
      }
      for (const sub of value.items) {
        const subKey = isScalar(sub.key) ? String(sub.key.value) : '';
        const subValue = sub.value as YamlNode | null;
        if (subKey === 'mirrors') {
          const ref = templateRef(subValue, 'templates.mirrors');
          if (ref) config.mirrorsTemplate = ref;
        } else if (subKey === 'dockerfile') {
          const items = isSeq(subValue) ? subValue.items : [subValue];
          const refs = items.map((item) => templateRef(item, 'templates.dockerfile entry'));
          if (refs.length === 0) at(subValue, 'templates.dockerfile must list at least one template');
          if (refs.every((ref) => ref !== undefined)) config.dockerfileTemplates = refs as TemplateRef[];
        } else at(sub.key as YamlNode, `templates: unknown key '${subKey}' (known: mirrors, dockerfile)`);
      }
    } else if (key === 'stages') {
      if (!isMap(value)) {
        at(value ?? (pair.key as YamlNode), 'stages must map stage names to builder, runtime or other');
        continue;
      }
      config.stages = {};
      for (const sub of value.items) {
        const name = isScalar(sub.key) ? String(sub.key.value) : '';
        const kind = isScalar(sub.value) ? sub.value.value : undefined;
        if (kind !== 'builder' && kind !== 'runtime' && kind !== 'other') at(sub.value as YamlNode, `stages.${name} must be builder, runtime or other`);
        else config.stages[name] = kind;
      }
    } else if (key === 'variables') {
      if (!isMap(value)) {
        at(value ?? (pair.key as YamlNode), 'variables must be a mapping with allowed and values');
        continue;
      }
      for (const sub of value.items) {
        const subKey = isScalar(sub.key) ? String(sub.key.value) : '';
        const subValue = sub.value as YamlNode | null;
        if (subKey === 'allowed') {
          if (!isSeq(subValue)) {
            at(subValue ?? (sub.key as YamlNode), 'variables.allowed must be a list of names');
            continue;
          }
          for (const item of subValue.items) {
            const name = str(item, 'variables.allowed entry');
            if (name === undefined) continue;
            if (!VARIABLE_NAME.test(name)) at(item as YamlNode, `'${name}' is not a variable name (letters, digits, '_')`);
            else if (name.startsWith(GENERATED_PREFIX)) at(item as YamlNode, `${name}: names starting with ${GENERATED_PREFIX} are computed by eic-build`);
            else config.allowedVariables.push(name);
          }
        } else if (subKey === 'values') {
          if (!isMap(subValue)) {
            at(subValue ?? (sub.key as YamlNode), 'variables.values must map names to strings');
            continue;
          }
          for (const item of subValue.items) {
            const name = isScalar(item.key) ? String(item.key.value) : '';
            const itemValue = item.value as YamlNode | null;
            if (!VARIABLE_NAME.test(name)) at(item.key as YamlNode, `'${name}' is not a variable name`);
            else if (name.startsWith(GENERATED_PREFIX) && name !== 'EIC_BUILD_IMAGE')
              at(item.key as YamlNode, `${name}: names starting with ${GENERATED_PREFIX} are computed by eic-build`);
            else if (!isScalar(itemValue) || (typeof itemValue.value !== 'string' && typeof itemValue.value !== 'number'))
              at(itemValue ?? (item.key as YamlNode), `variables.values.${name} must be a string`);
            else config.values[name] = String(itemValue.value);
          }
        } else at(sub.key as YamlNode, `variables: unknown key '${subKey}' (known: allowed, values)`);
      }
    }
  }
  for (const name of Object.keys(config.values)) {
    if (!config.allowedVariables.includes(name) && !(BUILTIN_VARIABLES as readonly string[]).includes(name)) {
      problems.push({ file, line: 1, column: 1, message: `variables.values.${name} is not in the allowed list: add it to variables.allowed` });
    }
  }
  return { config: problems.length === 0 ? config : undefined, problems };
}
