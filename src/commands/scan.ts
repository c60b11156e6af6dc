import { readFile } from 'node:fs/promises';
import type { CliIo } from '../cli-io.js';
import { parseCommandArgs } from '../cli-args.js';
import { EicBuildError } from '../errors.js';
import { checkOutputPath, writeOutputFile } from '../io/output-file.js';
import { redact } from '../redact.js';
import { deriveKeyIdentity, type KeyIdentity } from '../pgp/key-identity.js';
import { formatReport, parseReportFormat } from '../scan/format-report.js';
import { scanTarget, validateAllowKeys } from '../scan/scan-target.js';
import { parseProgressRequest, progressForIo, startScanProgress } from '../progress/index.js';

const HELP = `usage: eic-build scan TARGET [--public-key FILE]... [--allow-key IDENTITY]... [--no-provenance] [--format text|json|sarif] [--output FILE]

Prove that no private key material is in an image: every layer blob (also files deleted or hidden
by later layers), archives inside layers, and the image config (Env, Labels, Cmd, Entrypoint,
OnBuild, build history) are scanned for OpenPGP secret keys, GnuPG agent key files, OpenSSH and
PEM private keys.

TARGET
  docker-archive:FILE   a docker save archive (legacy or Docker 25+ OCI layout inside)
  oci-archive:FILE      a tar of an OCI image layout
  oci:DIR               an OCI image layout directory
  docker-daemon:REF     an image in the local Docker engine (streamed, not buffered)
  docker://HOST/REPO:TAG, docker://HOST/REPO@sha256:…
                        an image in a registry, streamed (no Docker engine); docker+http:// for
                        a plain-HTTP registry. Login from CI_REGISTRY_*/GITHUB_REGISTRY_* or the
                        docker config
  Without a prefix the kind is detected: a directory is an OCI layout, a file an archive, and a
  reference like name:tag that is not a path is read from the Docker engine. Every platform
  manifest and attestation manifest of an image index is scanned.

options
  --public-key FILE     an OpenPGP public key (armored or binary); findings say whether they are
                        the secret half of it (repeatable)
  --allow-key IDENTITY  a key that is not a leak (e.g. a published test key): its private key is
                        reported as the note "allowed key (...): not a leak", not a finding,
                        unless it is also a --public-key. IDENTITY is a 40-hex keygrip, a 40/64-hex
                        OpenPGP fingerprint, SHA256:<base64> (ssh-keygen -l) or SPKI-SHA256:<base64>
                        (as a finding shows it). Repeatable.
  --no-provenance       turn provenance triage off: every key is a finding. By default a key in a
                        file that dpkg, a Python RECORD or Spack's own tree records byte for byte
                        in the same image (or the same key elsewhere in it) is a note naming the
                        package ("published test key of python3-twisted 22.4.0-4"), never when it
                        is the secret half of a --public-key. See docs/scan.md.
  --format FORMAT       text (default), json or sarif (SARIF 2.1.0)
  --output FILE         write the report to FILE (atomically) instead of stdout
  --progress MODE       auto (default: a bar on a terminal, else plain), tty, plain (a line on stderr
                        every 10 s, EIC_BUILD_PROGRESS_INTERVAL) or quiet; never on stdout
  -h, --help            this help

exit status
  0  no private key material found
  1  private key material found (a leak)
  2  the target could not be read whole (missing, truncated, corrupt, digest mismatch), bad usage,
     or the --output file cannot be written (checked before the scan)
`;

/** Read --public-key files (OpenPGP public keys) as key identities; errors name the file. */
export async function readPublicKeys(files: string[]): Promise<KeyIdentity[]> {
  const keys: KeyIdentity[] = [];
  for (const file of files) {
    let bytes: Buffer;
    try {
      bytes = await readFile(file);
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code;
      throw new EicBuildError(code === 'ENOENT' ? 'input-not-found' : 'input-unreadable', `--public-key ${file}: cannot read it (${code ?? String(error)})`, {
        hint: 'export the public key with: gpg --export --armor FINGERPRINT > key.asc',
      });
    }
    try {
      keys.push(deriveKeyIdentity(bytes));
    } catch (error) {
      throw new EicBuildError('key-invalid', `--public-key ${file}: not an OpenPGP key (${error instanceof Error ? error.message : String(error)})`, {
        hint: 'give an armored or binary OpenPGP public key, e.g. the output of gpg --export --armor FINGERPRINT.',
      });
    }
  }
  return keys;
}

/** `eic-build scan TARGET`: exit 0 clean, 1 leak, 2 unreadable (thrown as EicBuildError). */
export async function scanCommand(argv: string[], io: CliIo): Promise<number> {
  const { values, positionals } = parseCommandArgs('scan', argv, {
    'public-key': { type: 'string', multiple: true },
    'allow-key': { type: 'string', multiple: true },
    format: { type: 'string', default: 'text' },
    output: { type: 'string' },
    progress: { type: 'string', default: 'auto' },
    'no-provenance': { type: 'boolean' },
    help: { type: 'boolean', short: 'h' },
  });
  if (values.help) {
    io.out(HELP);
    return 0;
  }
  if (positionals.length !== 1) {
    throw new EicBuildError('usage', `eic-build scan takes exactly one TARGET (got ${positionals.length})`, {
      hint: "run 'eic-build scan --help' for the accepted targets.",
    });
  }
  const format = parseReportFormat(String(values.format));
  const allowKeys = validateAllowKeys(values['allow-key'] ?? [], '--allow-key');
  const publicKeys = await readPublicKeys(values['public-key'] ?? []);
  const output = values.output;
  // A report that cannot be written is known before a long scan, not after it.
  if (output) await checkOutputPath(output);
  const progress = progressForIo(io, parseProgressRequest(String(values.progress)));
  const scanning = startScanProgress(progress, `scanning ${positionals[0]!}`);
  const report = await scanTarget(positionals[0]!, { publicKeys, allowKeys, env: io.env, onProgress: scanning.onProgress, provenance: !values['no-provenance'] }).catch(
    (error: unknown) => {
      scanning.finish(false);
      throw error;
    },
  );
  scanning.finish(true);
  const text = formatReport(report, format);
  if (output) {
    await writeOutputFile(output, redact(text));
    io.err(`${report.leaked ? `LEAK: ${report.findings.length} finding(s)` : 'no private key material found'} in ${report.target}; report written to ${output}\n`);
  } else {
    io.out(text);
  }
  return report.leaked ? 1 : 0;
}
