import type { CliIo } from '../cli-io.js';
import { parseCommandArgs, type Options } from '../cli-args.js';
import { AllowKeyError, parseAllowKeys } from '../detectors/index.js';
import { EicBuildError } from '../errors.js';
import type { BuildOptions, Destination } from '../build/build-options.js';
import { defaultPipelineDeps } from '../build/default-deps.js';
import {
  parseBuildArg,
  parseBuildContextSpec,
  parseCacheSpec,
  parseNetworkMode,
  parseOutputSpec,
  parsePlatforms,
  parseProgressMode,
  parseProvenanceSpec,
  parseSecretSpec,
} from '../build/flags.js';
import { runBuildPipeline, type PipelineDeps } from '../build/pipeline.js';
import { formatSummary, summaryJson } from '../build/summary.js';

/** The flags `eic-build build` accepts (buildx spellings). */
export const BUILD_FLAGS = {
  config: { type: 'string' },
  file: { type: 'string', short: 'f' },
  target: { type: 'string' },
  platform: { type: 'string', multiple: true },
  tag: { type: 'string', short: 't', multiple: true },
  'build-arg': { type: 'string', multiple: true },
  'build-context': { type: 'string', multiple: true },
  secret: { type: 'string', multiple: true },
  'cache-from': { type: 'string', multiple: true },
  'cache-to': { type: 'string', multiple: true },
  'signing-key': { type: 'string' },
  'ephemeral-key': { type: 'boolean' },
  strict: { type: 'boolean' },
  'allow-inherited-keys': { type: 'boolean' },
  'allow-key': { type: 'string', multiple: true },
  'no-provenance': { type: 'boolean' },
  // Removed: every finding blocks now. Still parsed, so its use gets an explanation instead of 'unknown option'.
  'strict-scan': { type: 'boolean' },
  push: { type: 'boolean' },
  load: { type: 'boolean' },
  output: { type: 'string', short: 'o', multiple: true },
  builder: { type: 'string' },
  'metadata-file': { type: 'string' },
  provenance: { type: 'string' },
  progress: { type: 'string' },
  'no-cache': { type: 'boolean' },
  network: { type: 'string' },
  docker: { type: 'string' },
  var: { type: 'string', multiple: true },
  help: { type: 'boolean', short: 'h' },
} as const satisfies Options;

/** Validate `--allow-key` values as the scanner will read them; a malformed one is a usage error naming it. */
export function parseAllowKeyFlags(values: string[]): string[] {
  try {
    parseAllowKeys(values);
    // As given: scanTarget normalizes them itself.
    return values;
  } catch (error) {
    if (!(error instanceof AllowKeyError)) throw error;
    throw new EicBuildError('usage', `--allow-key: ${error.message}`, {
      hint: 'copy the identity from the finding in the scan report (fingerprints/keygrips), from gpg --with-keygrip -k, or from ssh-keygen -l -f KEY.pub.',
    });
  }
}

/** Parse `eic-build build` argv into typed options; every conflict is a usage error naming the flags. */
export function parseBuildOptions(argv: string[]): BuildOptions & { help: boolean } {
  const { values, positionals } = parseCommandArgs('build', argv, BUILD_FLAGS);
  if (positionals.length > 1) {
    throw new EicBuildError('usage', `eic-build build takes one CONTEXT, got ${positionals.length}: ${positionals.join(' ')}`, {
      hint: 'put flags before or after the context directory; quote paths with spaces.',
    });
  }
  const outputs = (values.output ?? []).map(parseOutputSpec);
  const chosen = [values.push ? '--push' : undefined, values.load ? '--load' : undefined, outputs.length ? '--output' : undefined].filter(Boolean);
  if (chosen.length > 1) {
    throw new EicBuildError('usage', `${chosen.join(', ')} are mutually exclusive`, { hint: 'choose one destination: --push, --load or --output.' });
  }
  if (outputs.length > 1) throw new EicBuildError('usage', 'only one --output is supported', { hint: 'build twice for two destinations.' });
  let destination: Destination = { kind: 'load' };
  if (values.push) destination = { kind: 'push' };
  else if (outputs[0]) {
    const spec = outputs[0];
    // Normalise buildx's aliases so the pipeline sees one spelling per intent.
    if (spec.type === 'registry' || (spec.type === 'image' && spec.attrs.some(([k, v]) => k === 'push' && v === 'true'))) destination = { kind: 'push' };
    else if (spec.type === 'docker' && !spec.attrs.some(([k]) => k === 'dest')) destination = { kind: 'load' };
    else destination = { kind: 'output', spec };
  }
  if (values['signing-key'] !== undefined && values['ephemeral-key']) {
    throw new EicBuildError('usage', '--signing-key and --ephemeral-key are mutually exclusive', {
      hint: 'give a key file for production builds, or --ephemeral-key for a throw-away local key.',
    });
  }
  if (values['strict-scan']) {
    throw new EicBuildError('usage', '--strict-scan is gone: every scan finding blocks the build by default now', {
      hint: 'drop --strict-scan. To let keys already in the base image through with a warning, use --allow-inherited-keys; to accept one known key, --allow-key IDENTITY.',
    });
  }
  const tags = values.tag ?? [];
  if (destination.kind === 'push' && tags.length === 0) {
    throw new EicBuildError('usage', '--push needs at least one --tag', { hint: 'add --tag REGISTRY/REPOSITORY:TAG.' });
  }
  const secrets = (values.secret ?? []).map(parseSecretSpec);
  const ids = new Set<string>();
  for (const s of secrets) {
    if (ids.has(s.id)) throw new EicBuildError('usage', `--secret id '${s.id}' given twice`, { hint: 'each secret id may appear once.' });
    ids.add(s.id);
  }
  return {
    help: Boolean(values.help),
    context: positionals[0] ?? '.',
    config: values.config,
    file: values.file,
    target: values.target,
    platforms: parsePlatforms(values.platform ?? []),
    tags,
    buildArgs: (values['build-arg'] ?? []).map(parseBuildArg),
    buildContexts: (values['build-context'] ?? []).map(parseBuildContextSpec),
    secrets,
    cacheFrom: (values['cache-from'] ?? []).map((v) => parseCacheSpec(v, 'cache-from')),
    cacheTo: (values['cache-to'] ?? []).map((v) => parseCacheSpec(v, 'cache-to')),
    signingKeyFile: values['signing-key'],
    ephemeralKey: Boolean(values['ephemeral-key']),
    strict: Boolean(values.strict),
    allowInheritedKeys: Boolean(values['allow-inherited-keys']),
    allowKeys: parseAllowKeyFlags(values['allow-key'] ?? []),
    keyProvenance: !values['no-provenance'],
    destination,
    destinationExplicit: chosen.length > 0,
    builder: values.builder,
    metadataFile: values['metadata-file'],
    provenance: values.provenance === undefined ? undefined : parseProvenanceSpec(values.provenance),
    progress: values.progress === undefined ? 'auto' : parseProgressMode(values.progress),
    noCache: Boolean(values['no-cache']),
    network: values.network === undefined ? undefined : parseNetworkMode(values.network),
    docker: values.docker,
    vars: Object.fromEntries(
      (values.var ?? []).map((v) => {
        const arg = parseBuildArg(v);
        if (arg.value === undefined) throw new EicBuildError('usage', `--var '${v}' has no value`, { hint: 'write --var NAME=VALUE.' });
        return [arg.name, arg.value];
      }),
    ),
  };
}

/** `eic-build build --help`. */
export const BUILD_HELP = `usage: eic-build build [CONTEXT] [options]

Resolve the signing key, render (or use your Dockerfile), build with BuildKit, scan every image that
would leave the machine for private key material, then load/push exactly the scanned image.

options (docker buildx spellings):
  --config FILE              project config (default: CONTEXT/eic-build.yaml if present)
  -f, --file FILE            Dockerfile to build instead of rendering templates
  --target STAGE             stage to build; rendered runtime stages are then built alone (the
                             builder is skipped); without --target builder and runtime both run
  --platform P[,P...]        target platforms (repeatable)
  -t, --tag REF              image reference (repeatable)
  --build-arg K=V            build argument (repeatable; never carries the signing key)
  --build-context NAME=SRC   named build context (PATH, docker-image://REF, oci-layout://PATH, target:STAGE)
  --secret SPEC              extra secret: id=ID,src=FILE or id=ID,env=VAR (repeatable)
  --cache-from SPEC          cache import, e.g. type=registry,ref=REF (repeatable)
  --cache-to SPEC            cache export, e.g. type=registry,ref=REF,mode=max (scanned first)
  --signing-key FILE         armored secret key (default: $SPACK_SIGNING_KEY)
  --ephemeral-key            throw-away key held in memory (local builds)
  --strict                   key warnings (age, expiry, size) fail the build
  --allow-inherited-keys     private keys already in the base image's layers (not the signing key)
                             warn instead of failing; 'eic-build scan' of the result still reports
                             them (by default every finding fails the build, as 'eic-build scan' does)
  --allow-key IDENTITY       a key that is not a leak: keygrip, OpenPGP fingerprint, SHA256:... or
                             SPKI-SHA256:... as a finding shows it (repeatable; as 'scan --allow-key';
                             the signing key fails regardless)
  --no-provenance            scan without provenance triage: keys in files a package manager recorded
                             (published test/example keys) fail the build too (as 'scan --no-provenance';
                             not about --provenance attestations)
  --push | --load | -o SPEC  destination (mutually exclusive; default --load)
  --builder NAME             buildx builder instance
  --metadata-file FILE       write build metadata JSON (containerimage.digest, ...)
  --provenance MODE          mode=min or false (mode=max is refused: it records build-arg values)
  --progress MODE            auto, plain, tty, quiet, or json (machine-readable summary on stdout)
  --no-cache                 do not use the build cache
  --network MODE             networking of RUN steps: default, host or none; a mirror on this
                             machine's loopback (127.0.0.1) needs host
  --docker PATH              docker client binary to use (also $EIC_BUILD_DOCKER)
  --var NAME=VALUE           template variable for the renderer (repeatable; see docs/render.md)

exit codes: 0 built (and pushed), 1 leak found (nothing pushed), 2 usage/config, 3 build failed, 4 push failed
`;

/** `eic-build build`: resolve key, render, build with BuildKit, scan, then publish only what was scanned. */
export async function buildCommand(argv: string[], io: CliIo, deps?: PipelineDeps): Promise<number> {
  const options = parseBuildOptions(argv);
  if (options.help) {
    io.out(BUILD_HELP);
    return 0;
  }
  const resolved = deps ?? (await defaultPipelineDeps());
  const result = await runBuildPipeline(options, io, resolved);
  if (options.progress === 'json') {
    const json = summaryJson(result, (i) => JSON.parse(resolved.formatScan(result.scanned[i]!.report, 'json')) as unknown);
    io.out(`${JSON.stringify(json, null, 2)}\n`);
  } else {
    if (result.kind === 'leak') {
      // The report is the data of a failed build: on stdout, like `eic-build scan`.
      for (const s of result.scanned.filter((x) => x.report.leaked)) io.out(resolved.formatScan(s.report, 'text'));
    }
    io.err(formatSummary(result));
  }
  return result.kind === 'leak' ? 1 : 0;
}
