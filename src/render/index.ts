// Render: templates → Dockerfile + mirrors.yaml + public key file. Re-exports only.
export { renderProject, readProjectConfig, writeRenderedProject, publicKeyContextPath, BUNDLED_TEMPLATES_DIR, type RenderProjectOptions, type WrittenFiles } from './project.js';
export { renderFromTexts, throwLintFindings, RENDERED_DOCKERFILE, type RenderedProject, type RenderedSecret, type RenderInput, type TemplateText } from './render.js';
export { parseProjectConfig, BUNDLED_CONFIG, BUILTIN_VARIABLES, type ProjectConfig, type StageKind, type TemplateRef } from './config.js';
export { expandTemplate, type VariableScope, type VariableValue, type ExpandResult } from './variables.js';
export { validateMirrors, mirrorKind, type MirrorInfo, type MirrorKind, type MirrorsResult } from './mirrors.js';
export { lintDockerfile, isSecretLikeName, type LintContext } from './lint.js';
export { LINT_RULES, type LintRule, type LintRuleId, type LintFinding, type LintSeverity } from './lint-rules.js';
export { parseDockerfile, type ParsedDockerfile, type DockerfileInstruction } from './dockerfile-parse.js';
export { DEFAULT_LAYOUT, EIC_REGISTRY_SECRETS, type SigningLayout, type ShellKind } from './layout.js';
export { parsePublicKey, type PublicKeyInput } from './public-key.js';
export { formatProblem, type RenderProblem } from './problems.js';
