import type { StageKind } from './config.js';
import { mountsOf, parseDockerfile, type DockerfileInstruction, type ParsedDockerfile } from './dockerfile-parse.js';
import { EIC_REGISTRY_SECRETS, type SigningLayout } from './layout.js';
import { LINT_RULES, type LintFinding, type LintRuleId } from './lint-rules.js';
import type { MirrorInfo } from './mirrors.js';

/** What the lint knows besides the Dockerfile text. */
export interface LintContext {
  layout: SigningLayout;
  /** Stage name → kind; unnamed or unlisted stages are classified by name (runtime…/builder…). */
  stageKinds: Record<string, StageKind>;
  mirrors: MirrorInfo[];
  transition: boolean;
}

// BuildKit's SecretsUsedInArgOrEnv: deny words as `_`-separated tokens, `public` allowed.
const SECRET_WORDS = /(?:_|^)(?:apikey|auth|credential|credentials|key|password|pword|passwd|secret|token)(?:_|$)/i;
const PUBLIC_WORD = /(?:_|^)public(?:_|$)/i;

/** True when BuildKit's SecretsUsedInArgOrEnv would flag this ARG/ENV name. */
export function isSecretLikeName(name: string): boolean {
  return SECRET_WORDS.test(name) && !PUBLIC_WORD.test(name);
}

/** The kind of a stage, from the config or its name. */
export function stageKindOf(name: string | undefined, kinds: Record<string, StageKind>): StageKind {
  if (name !== undefined && kinds[name] !== undefined) return kinds[name]!;
  if (name !== undefined && /runtime/i.test(name)) return 'runtime';
  if (name !== undefined && /builder/i.test(name)) return 'builder';
  return 'other';
}

const severityOf = new Map<string, LintFinding['severity']>(LINT_RULES.map((rule) => [rule.id, rule.severity]));

/**
 * Check a rendered Dockerfile against every rule in LINT_RULES. Pure: returns findings (data),
 * sorted by line; the caller decides what a finding means.
 */
export function lintDockerfile(text: string, context: LintContext): LintFinding[] {
  const parsed = parseDockerfile(text);
  const findings: LintFinding[] = [];
  const report = (rule: LintRuleId, line: number, message: string) => findings.push({ rule, severity: severityOf.get(rule) ?? 'error', line, message });
  const { layout } = context;
  const credentialNames = new Set<string>([...EIC_REGISTRY_SECRETS, ...context.mirrors.flatMap((mirror) => mirror.credentialVariables)]);
  const shells = stageShells(parsed);
  const currentShell = new Map<number, 'bash' | 'posix'>();
  const stageArgs = new Map<number, Set<string>>();
  const publicCopies = new Map<number, Set<string>>();

  for (const instruction of parsed.instructions) {
    const stage = parsed.stages[instruction.stage];
    const kind = stageKindOf(stage?.name, context.stageKinds);
    const { keyword } = instruction;
    if (keyword === 'ARG' || keyword === 'ENV') {
      for (const name of declaredNames(instruction)) {
        if (keyword === 'ARG') {
          if (!stageArgs.has(instruction.stage)) stageArgs.set(instruction.stage, new Set());
          stageArgs.get(instruction.stage)!.add(name);
        }
        if (isSecretLikeName(name))
          report(
            'no-secret-words-in-arg-env',
            instruction.line,
            `${keyword} ${name}: the name contains a word BuildKit's SecretsUsedInArgOrEnv flags; rename it (e.g. ${layout.fingerprintArg} for the fingerprint)`,
          );
        if (name === 'SPACK_GNUPGHOME' || name === 'GNUPGHOME')
          report(
            'spack-gnupghome-only',
            instruction.line,
            `${keyword} ${name} makes the GnuPG home outlive the signing step; export SPACK_GNUPGHOME inside the step, below its tmpfs mount`,
          );
        if (credentialNames.has(name))
          report('registry-credentials-secret', instruction.line, `${keyword} ${name}: registry credentials must be secrets (--mount=type=secret,id=${name}), never ARG or ENV`);
      }
    }
    if (keyword !== 'RUN' && keyword !== 'FROM' && mentionsSigningKey(instruction.args, layout)) {
      report(
        'signing-secret-only-mount',
        instruction.line,
        `${keyword} mentions the signing key; it may only enter a RUN step as --mount=type=secret,id=${layout.signingSecretId},required=true`,
      );
    }
    if (keyword === 'COPY' || keyword === 'ADD') {
      const from = instruction.flags.find((flag) => flag.name === 'from')?.value;
      if (from === layout.publicStage) {
        const destination = instruction.command.split(/\s+/).pop() ?? '';
        if (!publicCopies.has(instruction.stage)) publicCopies.set(instruction.stage, new Set());
        publicCopies.get(instruction.stage)!.add(destination);
      }
      if (/\/run\/secrets|private-keys-v1\.d|secring|\.gpg\b|\.key\b|signing[-_]?key/i.test(instruction.command)) {
        report(
          'no-key-material-copy',
          instruction.line,
          `${keyword} ${instruction.command}: looks like private key material; keys enter only as secret mounts of the steps that sign`,
        );
      }
      if (/mirrors\.ya?ml/.test(instruction.command)) {
        report(
          'mirrors-secret-mount',
          instruction.line,
          `${keyword} of mirrors.yaml: mount it as --mount=type=secret,id=${layout.mirrorsSecretId},target=${layout.mirrorsTarget} in the steps that need it`,
        );
      }
    }
    if (keyword === 'SHELL') currentShell.set(instruction.stage, /bash/.test(instruction.args) ? 'bash' : 'posix');
    if (keyword !== 'RUN') continue;
    lintRun(instruction, kind, currentShell.get(instruction.stage) ?? shells[instruction.stage] ?? 'posix', {
      context,
      report,
      credentialNames,
      args: stageArgs.get(instruction.stage) ?? new Set(),
      publicCopies: publicCopies.get(instruction.stage) ?? new Set(),
    });
  }
  checkRuntimeAfterBuilder(parsed, context, (line, message) => report('runtime-after-builder', line, message));
  return findings.sort((a, b) => a.line - b.line || a.rule.localeCompare(b.rule));
}

const SPACK_INSTALL = /\bspack\s+(?:-\S+\s+(?:\S+\s+)?)*?install\b/;

/**
 * The runtime's edge to the builder: a builder that installs (and so autopushes) ends its step by
 * writing the stamp; the builder-done stage is that builder (through the global stage switch ARG);
 * every runtime step that verifies or installs bind-mounts the stamp. Without the edge BuildKit
 * prunes the builder, since the runtime takes nothing else from it.
 */
function checkRuntimeAfterBuilder(parsed: ParsedDockerfile, context: LintContext, report: (line: number, message: string) => void): void {
  const { layout } = context;
  const kindOf = (stage: number) => stageKindOf(parsed.stages[stage]?.name, context.stageKinds);
  const installs = parsed.instructions.filter((i) => i.keyword === 'RUN' && i.stage >= 0 && kindOf(i.stage) === 'builder' && SPACK_INSTALL.test(i.command));
  if (installs.length === 0) return;
  const builders = new Set(installs.map((i) => parsed.stages[i.stage]?.name).filter((name): name is string => name !== undefined));
  const stamp = escapeRegExp(layout.builderDoneFile);
  for (const install of installs) {
    const lastWork = Math.max(install.command.search(SPACK_INSTALL), install.command.lastIndexOf('buildcache sign'));
    const writes = new RegExp(`>\\s*${stamp}(?:\\s|;|$)`).exec(install.command.slice(lastWork));
    if (!writes)
      report(
        install.line,
        `this builder step runs spack install: end it by writing the stamp ${layout.builderDoneFile} after autopush and eic-build buildcache sign (\${EIC_BUILD_BUILDER_DONE}), so runtimes can wait for it`,
      );
  }
  const globalArgs = new Map<string, string>();
  for (const instruction of parsed.instructions.filter((i) => i.stage === -1 && i.keyword === 'ARG')) {
    const arg = /^([A-Za-z_][A-Za-z0-9_]*)=(\S+)$/.exec(instruction.args.trim());
    if (arg) globalArgs.set(arg[1]!, arg[2]!);
  }
  const done = parsed.stages.find((stage) => stage.name === layout.builderDoneStage);
  const switchArg = done && /^\$\{?([A-Za-z_][A-Za-z0-9_]*)\}?$/.exec(done.base)?.[1];
  const doneBuilder = switchArg ? globalArgs.get(switchArg) : done?.base;
  const runtimeSteps = parsed.instructions.filter(
    (i) => i.keyword === 'RUN' && i.stage >= 0 && kindOf(i.stage) === 'runtime' && (SPACK_INSTALL.test(i.command) || /\bbuildcache\s+verify\b/.test(i.command)),
  );
  const firstLine = runtimeSteps[0]?.line ?? installs[0]!.line;
  const expected = [...builders].join(' or ');
  if (!done) {
    report(
      firstLine,
      `no stage ${layout.builderDoneStage}: add 'FROM \${${layout.builderStageArg}} AS ${layout.builderDoneStage}' with a global 'ARG ${layout.builderStageArg}=${expected}' (bundled:dockerfile/25-builder-done.Dockerfile.in), so the runtime waits for ${expected}`,
    );
  } else if (doneBuilder === undefined || !builders.has(doneBuilder.toLowerCase())) {
    report(
      done.line,
      `stage ${layout.builderDoneStage} is made from '${doneBuilder ?? done.base}', not from the builder that installs and pushes (${expected}): write 'FROM \${${layout.builderStageArg}} AS ${layout.builderDoneStage}' and 'ARG ${layout.builderStageArg}=${expected}' before the first FROM (BUILDER_STAGE=${expected} with the bundled header)`,
    );
  }
  for (const step of runtimeSteps) {
    const mounted = mountsOf(step).some(
      (mount) => (mount.get('type') ?? 'bind') === 'bind' && mount.get('from') === layout.builderDoneStage && mount.get('source') === layout.builderDoneFile,
    );
    if (!mounted)
      report(
        step.line,
        `this runtime step does not wait for the builder: add --mount=type=bind,from=${layout.builderDoneStage},source=${layout.builderDoneFile},target=${layout.builderDoneMountTarget} (\${EIC_BUILD_BUILDER_DONE_MOUNT}); without it BuildKit prunes the builder and nothing is installed, pushed or signed`,
      );
  }
}

interface RunScope {
  context: LintContext;
  report: (rule: LintRuleId, line: number, message: string) => void;
  credentialNames: Set<string>;
  args: Set<string>;
  publicCopies: Set<string>;
}

function lintRun(instruction: DockerfileInstruction, kind: StageKind, shell: 'bash' | 'posix', scope: RunScope): void {
  const { context, report } = scope;
  const { layout } = context;
  const line = instruction.line;
  const command = instruction.command;
  const mounts = mountsOf(instruction);
  const signingMounts = mounts.filter((mount) => mount.get('type') === 'secret' && mount.get('id') === layout.signingSecretId);
  const secretIds = new Set(mounts.filter((mount) => mount.get('type') === 'secret').map((mount) => mount.get('id')));
  const tmpfsTargets = mounts.filter((mount) => mount.get('type') === 'tmpfs').map((mount) => mount.get('target') ?? '');
  const publicTargets = new Set([
    ...mounts.filter((mount) => (mount.get('type') ?? 'bind') === 'bind' && mount.get('from') === layout.publicStage).map((mount) => mount.get('target') ?? ''),
    ...scope.publicCopies,
  ]);
  const execForm = command.startsWith('[');

  if (!execForm) {
    const strict = shell === 'bash' ? /^set\s+(?:-eu\s+-o\s+pipefail|-euo\s+pipefail|-e\s+-u\s+-o\s+pipefail)(?:\s*[;&]|\s*$)/ : /^set\s+(?:-eu|-e\s+-u)\b/;
    if (!strict.test(command))
      report('strict-shell', line, `RUN must start with '${shell === 'bash' ? 'set -eu -o pipefail' : 'set -eu'}' (stage SHELL is ${shell === 'bash' ? 'bash' : 'POSIX sh'})`);
  }

  for (const mount of mounts) {
    if ((mount.get('type') ?? 'bind') === 'bind' && /signing|\.gpg$|private-keys/i.test(`${mount.get('source') ?? ''}`)) {
      report('signing-secret-only-mount', line, `bind mount of '${mount.get('source')}': key material may only be mounted as a secret`);
    }
  }
  for (const mount of signingMounts) {
    if (mount.get('required') !== 'true')
      report(
        'signing-secret-required',
        line,
        `--mount=type=secret,id=${layout.signingSecretId} needs required=true, so a build without the key fails instead of pushing unsigned packages`,
      );
  }
  const keyPath = signingMounts[0]?.get('target') ?? `/run/secrets/${layout.signingSecretId}`;
  if (signingMounts.length === 0 && command.includes(`/run/secrets/${layout.signingSecretId}`)) {
    report('signing-secret-only-mount', line, `this step reads /run/secrets/${layout.signingSecretId} without mounting it as a secret`);
  }
  if (/(?:^|[^A-Za-z0-9_])GNUPGHOME=/.test(command)) {
    report('spack-gnupghome-only', line, 'Spack ignores GNUPGHOME: set SPACK_GNUPGHOME (below a tmpfs mount of this step) instead');
  }

  if (signingMounts.length > 0) {
    if (kind === 'runtime') report('signing-secret-only-where-signing', line, 'a runtime stage mounts the signing key: runtimes only verify, with the public key');
    else if (!/\bspack\s+(?:-\S+\s+(?:\S+\s+)?)*?(?:install|buildcache\s+(?:push|create))\b|\bbuildcache\s+sign\b/.test(command)) {
      report(
        'signing-secret-only-where-signing',
        line,
        'this step mounts the signing key but does not sign (spack install with autopush, spack buildcache push, eic-build buildcache sign): drop the mount',
      );
    }
    const home = /(?:export\s+)?SPACK_GNUPGHOME=("?)([^\s;"]+)\1/.exec(command)?.[2];
    const inTmpfs = home !== undefined && tmpfsTargets.some((target) => target !== '' && home.startsWith(`${target.replace(/\/$/, '')}/`));
    if (!inTmpfs) {
      report(
        'signing-gnupghome-tmpfs',
        line,
        home === undefined
          ? `a step that mounts the signing key must export SPACK_GNUPGHOME=<tmpfs target>/<new dir>, with --mount=type=tmpfs,target=<tmpfs target> in the same step`
          : `SPACK_GNUPGHOME=${home} is not below a --mount=type=tmpfs target of this step (tmpfs: ${tmpfsTargets.join(', ') || 'none'})`,
      );
    }
    if (!/--list-secret-keys/.test(command)) {
      report(
        'signing-single-secret-key',
        line,
        'after importing the key, count the secret keys (gpg --list-secret-keys) and fail unless there is exactly one: autopush cannot pick a key',
      );
    }
    const trap = /trap\s+(['"])[^'"]*gpgconf\s+--homedir\s+"?\$\{?SPACK_GNUPGHOME\}?"?\s+--kill\s+gpg-agent[^'"]*\1\s+(?:EXIT|0)\b/.exec(command);
    const firstKeyUse = command.indexOf(keyPath);
    if (!trap || (firstKeyUse !== -1 && trap.index > firstKeyUse)) {
      report('signing-kills-agent', line, `before the key is imported, install: trap 'gpgconf --homedir "$SPACK_GNUPGHOME" --kill gpg-agent' EXIT`);
    }
  }

  for (const match of command.matchAll(/\bspack\s+(?:-\S+\s+)*gpg\s+trust\s+("?)([^\s;"]+)\1/g)) {
    const file = match[2]!;
    if (file.includes('/run/secrets') || file === keyPath || !publicTargets.has(file)) {
      report(
        'trust-public-only',
        line,
        `spack gpg trust ${file}: only the public key file (${[...publicTargets].join(', ') || `a bind mount from stage ${layout.publicStage}`}) may be trusted; trust imports secret keys too`,
      );
    }
  }

  if (kind === 'runtime' && /--no-check-signature|\s--unsigned\b|\s-u\s/.test(` ${command} `)) {
    report(
      'runtime-no-check-signature',
      line,
      'runtime stages must not skip signature checks (--no-check-signature / --unsigned); use the explicit transition mode while a cache is re-signed',
    );
  }

  const install = /\bspack\s+(?:-\S+\s+(?:\S+\s+)?)*?install\b/.exec(command);
  const verifyMatch = /\bbuildcache\s+verify\b/.exec(command);
  if (kind === 'runtime' && install) {
    if (!verifyMatch || verifyMatch.index > install.index) {
      report('runtime-verify-before-install', line, 'run eic-build buildcache verify for the mirrors you install from, in this step, before spack install');
    } else if (!context.transition) {
      const segmentEnd = command.indexOf(';', verifyMatch.index);
      const segment = command.slice(verifyMatch.index, segmentEnd === -1 ? undefined : segmentEnd);
      const before = command.slice(Math.max(0, verifyMatch.index - 200), verifyMatch.index);
      if (/\|\|/.test(segment) || /\bif\s+!\s+[^;]*$/.test(before)) {
        report('runtime-verify-before-install', line, 'a failed verification must fail the step: remove the fallback (|| / if !), or enable transition mode explicitly');
      }
      checkInstallsVerifiedCopy(command, layout, (message) => report('runtime-installs-verified-copy', line, message));
    }
  }

  const trusts = /\bspack\s+(?:-\S+\s+)*gpg\s+trust\b/.test(command);
  if ((kind === 'runtime' && (trusts || verifyMatch)) || signingMounts.length > 0) {
    if (publicTargets.size === 0)
      report('public-key-input', line, `mount the public key from stage ${layout.publicStage} (--mount=type=bind,from=${layout.publicStage},…) so a new key invalidates this step`);
    if (!scope.args.has(layout.fingerprintArg)) report('public-key-input', line, `the stage must declare ARG ${layout.fingerprintArg} (the public key's fingerprint, a build-arg)`);
    else if (!command.includes(`$${layout.fingerprintArg}`) && !command.includes(`\${${layout.fingerprintArg}}`)) {
      report('public-key-input', line, `compare the public key file's fingerprint with $${layout.fingerprintArg} in this step`);
    }
  }

  for (const name of scope.credentialNames) {
    const uses = new RegExp(`\\$\\{?${name}\\b|/run/secrets/${name}\\b`).test(command);
    if (uses && !secretIds.has(name)) report('registry-credentials-secret', line, `this step uses ${name} without --mount=type=secret,id=${name}`);
  }

  const usesMirrors = install !== null || /\bbuildcache\s+(?:push|create|install|sign|verify)\b/.test(command);
  if (usesMirrors && !secretIds.has(layout.mirrorsSecretId)) {
    report(
      'mirrors-secret-mount',
      line,
      `this step uses the mirrors but does not mount --mount=type=secret,id=${layout.mirrorsSecretId},target=${layout.mirrorsTarget},required=true`,
    );
  }

  if (kind !== 'runtime' && install) {
    for (const mirror of context.mirrors.filter((m) => m.kind === 'oci' && m.autopush)) {
      const signs = new RegExp(`buildcache\\s+sign\\s+['"]?${escapeRegExp(mirror.pushUrl)}['"]?`).test(command);
      if (!signs || signingMounts.length === 0) {
        report(
          'oci-autopush-signed-by-eic-build',
          line,
          `spack install autopushes to OCI mirror ${mirror.name}, which Spack does not sign: run eic-build buildcache sign ${mirror.pushUrl} in this step with the signing key mounted`,
        );
      }
    }
  }
}

function mentionsSigningKey(args: string, layout: SigningLayout): boolean {
  return args.includes(layout.signingSecretId) || /SPACK_SIGNING_KEY/.test(args) || args.includes('/run/secrets/');
}

function declaredNames(instruction: DockerfileInstruction): string[] {
  if (instruction.keyword === 'ARG')
    return instruction.args
      .split(/\s+/)
      .filter(Boolean)
      .map((part) => part.split('=')[0]!);
  const args = instruction.args.trim();
  // `ENV NAME value` (old form) or `ENV A=1 B=2`.
  if (!/^[^\s=]+=/.test(args)) return [args.split(/\s+/)[0] ?? ''];
  return [...args.matchAll(/(?:^|\s)([A-Za-z_][A-Za-z0-9_]*)=/g)].map((match) => match[1]!);
}

/** The shell each stage starts with: inherited from a parent stage (FROM <stage>), else POSIX sh. */
function stageShells(parsed: ParsedDockerfile): ('bash' | 'posix')[] {
  const shells: ('bash' | 'posix')[] = [];
  const last: ('bash' | 'posix' | undefined)[] = [];
  for (const instruction of parsed.instructions) {
    if (instruction.keyword === 'SHELL' && instruction.stage >= 0) last[instruction.stage] = /bash/.test(instruction.args) ? 'bash' : 'posix';
  }
  for (const stage of parsed.stages) {
    const parent = parsed.stages.find((other) => other.name !== undefined && other.name === stage.base && other.index < stage.index);
    shells[stage.index] = parent ? (last[parent.index] ?? shells[parent.index] ?? 'posix') : 'posix';
  }
  return shells;
}

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

/**
 * Runtime installs read only the verified copies: every verify writes a copy under the verified
 * root, the scope lists them with `mirrors::`, Spack is asked which mirrors it would read, every
 * install uses that scope and no other, and the step removes the copies after the last install.
 */
function checkInstallsVerifiedCopy(command: string, layout: SigningLayout, report: (message: string) => void): void {
  const root = escapeRegExp(layout.verifiedRoot);
  for (const verify of command.matchAll(/\bbuildcache\s+verify\b[^;]*/g)) {
    if (!new RegExp(`\\s--copy-to\\s+${root}/mirrors/[\\w.-]+(?:\\s|$)`).test(verify[0])) {
      report(`eic-build buildcache verify needs --copy-to ${layout.verifiedRoot}/mirrors/NAME, so that Spack installs the verified bytes, not what the mirror serves later`);
    }
  }
  if (!new RegExp(`'mirrors::'[^;]*>\\s*${root}/scope/mirrors\\.yaml`).test(command)) {
    report(`write the verified copies' scope with mirrors:: (two colons: it drops every other mirror) to ${layout.verifiedRoot}/scope/mirrors.yaml`);
  }
  const installs = [...command.matchAll(/\bspack((?:\s+-\S+(?:\s+[^-\s]\S*)?)*?)\s+install\b/g)];
  const check = new RegExp(`\\bspack\\s+-C\\s+${root}/scope\\s+--env\\s+\\S+\\s+config\\s+get\\s+mirrors\\b[^;]*;[^;]*grep -v 'file://${root}/mirrors/'`).exec(command);
  if (!check || check.index > (installs[0]?.index ?? 0)) {
    report(
      `before the install, ask Spack which mirrors it reads (spack -C ${layout.verifiedRoot}/scope --env ENV config get mirrors) and fail on any that is not a verified copy: before Spack 1.0 an environment's own mirrors override -C scopes`,
    );
  }
  for (const install of installs) {
    const globals = install[1] ?? '';
    const scopes = [...globals.matchAll(/(?:^|\s)(?:-C|--config-scope)\s+(\S+)/g)].map((m) => m[1]);
    if (scopes.length !== 1 || scopes[0] !== `${layout.verifiedRoot}/scope` || /(?:^|\s)(?:-c|--config)\s/.test(globals)) {
      report(`run every spack install with -C ${layout.verifiedRoot}/scope and no other config scope, so that Spack reads only the verified copies`);
    }
  }
  const last = installs.at(-1);
  if (last && !new RegExp(`\\brm\\s+-rf\\s+${root}(?:\\s|;|$)`).test(command.slice(last.index))) {
    report(`remove the verified copies after the install (rm -rf ${layout.verifiedRoot}), or they land in the layer`);
  }
}
