import type { CliIo } from '../cli-io.js';
import { parseCommandArgs, type ParsedArgs } from '../cli-args.js';
import { EicBuildError } from '../errors.js';
import { resolveRegistryCredentials, type AccessPair, type Credentials } from '../registry/auth.js';
import { RegistryClient } from '../registry/client.js';
import { directoryMirrorFiles, httpMirrorFiles } from '../buildcache/mirror-files.js';
import { parseMirrorUrl, type MirrorLocation } from '../mirror-url.js';
import { formatVerifyJson, formatVerifyText, verifyExitCode, type VerifyReport } from '../buildcache/report.js';
import { signFileMirror } from '../buildcache/sign/sign-file.js';
import { signOciMirror } from '../buildcache/sign/sign-oci.js';
import { formatSignJson, formatSignText } from '../buildcache/sign/sign-report.js';
import { loadSigningKey } from '../buildcache/sign/signing-key.js';
import { readTrustedKeys } from '../buildcache/trust.js';
import { verifyFileMirror } from '../buildcache/verify/verify-file.js';
import { verifyOciMirror } from '../buildcache/verify/verify-oci.js';
import { verifyFileMirrorToCopy, verifyOciMirrorToCopy } from '../buildcache/copy/copy-mirror.js';
import { formatVerifyCopyJson, formatVerifyCopyText, type VerifyCopyOutcome } from '../buildcache/copy/copy-report.js';
import { mirrorFileOpener } from '../buildcache/copy/copy-source.js';
import { checkCopyTarget, openCopyTarget } from '../buildcache/copy/copy-target.js';
import { readSpackLockSelection, type SpackLockSelection } from '../buildcache/spack-lock.js';
import { parseProgressRequest, progressForIo, type ProgressReporter } from '../progress/index.js';

const USAGE = `usage: eic-build buildcache verify MIRROR [--public-key FILE]... [--spec NAME-VERSION-HASH... | --all | --spack-lock FILE [--include-build-deps]]
                                   [--format text|json] [--deep] [--copy-to DIR]
       eic-build buildcache sign MIRROR [--signing-key FILE] [--spec NAME-VERSION-HASH]... [--all | --unsigned-only] [--force] [--format text|json]

MIRROR is file:///path (or a path), http(s)://host/path (file layout), oci://HOST/REPO or oci+http://HOST/REPO.

verify   checks every selected entry against the pinned public keys (never the keys the mirror publishes):
         layout v3: clearsigned spec manifest + blob checksums; layout v2: .spec.json.sig + tarball checksum;
         OCI: an eic-build signature (containers/image simple signing) for the digest each *.spack tag points at.
         Statuses: verified, unsigned, bad-signature, untrusted-signer, checksum-mismatch, missing-blob, not-found,
         absent (--spack-lock only: not in this mirror, another mirror must provide it; not a failure).
         Exit 0 when all verified, 1 otherwise, 2 when the mirror cannot be read.
  --public-key FILE     a trusted armored public key (repeatable)
  --spec SPEC           NAME-VERSION-HASH or the hash (repeatable); default: every entry (--all)
  --spack-lock FILE     the entries of a Spack environment lockfile (spack.lock, lockfile version 4 or newer) that
                        spack install --use-buildcache only takes from a buildcache: the roots and their link/run
                        dependencies, not externals, not build-only dependencies. Those this mirror holds must
                        verify; those it does not are 'absent' (exit 0 when every present entry verified, even none).
                        Excludes --spec and --all.
  --include-build-deps  with --spack-lock: select build-only dependencies too (for spack install --include-build-deps)
  --format text|json    json lists each entry's manifest digest (and OCI reference) to pin installs to
  --deep                OCI: download every blob and check its digest (default: check it exists and its size)
  --concurrency N       OCI: parallel registry requests, 1 to 256 (default 16; verify runs twice as many entries at once)
  --copy-to DIR         also copy the entries that verified, exactly the bytes checked (hashed while copied, one pass),
                        into DIR as a local Spack mirror (file://DIR) to install from instead of MIRROR. DIR must not
                        exist (or be empty); it is created only when every requested entry verified (exit 0).
                        file/http sources keep their layout and clearsigned manifests: configure it with signed: true.
                        OCI sources become an UNSIGNED layout-v3 mirror: configure it with signed: false (it holds
                        only what eic-build just verified; the runtime has no key to sign it).
sign     oci: stores a detached-in-registry OpenPGP signature per *.spack manifest (tag sha256-<hex>.sig, OCI subject);
         file:// layout v3: clearsigns spec manifests in place as Spack does. Entries already signed by the key are skipped.
  --signing-key FILE    armored private key (default: the SPACK_SIGNING_KEY environment variable)
  --unsigned-only       sign only entries that carry no signature at all
  --force               replace an existing signature
--progress MODE         auto (default), tty, plain or quiet: progress of many entries on stderr (plain: a line every
                        10 s, EIC_BUILD_PROGRESS_INTERVAL); stdout keeps only the report
OCI credentials: --id-variable VAR (or --id NAME) with --secret-variable VAR, like Spack's access_pair; else the docker config.
`;

const OPTIONS = {
  help: { type: 'boolean', short: 'h' },
  'public-key': { type: 'string', multiple: true },
  'signing-key': { type: 'string' },
  spec: { type: 'string', multiple: true },
  all: { type: 'boolean' },
  'unsigned-only': { type: 'boolean' },
  force: { type: 'boolean' },
  deep: { type: 'boolean' },
  'copy-to': { type: 'string' },
  'spack-lock': { type: 'string' },
  'include-build-deps': { type: 'boolean' },
  format: { type: 'string' },
  id: { type: 'string' },
  'id-variable': { type: 'string' },
  'secret-variable': { type: 'string' },
  concurrency: { type: 'string' },
  progress: { type: 'string' },
} as const;

/** A progress task counting entries; `run` is the step, its task finishes however it ends. */
async function withEntryProgress<T>(progress: ProgressReporter, label: string, run: (onProgress: (done: number, total: number) => void) => Promise<T>): Promise<T> {
  const task = progress.start(label, { noun: 'entries' });
  try {
    return await run((done, total) => task.update(done, total));
  } finally {
    task.finish();
  }
}

async function registryClient(
  location: Extract<MirrorLocation, { kind: 'oci' }>,
  values: ParsedArgs<typeof OPTIONS>['values'],
  io: CliIo,
  concurrency: number,
): Promise<RegistryClient> {
  const secretVariable = values['secret-variable'];
  if ((values.id || values['id-variable']) && !secretVariable) {
    throw new EicBuildError('usage', '--id/--id-variable needs --secret-variable', { hint: 'name the variable holding the registry password or token' });
  }
  const accessPair: AccessPair | undefined = secretVariable
    ? { secretVariable, ...(values.id ? { id: values.id } : {}), ...(values['id-variable'] ? { idVariable: values['id-variable'] } : {}) }
    : undefined;
  const credentials: Credentials | undefined = await resolveRegistryCredentials({
    registry: location.registry,
    ...(accessPair ? { accessPair } : {}),
    mirrorName: location.url,
    env: io.env,
  });
  return new RegistryClient({ registry: location.registry, insecure: location.insecure, concurrency, ...(credentials ? { credentials } : {}) });
}

/**
 * `verify --copy-to DIR`: verify and copy the verified entries, in one pass, into a new local mirror that is
 * published as DIR only when every requested entry verified (else DIR is left as it was).
 */
async function verifyWithCopy(
  location: MirrorLocation,
  mirror: string,
  copyTo: string,
  context: {
    values: Record<string, unknown>;
    io: CliIo;
    trusted: Awaited<ReturnType<typeof readTrustedKeys>>;
    specs: string[];
    lock: SpackLockSelection | undefined;
    concurrency: number;
    format: string;
    progress: ProgressReporter;
  },
): Promise<number> {
  const { values, io, trusted, specs, lock, concurrency, format, progress } = context;
  if (copyTo === '') throw new EicBuildError('usage', '--copy-to needs a directory', { hint: 'pass --copy-to DIR, a directory that does not exist yet (or an empty one)' });
  // Refuse an unusable DIR before any request is made.
  await checkCopyTarget(copyTo);
  const client = location.kind === 'oci' ? await registryClient(location, values, io, concurrency) : undefined;
  const target = await openCopyTarget(copyTo);
  let outcome: VerifyCopyOutcome;
  try {
    const verifying = progress.start(`verifying ${mirror}`, { noun: 'entries' });
    const copying = { task: undefined as ReturnType<ProgressReporter['start']> | undefined };
    const onProgress = (done: number, total: number) => verifying.update(done, total);
    const onCopyProgress = (done: number, total: number) => {
      if (!copying.task) {
        verifying.finish();
        copying.task = progress.start(`copying verified entries to ${copyTo}`, { noun: 'entries' });
      }
      copying.task.update(done, total);
    };
    try {
      if (location.kind === 'oci') {
        outcome = await verifyOciMirrorToCopy(
          client!,
          { mirror, repository: location.repository, trusted, specs, ...(lock ? { lock } : {}), concurrency: concurrency * 2, deep: Boolean(values.deep), onProgress },
          target,
          onCopyProgress,
        );
      } else {
        const files = location.kind === 'file' ? directoryMirrorFiles(location.root) : httpMirrorFiles(location.base);
        outcome = await verifyFileMirrorToCopy(files, mirrorFileOpener(location), { mirror, trusted, specs, ...(lock ? { lock } : {}), onProgress }, target, onCopyProgress);
      }
    } finally {
      verifying.finish();
      copying.task?.finish();
    }
  } finally {
    await target.discard();
  }
  io.out(format === 'json' ? formatVerifyCopyJson(outcome) : formatVerifyCopyText(outcome));
  return verifyExitCode(outcome.report) === 0 && outcome.copy.kind === 'written' ? 0 : 1;
}

/** `eic-build buildcache verify|sign`. */
export async function buildcacheCommand(argv: string[], io: CliIo): Promise<number> {
  const [sub, ...rest] = argv;
  if (!sub || sub === '--help' || sub === '-h') {
    (sub ? io.out : io.err)(USAGE);
    return sub ? 0 : 2;
  }
  if (sub !== 'verify' && sub !== 'sign') {
    throw new EicBuildError('usage', `eic-build buildcache: unknown subcommand '${sub}'`, { hint: "use 'eic-build buildcache verify' or 'eic-build buildcache sign'" });
  }
  const { values, positionals } = parseCommandArgs(`buildcache ${sub}`, rest, OPTIONS);
  if (values.help) {
    io.out(USAGE);
    return 0;
  }
  if (positionals.length !== 1) {
    throw new EicBuildError('usage', `eic-build buildcache ${sub} takes exactly one MIRROR, got ${positionals.length}`, { hint: `run 'eic-build buildcache --help'` });
  }
  const format = values.format ?? 'text';
  if (format !== 'text' && format !== 'json') throw new EicBuildError('usage', `--format must be text or json, not '${format}'`, { hint: 'pass --format text or --format json' });
  const specs = values.spec ?? [];
  if (values.all && specs.length > 0) throw new EicBuildError('usage', '--all and --spec exclude each other', { hint: 'pass either --all or one or more --spec' });
  const spackLock = values['spack-lock'];
  if (spackLock !== undefined && (values.all || specs.length > 0)) {
    throw new EicBuildError('usage', `--spack-lock excludes ${values.all ? '--all' : '--spec'}: it selects the lockfile's entries itself`, {
      hint: 'pass either --spack-lock FILE, or --spec NAME-VERSION-HASH (repeatable), or --all',
    });
  }
  if (spackLock === '') throw new EicBuildError('usage', '--spack-lock needs a file', { hint: "pass --spack-lock PATH/spack.lock, the environment's lockfile" });
  if (values['include-build-deps'] && spackLock === undefined) {
    throw new EicBuildError('usage', '--include-build-deps needs --spack-lock', { hint: 'it selects the build-only dependencies of a lockfile too' });
  }
  const concurrency = values.concurrency === undefined ? 16 : Number(values.concurrency);
  if (!Number.isInteger(concurrency) || concurrency < 1 || concurrency > 256) {
    throw new EicBuildError('usage', `--concurrency must be an integer from 1 to 256, not '${String(values.concurrency)}'`, { hint: 'the default is 16' });
  }
  const mirror = positionals[0]!;
  const location = parseMirrorUrl(mirror);
  // Progress lines go to stderr: stdout carries the report (text or JSON).
  const progress = progressForIo(io, parseProgressRequest(String(values.progress ?? 'auto')));

  if (sub === 'verify') {
    if (values['signing-key'] || values['unsigned-only'] || values.force) {
      throw new EicBuildError('usage', '--signing-key, --unsigned-only and --force belong to buildcache sign', { hint: 'verify takes --public-key FILE' });
    }
    // The lockfile is read first: a missing or broken one fails before any key is read or request made.
    const lock = spackLock === undefined ? undefined : await readSpackLockSelection(spackLock, { includeBuildDeps: Boolean(values['include-build-deps']) });
    const publicKeys = values['public-key'] ?? [];
    const trusted = await readTrustedKeys(publicKeys);
    if (trusted.length === 0) io.err('warning: no --public-key given: no entry can verify; pass the pinned public key\n');
    const copyTo = values['copy-to'];
    if (copyTo !== undefined) return verifyWithCopy(location, mirror, copyTo, { values, io, trusted, specs, lock, concurrency, format, progress });
    let report: VerifyReport;
    if (location.kind === 'oci') {
      const client = await registryClient(location, values, io, concurrency);
      report = await withEntryProgress(progress, `verifying ${mirror}`, (onProgress) =>
        verifyOciMirror(client, {
          mirror,
          repository: location.repository,
          trusted,
          specs,
          ...(lock ? { lock } : {}),
          concurrency: concurrency * 2,
          deep: Boolean(values.deep),
          onProgress,
        }),
      );
    } else {
      const files = location.kind === 'file' ? directoryMirrorFiles(location.root) : httpMirrorFiles(location.base);
      report = await withEntryProgress(progress, `verifying ${mirror}`, (onProgress) => verifyFileMirror(files, { mirror, trusted, specs, ...(lock ? { lock } : {}), onProgress }));
    }
    io.out(format === 'json' ? formatVerifyJson(report) : formatVerifyText(report));
    return verifyExitCode(report);
  }

  if (values['public-key'] || values.deep || values['copy-to'] !== undefined || spackLock !== undefined) {
    throw new EicBuildError('usage', '--public-key, --deep, --copy-to and --spack-lock belong to buildcache verify', { hint: 'sign takes --signing-key FILE' });
  }
  if (values.all && values['unsigned-only']) throw new EicBuildError('usage', '--all and --unsigned-only exclude each other', { hint: 'pass one of them' });
  const signingKey = await loadSigningKey({ ...(values['signing-key'] ? { file: values['signing-key'] } : {}), env: io.env, warn: (message) => io.err(`${message}\n`) });
  const common = { signingKey, specs, unsignedOnly: Boolean(values['unsigned-only']), force: Boolean(values.force) };
  let outcomes;
  if (location.kind === 'oci') {
    const client = await registryClient(location, values, io, concurrency);
    outcomes = await withEntryProgress(progress, `signing ${mirror}`, (onProgress) =>
      signOciMirror(client, { ...common, repository: location.repository, concurrency, onProgress }),
    );
  } else if (location.kind === 'file') {
    outcomes = await withEntryProgress(progress, `signing ${mirror}`, (onProgress) => signFileMirror(directoryMirrorFiles(location.root), { ...common, onProgress }));
  } else {
    throw new EicBuildError('usage', `cannot sign ${mirror}: an http(s) mirror is read-only`, { hint: 'sign the directory the server publishes (file:///…), then sync it' });
  }
  io.out(format === 'json' ? formatSignJson(mirror, signingKey.fingerprint, outcomes) : formatSignText(mirror, signingKey.fingerprint, outcomes));
  return outcomes.some((o) => o.kind === 'failed') ? 1 : 0;
}
