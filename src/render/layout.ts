/**
 * The fixed names the generated Dockerfile, the lint and `eic-build build` agree on. Changing one
 * here changes all three; nothing else spells them.
 */
export interface SigningLayout {
  /** BuildKit secret id of the Spack signing key (`--secret id=…`). */
  signingSecretId: string;
  /** BuildKit secret id of the rendered mirrors.yaml. */
  mirrorsSecretId: string;
  /** Where the mirrors.yaml secret is mounted in RUN steps. */
  mirrorsTarget: string;
  /** Stage that carries only the public key (FROM scratch + COPY of the context file). */
  publicStage: string;
  /** The public key's path inside that stage. */
  publicFileInStage: string;
  /** Where RUN steps see the public key (bind mount from the public stage). */
  publicMountTarget: string;
  /** Path of the public key file inside the build context (what `eic-build build` must place there). */
  publicContextPath: string;
  /** Build-arg carrying the public key's fingerprint (no key/token/secret words: SecretsUsedInArgOrEnv). */
  fingerprintArg: string;
  /** tmpfs mount of signing steps; SPACK_GNUPGHOME is a not-yet-existing subdirectory of it. */
  gnupgTmpfs: string;
  /** SPACK_GNUPGHOME in signing steps. */
  spackGnupgHome: string;
  /** Stage name of the eic-build tool image (Dockerfile.frontend), bind-mounted into steps. */
  toolStage: string;
  /** Where the eic-build image's root is mounted in RUN steps. */
  toolMountTarget: string;
  /** How the mounted eic-build is run (path inside the mount). */
  toolCommand: string;
  /**
   * Runtime steps: where `buildcache verify --copy-to` writes the verified copies, and the Spack
   * config scope (`<root>/scope`) that makes `spack install` read only them. On disk, not tmpfs
   * (a buildcache can be larger than memory); removed by the step after the install.
   */
  verifiedRoot: string;
  /**
   * The runtime's edge to the builder: the stage runtime steps bind-mount the builder's stamp from.
   * It is `FROM ${builderStageArg}`, a global ARG whose default names the builder stage, so BuildKit
   * runs the builder (install, autopush, sign) before any runtime step that reads the stamp.
   */
  builderDoneStage: string;
  /** Stage that writes a stamp saying the builder did not run (split pipelines: `--target runtime`). */
  builderSkippedStage: string;
  /** The global build-arg that picks the stage `builderDoneStage` is made from (builder or builder-skipped). */
  builderStageArg: string;
  /** Where the builder's last command writes the stamp (the list of signed entries), in the builder's image. */
  builderDoneFile: string;
  /** Where runtime steps see the stamp (bind mount: no byte of the builder reaches a runtime layer). */
  builderDoneMountTarget: string;
}

/** The layout of the bundled templates. */
export const DEFAULT_LAYOUT: SigningLayout = {
  signingSecretId: 'spack-signing-key',
  mirrorsSecretId: 'mirrors',
  mirrorsTarget: '/opt/spack/etc/spack/mirrors.yaml',
  publicStage: 'spack-signer-public',
  publicFileInStage: '/spack-signer-public.asc',
  publicMountTarget: '/run/eic-build/spack-signer-public.asc',
  publicContextPath: '.eic-build/spack-signer-public.asc',
  fingerprintArg: 'SPACK_SIGNER_FINGERPRINT',
  gnupgTmpfs: '/run/eic-build-gnupg',
  spackGnupgHome: '/run/eic-build-gnupg/spack',
  toolStage: 'eic-build',
  toolMountTarget: '/opt/eic-build',
  toolCommand: '/opt/eic-build/usr/local/bin/eic-build',
  verifiedRoot: '/var/tmp/eic-build-verified',
  builderDoneStage: 'builder-done',
  builderSkippedStage: 'builder-skipped',
  builderStageArg: 'EIC_BUILD_BUILDER_STAGE',
  builderDoneFile: '/var/lib/eic-build/builder-done',
  builderDoneMountTarget: '/run/eic-build/builder-done',
};

/** Registry credential secrets EIC passes to every build (as env secrets). */
export const EIC_REGISTRY_SECRETS = ['CI_REGISTRY_USER', 'CI_REGISTRY_PASSWORD', 'GITHUB_REGISTRY_USER', 'GITHUB_REGISTRY_TOKEN'] as const;

/** The shell the generated steps target: bash gets pipefail, posix sh gets the subset it has. */
export type ShellKind = 'bash' | 'posix';

/** The strict-mode prologue of every generated step. */
export function strictModeLine(shell: ShellKind): string {
  return shell === 'bash' ? 'set -eu -o pipefail' : 'set -eu';
}
