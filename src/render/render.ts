import { BUILTIN_VARIABLES, GENERATED_PREFIX, type ProjectConfig, type StageKind } from './config.js';
import { parseDockerfile } from './dockerfile-parse.js';
import { DEFAULT_LAYOUT, EIC_REGISTRY_SECRETS, type SigningLayout } from './layout.js';
import { lintDockerfile, stageKindOf } from './lint.js';
import type { LintFinding } from './lint-rules.js';
import { validateMirrors, type MirrorInfo } from './mirrors.js';
import { throwProblems, type RenderProblem } from './problems.js';
import type { PublicKeyInput } from './public-key.js';
import { defaultVerifySelection, generatedSnippets, VERIFY_SELECTION } from './snippets.js';
import { expandTemplate, type VariableValue } from './variables.js';

/** A BuildKit secret the rendered Dockerfile mounts, and how `eic-build build` must pass it. */
export type RenderedSecret =
  | { id: string; kind: 'file'; purpose: 'signing-key'; required: true }
  | { id: string; kind: 'file'; purpose: 'mirrors'; required: true; /** Rendered file to pass as src= (key of RenderedProject.fileNames). */ file: 'mirrorsYaml' }
  | { id: string; kind: 'env'; purpose: 'registry-credential'; required: false; /** Environment variable to pass as env= (same name as the id). */ env: string };

/** Everything `eic-build render` produces, in memory. */
export interface RenderedProject {
  files: { dockerfile: string; mirrorsYaml: string; publicKeyFile: string };
  /** File names writeRenderedProject uses, relative to the output directory. */
  fileNames: { dockerfile: string; mirrorsYaml: string; publicKeyFile: string };
  publicKey: {
    fingerprint: string;
    /** Where the public key file must be inside the BUILD CONTEXT (the Dockerfile COPYs it from there). */
    contextPath: string;
    /** The build-arg that must carry the fingerprint (also in buildArgs). */
    fingerprintArg: string;
    /** The stage that carries the key (bind-mounted into the steps that trust/verify/sign). */
    stage: string;
  };
  secrets: RenderedSecret[];
  /** Build-args the build must pass (the fingerprint). */
  buildArgs: Record<string, string>;
  /** Build-args that build a runtime stage alone (`--target RUNTIME`): the builder stage is skipped; empty without that switch. */
  runtimeAloneBuildArgs: Record<string, string>;
  /** Named build contexts the build must pass: none, the key travels as a context file (works on docker 20.10). */
  buildContexts: Record<string, string>;
  mirrors: MirrorInfo[];
  stages: { name: string; kind: StageKind }[];
  /** Who signs what (plain statements for the user). */
  notes: string[];
  /** Transition-mode and other warnings; print them. */
  warnings: string[];
  /** Variables used and where their values came from (values of generated ones left out). */
  variables: { name: string; source: VariableValue['source'] | 'default' }[];
}

/** A template's text and the name it is reported under. */
export interface TemplateText {
  file: string;
  text: string;
}

/** Inputs of the pure renderer. */
export interface RenderInput {
  config: ProjectConfig;
  mirrorsTemplate: TemplateText;
  dockerfileTemplates: TemplateText[];
  /** --var NAME=VALUE (highest precedence). */
  vars: Record<string, string>;
  /** The environment (only allowed names are read). */
  env: NodeJS.ProcessEnv;
  publicKey: PublicKeyInput;
  layout?: SigningLayout;
}

/** Pseudo file name under which lint findings are reported. */
export const RENDERED_DOCKERFILE = 'Dockerfile (rendered)';

/**
 * Render mirrors.yaml and the Dockerfile from template texts. Pure: no file system, no process.
 * Throws one EicBuildError listing every problem (variables, mirrors schema, lint) at once.
 */
export function renderFromTexts(input: RenderInput): RenderedProject {
  const layout = input.layout ?? DEFAULT_LAYOUT;
  const { config } = input;
  const problems: RenderProblem[] = [];
  const allowed = new Set<string>([...BUILTIN_VARIABLES, ...config.allowedVariables]);
  const values = new Map<string, VariableValue>();
  for (const [name, value] of Object.entries(config.values)) values.set(name, { value, source: 'config' });
  for (const name of allowed) {
    const value = input.env[name];
    if (value !== undefined) values.set(name, { value, source: 'env' });
  }
  for (const [name, value] of Object.entries(input.vars)) {
    if (name.startsWith(GENERATED_PREFIX) && name !== 'EIC_BUILD_IMAGE') {
      problems.push({ file: '--var', line: 1, column: 1, message: `${name} is computed by eic-build and cannot be set` });
    } else if (!allowed.has(name)) {
      problems.push({
        file: '--var',
        line: 1,
        column: 1,
        message: `${name} is not in the allowed list (${[...allowed].sort().join(', ')}): add it to variables.allowed in eic-build.yaml`,
      });
    } else values.set(name, { value, source: 'cli' });
  }

  const mirrorsExpanded = expandTemplate(input.mirrorsTemplate.file, input.mirrorsTemplate.text, { allowed, values });
  problems.push(...mirrorsExpanded.problems);
  let mirrors: MirrorInfo[] = [];
  let mirrorsYaml = '';
  const notes: string[] = [];
  const warnings: string[] = [];
  if (mirrorsExpanded.problems.length === 0) {
    const checked = validateMirrors(`${input.mirrorsTemplate.file} (rendered)`, mirrorsExpanded.text, { transition: config.transition });
    problems.push(...checked.problems);
    mirrors = checked.mirrors;
    mirrorsYaml = checked.text;
    notes.push(...checked.notes);
    warnings.push(...checked.warnings);
  }
  if (config.transition) {
    warnings.push(
      'transition mode is ON: runtime stages install entries that failed eic-build buildcache verify (with a warning in the build log). Turn it off (transition: false) once every buildcache is signed.',
    );
  }

  const registrySecrets = orderedCredentials(mirrors);
  // Default: the entries of the environment's lockfile, which is what the step installs (--all would
  // download a whole shared buildcache into the verified copy).
  const spackEnv = values.get('SPACK_ENV')?.value.trim() || '/opt/spack-environment';
  const fallbackSelection = defaultVerifySelection(spackEnv);
  const chosenSelection = values.get('BUILDCACHE_VERIFY_SELECTION')?.value.trim().replace(/\s+/g, ' ');
  const selection = chosenSelection || fallbackSelection;
  if (!chosenSelection && !VERIFY_SELECTION.test(selection)) {
    problems.push({
      file: 'SPACK_ENV',
      line: 1,
      column: 1,
      message: `'${spackEnv}' is not an absolute environment directory, so its spack.lock cannot be the default BUILDCACHE_VERIFY_SELECTION; set SPACK_ENV to the directory (e.g. /opt/spack-environment), or set BUILDCACHE_VERIFY_SELECTION (--spack-lock /ABSOLUTE/spack.lock, --all or --spec …)`,
    });
  } else if (!VERIFY_SELECTION.test(selection)) {
    problems.push({
      file: 'BUILDCACHE_VERIFY_SELECTION',
      line: 1,
      column: 1,
      message: `'${selection}' is not '--spack-lock /ABSOLUTE/spack.lock [--include-build-deps]', '--all' or '--spec NAME-VERSION-HASH' (repeatable)`,
    });
  }
  const snippets = generatedSnippets({
    layout,
    shell: config.shell,
    mirrors,
    registrySecrets,
    transition: config.transition,
    verifySelection: VERIFY_SELECTION.test(selection) ? selection : fallbackSelection,
    spackEnv,
  });
  const dockerfileValues = new Map(values);
  const dockerfileAllowed = new Set(allowed);
  for (const [name, value] of Object.entries(snippets)) {
    dockerfileValues.set(name, { value, source: 'generated' });
    dockerfileAllowed.add(name);
  }
  const used = new Set<string>(mirrorsExpanded.used);
  const parts: string[] = [];
  // Rendered line → template line, so lint findings name the template a person has to fix.
  const origins: { file: string; line: number }[] = [];
  for (const template of input.dockerfileTemplates) {
    const dockerScope = { allowed: dockerfileAllowed, values: dockerfileValues };
    const expanded = expandTemplate(template.file, template.text, dockerScope);
    problems.push(...expanded.problems);
    for (const name of expanded.used) used.add(name);
    const text = expanded.text.endsWith('\n') ? expanded.text : `${expanded.text}\n`;
    parts.push(text);
    // A reference never spans lines, so each template line expands on its own.
    template.text
      .replace(/\n$/, '')
      .split('\n')
      .forEach((line, index) => {
        const count = expandTemplate(template.file, line, dockerScope).text.split('\n').length;
        for (let i = 0; i < count; i += 1) origins.push({ file: template.file, line: index + 1 });
      });
  }
  throwProblems('render', 'cannot render the templates', problems, 'fix every place listed above (nothing was written); docs/render.md lists the variables and keys.');

  const directives = [config.syntax ? `# syntax=${config.syntax}` : undefined, config.check ? `# check=${config.check}` : undefined].filter(
    (line): line is string => line !== undefined,
  );
  const dockerfile = `${directives.join('\n')}${directives.length > 0 ? '\n' : ''}${parts.join('')}`;

  const findings = lintDockerfile(dockerfile, { layout, stageKinds: config.stages, mirrors, transition: config.transition });
  throwLintFindings(findings, (line) => origins[line - 1 - directives.length]);

  const stages = parseDockerfile(dockerfile)
    .stages.filter((stage) => stage.name !== undefined)
    .map((stage) => ({ name: stage.name!, kind: stageKindOf(stage.name, config.stages) }));
  const secrets: RenderedSecret[] = [
    { id: layout.signingSecretId, kind: 'file', purpose: 'signing-key', required: true },
    { id: layout.mirrorsSecretId, kind: 'file', purpose: 'mirrors', required: true, file: 'mirrorsYaml' },
    ...registrySecrets.map((id): RenderedSecret => ({ id, kind: 'env', purpose: 'registry-credential', required: false, env: id })),
  ];
  return {
    files: { dockerfile, mirrorsYaml, publicKeyFile: input.publicKey.armored.endsWith('\n') ? input.publicKey.armored : `${input.publicKey.armored}\n` },
    fileNames: { dockerfile: 'Dockerfile', mirrorsYaml: 'mirrors.yaml', publicKeyFile: layout.publicContextPath.split('/').pop()! },
    publicKey: { fingerprint: input.publicKey.fingerprint, contextPath: layout.publicContextPath, fingerprintArg: layout.fingerprintArg, stage: layout.publicStage },
    secrets,
    buildArgs: { [layout.fingerprintArg]: input.publicKey.fingerprint },
    runtimeAloneBuildArgs: stages.some((stage) => stage.name === layout.builderSkippedStage) ? { [layout.builderStageArg]: layout.builderSkippedStage } : {},
    buildContexts: {},
    mirrors,
    stages,
    notes,
    warnings,
    variables: [...used].sort().map((name) => ({ name, source: dockerfileValues.get(name)?.source ?? 'default' })),
  };
}

/** EIC's four credential names first (in EIC's order), then any other access_pair variable. */
function orderedCredentials(mirrors: MirrorInfo[]): string[] {
  const names = new Set(mirrors.flatMap((mirror) => mirror.credentialVariables));
  const eic = EIC_REGISTRY_SECRETS.filter((name) => names.has(name));
  const rest = [...names].filter((name) => !(EIC_REGISTRY_SECRETS as readonly string[]).includes(name)).sort();
  return [...eic, ...rest];
}

/** Fail rendering when any error-severity lint rule is broken (all findings listed). */
export function throwLintFindings(findings: LintFinding[], originOf: (line: number) => { file: string; line: number } | undefined = () => undefined): void {
  const errors = findings.filter((finding) => finding.severity === 'error');
  throwProblems(
    'lint',
    'the rendered Dockerfile breaks eic-build lint rules',
    errors.map((finding) => {
      const origin = originOf(finding.line);
      const from = origin ? ` (from ${origin.file}:${origin.line})` : '';
      return { file: RENDERED_DOCKERFILE, line: finding.line, column: 1, message: `[${finding.rule}] ${finding.message}${from}` };
    }),
    'each rule id is explained in docs/render.md (lint rules); fix the template that produced the line.',
  );
}
