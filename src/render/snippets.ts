import { formatVerifiedMirrorsScope } from '../buildcache/copy/copy-scope.js';
import { strictModeLine, type ShellKind, type SigningLayout } from './layout.js';
import type { MirrorCredentials, MirrorInfo } from './mirrors.js';

/** The access_pair as `eic-build buildcache` flags (variable NAMES; values stay in the environment). */
function credentialFlags(credentials: MirrorCredentials | undefined): string {
  if (!credentials) return '';
  const id = credentials.idVariable ? ` --id-variable ${credentials.idVariable}` : credentials.id ? ` --id ${credentials.id}` : '';
  return `${id} --secret-variable ${credentials.secretVariable}`;
}

/** A word for a POSIX shell, single-quoted. */
function shellQuote(value: string): string {
  return `'${value.replace(/'/g, `'\\''`)}'`;
}

/** The directory of one mirror's verified copy (mirror names are letters, digits, `_`, `.`, `-`: checked in mirrors.ts). */
export function verifiedCopyDir(layout: SigningLayout, mirror: Pick<MirrorInfo, 'name'>): string {
  return `${layout.verifiedRoot}/mirrors/${mirror.name}`;
}

/**
 * The check that Spack, as configured for the install, reads no mirror but the verified copies.
 * `-C` scopes override the environment's only since Spack 1.0 (before, an environment's own
 * `mirrors:` would merge over the copies' `mirrors::`), so the step asks Spack itself.
 */
export function verifiedMirrorsCheck(layout: SigningLayout, spackEnv: string): string[] {
  const effective = `${layout.verifiedRoot}/scope/effective-mirrors.yaml`;
  return [
    `spack -C ${layout.verifiedRoot}/scope --env ${shellQuote(spackEnv)} config get mirrors > ${effective}`,
    `if grep '://' ${effective} | grep -v 'file://${layout.verifiedRoot}/mirrors/'; then echo "eic-build: Spack would also read the mirror URLs above, which were not verified (an environment's own mirrors: override -C scopes before Spack 1.0): remove them from the environment" >&2; exit 1; fi`,
  ];
}

/** First line of the builder's stamp (the runtime log shows it). */
export const BUILDER_DONE_HEADER = '# eic-build: builder stage complete: spack install, autopush and signing succeeded';

/** Continuation between generated lines inside one RUN instruction. */
const NEXT_MOUNT = ' \\\n    ';
const NEXT_COMMAND = '; \\\n    ';

/** Inputs of the generated snippets. */
export interface SnippetInputs {
  layout: SigningLayout;
  shell: ShellKind;
  mirrors: MirrorInfo[];
  /** Secret ids of registry credentials, each also the environment variable name. */
  registrySecrets: string[];
  transition: boolean;
  /** What runtime steps verify: `--spack-lock PATH` (default), `--all`, or `--spec NAME-VERSION-HASH`…. */
  verifySelection: string;
  /** The Spack environment runtime steps install (SPACK_ENV, default /opt/spack-environment). */
  spackEnv: string;
}

/**
 * A valid verify selection (no shell metacharacters): `--spack-lock PATH` (the environment's
 * lockfile: exactly what the step installs), `--all`, or one or more `--spec <entry>`.
 */
export const VERIFY_SELECTION = /^(?:--spack-lock \/[A-Za-z0-9_.@+/-]+(?: --include-build-deps)?|--all|--spec [A-Za-z0-9_.@+-]+(?: --spec [A-Za-z0-9_.@+-]+)*)$/;

/** The default selection: the lockfile of the environment the runtime step installs. */
export function defaultVerifySelection(spackEnv: string | undefined): string {
  return `--spack-lock ${(spackEnv || '/opt/spack-environment').replace(/\/+$/, '')}/spack.lock`;
}

/**
 * The `EIC_BUILD_*` variables: the pieces of the RUN steps that must be exactly right (mounts,
 * GnuPG home, key import, agent shutdown, fingerprint check, buildcache sign/verify). Templates
 * compose them; the lint checks the result whatever the template did. Pure.
 */
export function generatedSnippets(inputs: SnippetInputs): Record<string, string> {
  const { layout } = inputs;
  const fingerprintCheck = [
    `mkdir -m 0700 ${layout.gnupgTmpfs}/check`,
    `signer_fpr="$(gpg --homedir ${layout.gnupgTmpfs}/check --batch --with-colons --show-keys ${layout.publicMountTarget} | awk -F: '$1 == "fpr" { print $10; exit }')"`,
    `if [ "$signer_fpr" != "$${layout.fingerprintArg}" ]; then echo "eic-build: the public key file has fingerprint $signer_fpr but build-arg ${layout.fingerprintArg} is '$${layout.fingerprintArg}'" >&2; exit 1; fi`,
  ];
  const trustPublic = [...fingerprintCheck, `spack gpg trust ${layout.publicMountTarget}`];
  const gpg = `gpg --homedir "$SPACK_GNUPGHOME" --batch`;
  const signingBegin = [
    `export SPACK_GNUPGHOME=${layout.spackGnupgHome}`,
    // The agent holds the unlocked key in memory and its sockets live in the tmpfs: stop it however the step ends.
    `trap 'gpgconf --homedir "$SPACK_GNUPGHOME" --kill gpg-agent >/dev/null 2>&1 || true' EXIT`,
    ...trustPublic,
    `${gpg} --quiet --import /run/secrets/${layout.signingSecretId}`,
    // Autopush cannot take --key: Spack needs exactly one secret key in its keyring.
    `secret_keys="$(${gpg} --with-colons --list-secret-keys | grep -c '^sec:' || true)"`,
    `if [ "$secret_keys" != 1 ]; then echo "eic-build: expected exactly one secret key in SPACK_GNUPGHOME, found $secret_keys" >&2; exit 1; fi`,
    `signing_fpr="$(${gpg} --with-colons --list-secret-keys | awk -F: '$1 == "fpr" { print $10; exit }')"`,
    `if [ "$signing_fpr" != "$${layout.fingerprintArg}" ]; then echo "eic-build: the signing key $signing_fpr is not the key whose public half runtimes trust ($${layout.fingerprintArg})" >&2; exit 1; fi`,
  ];
  const registryMounts = inputs.registrySecrets.map((id) => `--mount=type=secret,id=${id}`);
  const registryEnv = inputs.registrySecrets.map((id) => `if [ -f /run/secrets/${id} ]; then ${id}="$(cat /run/secrets/${id})"; export ${id}; fi`);
  const tool = `${layout.toolCommand}`;
  const signable = inputs.mirrors.filter((mirror) => mirror.kind === 'oci' && mirror.autopush);
  // What was signed, kept in the step's tmpfs until the stamp is written (the list is public data).
  // A redirect, not `| tee`: a POSIX sh has no pipefail, and a pipe would hide a failed signature.
  const signedList = `${layout.gnupgTmpfs}/signed-entries`;
  const sign = signable.map(
    (mirror) =>
      `${tool} buildcache sign ${shellQuote(mirror.pushUrl)}${credentialFlags(mirror.pushCredentials)} --signing-key /run/secrets/${layout.signingSecretId} --unsigned-only >> ${signedList}`,
  );
  const stampDir = layout.builderDoneFile.replace(/\/[^/]+$/, '');
  // The builder's last command: reached only when install, autopush and every signature succeeded
  // (a failed step commits no layer, so no stamp exists without them).
  const builderDone = [
    `mkdir -p ${stampDir}`,
    `{ printf '%s\\n' ${shellQuote(BUILDER_DONE_HEADER)}; ${sign.length > 0 ? `cat ${signedList}` : `echo ${shellQuote('no OCI autopush mirror to sign (Spack signs what it pushes to file mirrors)')}`}; } > ${layout.builderDoneFile}`,
    `cat ${layout.builderDoneFile}`,
  ];
  const builderSkipped = [
    `mkdir -p ${stampDir}`,
    `printf '%s\\n' ${shellQuote(`# eic-build: builder stage not run in this build (--build-arg ${layout.builderStageArg}=${layout.builderSkippedStage}): the runtime verifies what the buildcache already holds`)} > ${layout.builderDoneFile}`,
  ];
  const verifiable = inputs.mirrors.filter((mirror) => mirror.binary);
  const verifyCommand = (mirror: MirrorInfo) =>
    `${tool} buildcache verify ${shellQuote(mirror.url)}${mirror.kind === 'oci' ? credentialFlags(mirror.fetchCredentials) : ''} --public-key ${layout.publicMountTarget} ${inputs.verifySelection}`;
  // Strict mode: Spack installs only from local copies of what verified (an OCI copy is unsigned:
  // eic-build checked it; a file/http copy keeps Spack's own signatures), so a tag moved or a file
  // swapped after verification is never installed. Transition mode installs from the mirrors.
  const scopeDir = `${layout.verifiedRoot}/scope`;
  const verify = inputs.transition
    ? verifiable.map(
        (mirror) =>
          `if ! ${verifyCommand(mirror)}; then echo "eic-build: WARNING: transition mode: mirror ${mirror.name} has entries that did not verify; installing anyway" >&2; fi`,
      )
    : verifiable.length === 0
      ? []
      : [
          `rm -rf ${layout.verifiedRoot}`,
          // verify --copy-to creates each copy's directory, but only inside an existing parent.
          `mkdir -p -m 0700 ${scopeDir} ${layout.verifiedRoot}/mirrors`,
          ...verifiable.map((mirror) => `${verifyCommand(mirror)} --copy-to ${verifiedCopyDir(layout, mirror)}`),
          `printf '%s\\n' ${formatVerifiedMirrorsScope(verifiable.map((mirror) => ({ name: mirror.name, dir: verifiedCopyDir(layout, mirror), signed: mirror.kind !== 'oci' })))
            .trimEnd()
            .split('\n')
            .map(shellQuote)
            .join(' ')} > ${scopeDir}/mirrors.yaml`,
          ...verifiedMirrorsCheck(layout, inputs.spackEnv),
        ];
  const useCopies = !inputs.transition && verifiable.length > 0;
  const orNoop = (lines: string[], what: string) => (lines.length === 0 ? `: no ${what}` : lines.join(NEXT_COMMAND));
  return {
    EIC_BUILD_STRICT: strictModeLine(inputs.shell),
    EIC_BUILD_PUBLIC_MOUNT: `--mount=type=bind,from=${layout.publicStage},source=${layout.publicFileInStage},target=${layout.publicMountTarget}`,
    EIC_BUILD_GNUPG_TMPFS: `--mount=type=tmpfs,target=${layout.gnupgTmpfs}`,
    EIC_BUILD_SIGNING_MOUNT: `--mount=type=secret,id=${layout.signingSecretId},required=true`,
    EIC_BUILD_MIRRORS_MOUNT: `--mount=type=secret,id=${layout.mirrorsSecretId},target=${layout.mirrorsTarget},required=true`,
    EIC_BUILD_TOOL_MOUNT: `--mount=type=bind,from=${layout.toolStage},target=${layout.toolMountTarget}`,
    // Empty when no mirror names a credential variable: the template line becomes a blank continuation.
    EIC_BUILD_REGISTRY_MOUNTS: registryMounts.join(NEXT_MOUNT),
    EIC_BUILD_REGISTRY_ENV: orNoop(registryEnv, 'registry credentials'),
    EIC_BUILD_TRUST_PUBLIC: trustPublic.join(NEXT_COMMAND),
    EIC_BUILD_SIGNING_BEGIN: signingBegin.join(NEXT_COMMAND),
    EIC_BUILD_SIGN_BUILDCACHES: orNoop(sign, 'OCI autopush mirror to sign'),
    EIC_BUILD_VERIFY_BUILDCACHES: orNoop(verify, 'binary mirror to verify'),
    // `spack ${EIC_BUILD_VERIFIED_SCOPE} … install`: the copies' scope overrides every other mirror (`mirrors::`).
    EIC_BUILD_VERIFIED_SCOPE: useCopies ? `-C ${scopeDir}` : '',
    // After the install: the copies must not reach the layer (a failed step commits no layer at all).
    EIC_BUILD_VERIFIED_CLEANUP: useCopies ? `rm -rf ${layout.verifiedRoot}` : ': no verified copies to remove',
    EIC_BUILD_PUBLIC_CONTEXT_PATH: layout.publicContextPath,
    EIC_BUILD_PUBLIC_STAGE: layout.publicStage,
    EIC_BUILD_PUBLIC_FILE: layout.publicFileInStage,
    EIC_BUILD_TOOL_STAGE: layout.toolStage,
    EIC_BUILD_FINGERPRINT_ARG: layout.fingerprintArg,
    EIC_BUILD_BUILDER_STAGE_ARG: layout.builderStageArg,
    EIC_BUILD_BUILDER_DONE_STAGE: layout.builderDoneStage,
    EIC_BUILD_BUILDER_SKIPPED_STAGE: layout.builderSkippedStage,
    EIC_BUILD_BUILDER_DONE: builderDone.join(NEXT_COMMAND),
    EIC_BUILD_BUILDER_SKIPPED: builderSkipped.join(NEXT_COMMAND),
    // Runtime steps: the builder's stamp, bind-mounted (never copied), and shown in the build log.
    EIC_BUILD_BUILDER_DONE_MOUNT: `--mount=type=bind,from=${layout.builderDoneStage},source=${layout.builderDoneFile},target=${layout.builderDoneMountTarget}`,
    EIC_BUILD_BUILDER_DONE_REPORT: `sed 's/^/eic-build: builder stamp: /' ${layout.builderDoneMountTarget}`,
  };
}
