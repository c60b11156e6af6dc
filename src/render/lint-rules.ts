/** How bad a broken rule is. Every `error` fails rendering. */
export type LintSeverity = 'error' | 'warning';

/** A lint rule, as data: a stable id scripts can match, a title, a severity, and its documentation. */
export interface LintRule {
  id: string;
  title: string;
  severity: LintSeverity;
  /** Why the rule exists and how to fix a finding (also in docs/render.md). */
  docs: string;
}

/** Every rule the Dockerfile lint checks, in documentation order. */
export const LINT_RULES = [
  {
    id: 'signing-secret-required',
    title: 'The signing key is mounted as a required secret',
    severity: 'error',
    docs: 'Every RUN step that reads the signing key mounts it with --mount=type=secret,id=<signing id>,required=true, so a build without the key fails at that step instead of silently pushing unsigned packages.',
  },
  {
    id: 'signing-secret-only-mount',
    title: 'The signing key enters only through a secret mount',
    severity: 'error',
    docs: 'The signing key must not appear in COPY, ADD, ARG, ENV or a bind mount, and no step may read /run/secrets/<signing id> without mounting it: anything else can write it into a layer or the build cache.',
  },
  {
    id: 'signing-secret-only-where-signing',
    title: 'Only steps that sign mount the signing key',
    severity: 'error',
    docs: 'A step that mounts the signing key must sign in that step (spack install with autopush, spack buildcache push/create, or eic-build buildcache sign), and runtime stages never mount it: every extra step holding the key is one more place it can leak from.',
  },
  {
    id: 'signing-gnupghome-tmpfs',
    title: 'Signing steps use a tmpfs SPACK_GNUPGHOME',
    severity: 'error',
    docs: 'A step that mounts the signing key exports SPACK_GNUPGHOME as a not-yet-existing subdirectory of a --mount=type=tmpfs target of the same step. Spack reads only SPACK_GNUPGHOME (else $SPACK_ROOT/opt/spack/gpg, which is in the image).',
  },
  {
    id: 'spack-gnupghome-only',
    title: 'No plain GNUPGHOME, no persistent GnuPG home',
    severity: 'error',
    docs: 'Spack ignores GNUPGHOME, so a key imported there is not used for signing and stays wherever it went. ENV or ARG setting SPACK_GNUPGHOME or GNUPGHOME makes the home outlive the step: set it with export inside the signing step only.',
  },
  {
    id: 'signing-single-secret-key',
    title: 'Signing steps assert exactly one secret key',
    severity: 'error',
    docs: 'autopush cannot take --key, so Spack needs exactly one secret key in SPACK_GNUPGHOME. The step counts the secret keys (gpg --list-secret-keys) after the import and fails otherwise.',
  },
  {
    id: 'signing-kills-agent',
    title: 'Signing steps stop the gpg-agent even on failure',
    severity: 'error',
    docs: 'The step installs `trap \'gpgconf --homedir "$SPACK_GNUPGHOME" --kill gpg-agent\' EXIT` before it imports the key, so the agent holding the unlocked key never survives the step, whether it succeeds or fails.',
  },
  {
    id: 'trust-public-only',
    title: 'spack gpg trust is only given the public key',
    severity: 'error',
    docs: '`spack gpg trust FILE` imports whatever FILE holds, secret keys included. It may only be given the public key file (the bind mount of the public key stage), never a secret mount.',
  },
  {
    id: 'no-secret-words-in-arg-env',
    title: 'ARG and ENV names avoid secret words',
    severity: 'error',
    docs: "BuildKit's SecretsUsedInArgOrEnv check flags ARG/ENV names containing key, token, secret, password, auth, credential(s), apikey, passwd or pword (as _-separated words); EIC builds with #check=error=true. Name the fingerprint build-arg e.g. SPACK_SIGNER_FINGERPRINT.",
  },
  {
    id: 'runtime-no-check-signature',
    title: 'Runtime stages never skip signature checks',
    severity: 'error',
    docs: 'No --no-check-signature (or --unsigned) in a runtime stage. Builder stages may keep it. Unsigned installs need the explicit transition mode, which warns.',
  },
  {
    id: 'runtime-verify-before-install',
    title: 'Runtime installs run after eic-build verified the buildcache',
    severity: 'error',
    docs: 'A runtime RUN step that runs `spack install` first runs `eic-build buildcache verify` in the same step (Spack never verifies OCI buildcaches). Outside transition mode a failed verification fails the step: no `||` fallback, no `if !`.',
  },
  {
    id: 'runtime-installs-verified-copy',
    title: 'Runtime installs read only the verified copies',
    severity: 'error',
    docs: "Outside transition mode, each `eic-build buildcache verify` in a runtime step writes `--copy-to <verified root>/mirrors/NAME`, the step writes a scope whose `mirrors::` lists only the copies, asks Spack which mirrors it would read with that scope (`spack -C <scope> --env ENV config get mirrors`) and fails on any other, runs every `spack install` with `-C <verified root>/scope` and no other scope, and removes the copies after the last install. Without this, Spack reads the mirror again after verification and installs whatever a moved tag points at by then; and before Spack 1.0 an environment's own `mirrors:` override `-C` scopes.",
  },
  {
    id: 'runtime-after-builder',
    title: 'Runtime steps wait for the builder',
    severity: 'error',
    docs: 'When a builder stage runs spack install (autopush), its step ends by writing the stamp <builder done file> (after eic-build buildcache sign), a stage named <builder-done stage> is `FROM ${<builder stage arg>}` with a global `ARG <builder stage arg>=<that builder>`, and every runtime step that verifies or installs bind-mounts the stamp (--mount=type=bind,from=<builder-done stage>,source=<builder done file>,…). Without that edge BuildKit prunes the builder (the runtime takes nothing from it): no install, no autopush, no signing, and the runtime verifies whatever the registry already holds. `--build-arg <builder stage arg>=<builder-skipped stage>` builds a runtime alone.',
  },
  {
    id: 'public-key-input',
    title: 'The public key reaches the stage as a cache-invalidating input',
    severity: 'error',
    docs: 'Steps that trust or verify get the public key from the public key stage (bind mount or COPY --from), and the stage declares ARG <fingerprint arg> which the step compares with the key file, so a new key invalidates the cache and a mismatched file fails the build.',
  },
  {
    id: 'strict-shell',
    title: 'Shell steps stop on the first error',
    severity: 'error',
    docs: 'Every shell-form RUN starts with `set -eu -o pipefail` when the stage SHELL is bash, or at least `set -eu` with a POSIX sh, so a failing import or verification is never ignored.',
  },
  {
    id: 'registry-credentials-secret',
    title: 'Registry credentials are env secrets',
    severity: 'error',
    docs: 'Credential variables (CI_REGISTRY_USER, CI_REGISTRY_PASSWORD, GITHUB_REGISTRY_USER, GITHUB_REGISTRY_TOKEN and every access_pair variable of mirrors.yaml) never appear in ARG or ENV, and a step that uses one mounts the secret of the same id.',
  },
  {
    id: 'mirrors-secret-mount',
    title: 'mirrors.yaml is a secret mount',
    severity: 'error',
    docs: 'mirrors.yaml is never COPYed or ADDed; every step that runs spack install or a buildcache command mounts it as --mount=type=secret,id=<mirrors id>,target=…, as EIC does.',
  },
  {
    id: 'oci-autopush-signed-by-eic-build',
    title: 'OCI autopush steps sign with eic-build',
    severity: 'error',
    docs: 'Spack does not sign OCI buildcaches. A builder step that runs spack install while an OCI mirror has autopush: true also runs `eic-build buildcache sign` for that mirror in the same step, with the signing key mounted.',
  },
  {
    id: 'no-key-material-copy',
    title: 'No key material is copied into an image',
    severity: 'error',
    docs: 'COPY and ADD never take /run/secrets, private-keys-v1.d, secring, *.gpg, *.key or files named like a signing key: private key material in a layer is public to everyone who can pull the image.',
  },
] as const satisfies readonly LintRule[];

/** A rule's id. */
export type LintRuleId = (typeof LINT_RULES)[number]['id'];

/** One broken rule at one place. */
export interface LintFinding {
  rule: LintRuleId;
  severity: LintSeverity;
  line: number;
  message: string;
}
