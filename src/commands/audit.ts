import type { CliIo } from '../cli-io.js';
import { parseCommandArgs } from '../cli-args.js';
import { EicBuildError } from '../errors.js';
import { checkOutputPath, writeOutputFile } from '../io/output-file.js';
import { redact } from '../redact.js';
import { formatAuditReport } from '../audit/format-audit.js';
import { runAudit, type AuditReport } from '../audit/run-audit.js';
import { parseReportFormat } from '../scan/format-report.js';
import { validateAllowKeys } from '../scan/scan-target.js';
import { parseProgressRequest, progressForIo, startAuditProgress } from '../progress/index.js';
import { readPublicKeys } from './scan.js';

const HELP = `usage: eic-build audit docker://HOST/REPO [--tags GLOB]... [--public-key FILE]... [--allow-key IDENTITY]...
                     [--no-provenance] [--format text|json|sarif] [--output FILE] [--state DIR]
                     [--progress auto|tty|plain|quiet]

Which published tags ship private key material? Lists the tags of a repository (every page of
/tags/list), resolves each to its image manifests (every platform and attestation of an index),
and scans every distinct layer and config blob once, however many tags share it, streamed from the
registry (no Docker engine, nothing pulled). Reports per tag: clean, leaked (which keys, which
layers, visible or hidden by a later layer) or unreadable (why), and per leaked key the tags to
delete. What to do next: docs/incident.md.

REPOSITORY
  docker://HOST/REPO        HTTPS (plain HTTP for loopback hosts, as Docker does)
  docker+http://HOST/REPO   a plain-HTTP registry
  Login: CI_REGISTRY_USER/CI_REGISTRY_PASSWORD when CI_REGISTRY is HOST, GITHUB_REGISTRY_USER/
  GITHUB_REGISTRY_TOKEN for ghcr.io (or GITHUB_REGISTRY), else the docker config (docker login).

options
  --tags GLOB           only tags matching GLOB (* ? [..]); repeatable; default every tag
  --public-key FILE     an OpenPGP public key: findings say whether they are its secret half (repeatable)
  --allow-key IDENTITY  a key that is not a leak (as for eic-build scan; repeatable)
  --no-provenance       turn provenance triage off: every key is a finding. By default a key in a
                        file that dpkg, a Python RECORD or Spack's own tree records byte for byte
                        in the same image (or the same key elsewhere in it) is a note naming the
                        package, as eic-build scan says it (docs/scan.md); never the secret half
                        of a --public-key
  --format FORMAT       text (default), json or sarif
  --output FILE         write the report to FILE (atomically) instead of stdout
  --state DIR           keep each blob's facts in DIR (by blob digest, public keys, allow list and
                        detector version): an interrupted or repeated audit skips what is done
  --progress MODE       auto (default: a live line on a terminal, a line every 10 s otherwise),
                        tty, plain, or quiet; always on stderr
  -h, --help            this help

exit status
  0  every tag is clean
  1  some tag ships private key material (and every tag was read whole)
  2  some tag could not be read whole (each is named; its verdict cannot be trusted), or bad
     usage, or the tag list / --output / --state cannot be read or written
`;

/** `eic-build audit docker://HOST/REPO`: exit 0 all clean, 1 a leak, 2 a tag unreadable. */
export async function auditCommand(argv: string[], io: CliIo): Promise<number> {
  const { values, positionals } = parseCommandArgs('audit', argv, {
    tags: { type: 'string', multiple: true },
    'public-key': { type: 'string', multiple: true },
    'allow-key': { type: 'string', multiple: true },
    'no-provenance': { type: 'boolean' },
    format: { type: 'string', default: 'text' },
    output: { type: 'string' },
    state: { type: 'string' },
    progress: { type: 'string', default: 'auto' },
    help: { type: 'boolean', short: 'h' },
  });
  if (values.help) {
    io.out(HELP);
    return 0;
  }
  if (positionals.length !== 1) {
    throw new EicBuildError('usage', `eic-build audit takes exactly one repository (got ${positionals.length})`, {
      hint: 'e.g. eic-build audit docker://registry.example.org/eic/eic_xl --tags "nightly-*"',
    });
  }
  const format = parseReportFormat(String(values.format));
  const progressRequest = parseProgressRequest(String(values.progress));
  const allowKeys = validateAllowKeys((values['allow-key'] as string[] | undefined) ?? [], '--allow-key');
  const publicKeys = await readPublicKeys((values['public-key'] as string[] | undefined) ?? []);
  const output = values.output as string | undefined;
  if (output) await checkOutputPath(output);
  const state = values.state as string | undefined;
  if (state === '') throw new EicBuildError('usage', '--state needs a directory', { hint: 'pass --state DIR (created if missing)' });
  const auditing = startAuditProgress(progressForIo(io, progressRequest));
  let report: AuditReport;
  try {
    report = await runAudit(positionals[0]!, {
      tagGlobs: (values.tags as string[] | undefined) ?? [],
      publicKeys,
      allowKeys,
      ...(state ? { stateDir: state } : {}),
      provenance: values['no-provenance'] !== true,
      env: io.env,
      onProgress: auditing.onProgress,
    });
  } catch (error) {
    auditing.finish(false);
    throw error;
  }
  auditing.finish(true);
  const text = formatAuditReport(report, format);
  const exit = report.unreadable ? 2 : report.leaked ? 1 : 0;
  if (output) {
    await writeOutputFile(output, redact(text));
    const leaked = report.tags.filter((tag) => tag.status === 'leaked').length;
    const unreadable = report.tags.filter((tag) => tag.unreadable.length > 0).map((tag) => tag.tag);
    io.err(
      `audit of ${report.target}: ${leaked} tag(s) leaked, ${unreadable.length} unreadable${unreadable.length > 0 ? ` (${unreadable.join(', ')})` : ''}; report written to ${output}\n`,
    );
  } else {
    io.out(text);
  }
  return exit;
}
