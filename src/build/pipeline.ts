import { randomBytes } from 'node:crypto';
import { spawnSync } from 'node:child_process';
import { cp, mkdir, mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import type { CliIo } from '../cli-io.js';
import type { ResolveSigningKeyOptions, SigningKey } from '../keys/index.js';
import { PASSPHRASE_VARIABLE, SIGNING_KEY_VARIABLE } from '../keys/key-checks.js';
import type { KeyIdentity } from '../pgp/key-identity.js';
import type { ScanReport } from '../scan/index.js';
import { ensureBaseImage } from '../docker/base-image.js';
import { connectDocker } from '../docker/endpoint.js';
import { EicBuildError } from '../errors.js';
import { releaseOnExit, removeOnExit, runOnExit } from '../exit-cleanup.js';
import { registerSecret } from '../redact.js';
import { DEFAULT_LAYOUT, EIC_REGISTRY_SECRETS, type SigningLayout } from '../render/layout.js';
import { writeTempSecretFile, type TempSecretFile } from '../keys/temp-secret-file.js';
import type { BuildOptions } from './build-options.js';
import { assertCapabilities, capabilitiesOf, effectiveProvenance, type Capabilities } from './capabilities.js';
import { assertContextHasNoKey } from './context-check.js';
import { externalBaseOf, parseDockerfileStages, parseGlobalArgs, targetStageIndex } from './dockerfile-stages.js';
import { attr } from './flags.js';
import {
  buildInvocation,
  buildMetadata,
  chooseScanRoute,
  decidePublish,
  effectiveProgress,
  planScans,
  secretEnvName,
  targetBuildArgs,
  type SplitTargets,
  type InvocationInput,
  type InvocationOutput,
  type ResolvedSecret,
  type ScanItem,
  type ScanRoute,
} from './plan.js';
import { probeBuildClient, type BuildClient, type ProbeResult } from './probe.js';
import { readBuildProjectConfig, type BuildProjectConfig } from './project-config.js';
import { pushFromEngine, pushOciLayout, type PushedTag } from './publish.js';
import { hintsForLog, killLiveClients, lastLines, runClient, type ProcessRunner, type StreamMode } from './run-client.js';
import { describeFindings, gateFindings, type GateResult } from './scan-gate.js';
import { engineLayerDigests, registryLayerDigests } from './base-layers.js';
import { parseScanTuning } from '../scan/scan-tuning.js';
import { assertMirrorsReachable, diagnoseBuildFailure, type MirrorEndpoint } from './build-failure.js';
import { checkOutputPath, writeOutputFile } from '../io/output-file.js';
import { progressForIo, startScanProgress, type ScanCounts } from '../progress/index.js';


/** The signing key as the pipeline needs it (src/keys SigningKey). */
export type PipelineKey = Pick<SigningKey, 'source' | 'armoredSecretKey' | 'armoredPublicKey' | 'fingerprint' | 'identity'>;

/** The scan report (src/scan ScanReport). */
export type PipelineScanReport = ScanReport;

/** A rendered project, as the renderer wrote it into the build context. */
export interface RenderedFiles {
  dockerfile: string;
  mirrorsFile: string | undefined;
  /** Warnings of the renderer (transition mode, …), printed before the build. */
  warnings?: string[];
  /** Build args the rendered Dockerfile needs (the fingerprint arg is added anyway). */
  buildArgs?: Record<string, string>;
  /** The mirrors the build steps reach (for the loopback check and failure messages). */
  mirrors?: MirrorEndpoint[];
  /** How a runtime stage is built alone (`--target RUNTIME`). */
  split?: SplitTargets;
}

/** The other layers the pipeline calls: the key layer, the scanner, the renderer. Injected so each is replaceable. */
export interface PipelineDeps {
  resolveKey(options: ResolveSigningKeyOptions): Promise<PipelineKey>;
  /**
   * Scan a target; `allowKeys` are `--allow-key` identities (as given, already validated). `env` and
   * `dockerClient` are the build's, so an engine image is read from the engine the build wrote it to.
   */
  scan(target: string, options: PipelineScanOptions): Promise<PipelineScanReport>;
  formatScan(report: PipelineScanReport, format: 'text' | 'json'): string;
  /** Runs the docker client (builds, tags, pushes, removals); runClient unless a test records the calls. */
  runProcess?: ProcessRunner;
  /** Render templates into `outDir` (inside the context); undefined when no renderer is available. */
  render?: (input: { configFile: string | undefined; configText: string | undefined; outDir: string; key: PipelineKey; env: NodeJS.ProcessEnv; layout: SigningLayout; vars: Record<string, string> }) => Promise<RenderedFiles>;
}

/** What the pipeline's scan needs besides the target. */
export interface PipelineScanOptions {
  publicKeys: KeyIdentity[];
  allowKeys: string[];
  env: NodeJS.ProcessEnv;
  dockerClient: string;
  /** Hears how far the scan is, for the progress bar. */
  onProgress?: (counts: ScanCounts) => void;
  /** false (`--no-provenance`): every key is a finding, however a package recorded it. */
  keyProvenance?: boolean;
}

/** One image that was scanned. */
export interface ScannedImage {
  item: ScanItem;
  report: PipelineScanReport;
  /** The publish gate's reading of the report. */
  gate: GateResult;
  /** The external base image whose layers count as inherited (undefined: none known). */
  baseImage: string | undefined;
  /** Image ID / config digest (single-platform images). */
  configDigest: string | undefined;
}

/** What the pipeline did: data; the command maps it to an exit code and output. */
export type PipelineResult =
  | { kind: 'leak'; scanned: ScannedImage[]; key: PipelineKey }
  | {
      kind: 'published';
      scanned: ScannedImage[];
      key: PipelineKey;
      client: BuildClient;
      destination: BuildOptions['destination'];
      tags: string[];
      pushed: PushedTag[];
      configDigest: string | undefined;
      manifestDigest: string | undefined;
      metadata: Record<string, unknown>;
    };

/** Context for one run. */
interface Run {
  options: BuildOptions;
  io: CliIo;
  deps: PipelineDeps;
  client: BuildClient;
  caps: Capabilities;
  route: ScanRoute;
  work: string;
  contextDir: string;
  dockerfile: string;
  progress: 'plain' | 'tty' | 'quiet';
  streamMode: StreamMode;
  base: Omit<InvocationInput, 'target' | 'output' | 'cacheTo'>;
  runId: string;
  scanTags: string[];
  /** Mirrors of the rendered project (failure messages name them). */
  mirrors: MirrorEndpoint[];
}

const say = (io: CliIo, progress: BuildOptions['progress'], text: string) => {
  if (progress !== 'quiet') io.err(`eic-build: ${text}\n`);
};

/**
 * The whole build: probe → key → render → build → scan everything that would leave → publish
 * exactly the scanned image (or stop on a leak, publishing nothing).
 */
export async function runBuildPipeline(options: BuildOptions, io: CliIo, deps: PipelineDeps, probe?: ProbeResult): Promise<PipelineResult> {
  const contextDir = resolve(options.context);
  const info = await stat(contextDir).catch(() => undefined);
  if (!info?.isDirectory()) throw new EicBuildError('input-not-found', `build context ${contextDir} is not a directory`, { hint: 'give the project directory as CONTEXT.' });
  const config = await readBuildProjectConfig(options.config, contextDir);
  // The scan after the build reads these: a malformed one is refused before a long build, not after.
  parseScanTuning(io.env);
  // The metadata is written after the push: a path that cannot take it must stop the build first.
  if (options.metadataFile) await checkOutputPath(options.metadataFile, '--metadata-file');

  const runProcess = deps.runProcess ?? runClient;
  const probed = probe ?? (await probeBuildClient({ ...(options.docker ? { docker: options.docker } : {}), ...(options.builder ? { builder: options.builder } : {}), env: io.env }));
  const client = probed.client;
  if (!client) {
    throw new EicBuildError('docker-unavailable', `no docker client here can run a BuildKit build:\n${probed.candidates.map((c) => `  ${c.docker}: ${c.reason}`).join('\n') || '  no docker binary found'}`, {
      hint: "install docker with the buildx plugin (apt-get install docker.io docker-buildx), start the engine, and run 'eic-build doctor'.",
    });
  }
  assertCapabilities(options, client);
  const caps = capabilitiesOf(client);
  const route = chooseScanRoute(caps, options.destination);
  say(io, options.progress, `builder: ${client.kind === 'buildx' ? `buildx ${client.buildxVersion}, builder '${client.builder}' (${client.driver})` : `${client.docker} ${client.clientVersion} (built-in BuildKit)`}`);

  const key = await deps.resolveKey({
    ...(options.signingKeyFile ? { signingKeyFile: options.signingKeyFile } : {}),
    ephemeral: options.ephemeralKey,
    local: !io.env.CI,
    strict: options.strict,
    env: io.env,
    warn: (m) => io.err(`${m}\n`),
  });
  registerSecret(key.armoredSecretKey);
  say(io, options.progress, `signing key ${key.fingerprint} (${key.source})`);
  refuseSecretsInBuildArgs(options, key, io.env);
  refuseForeignFingerprint(options, key, DEFAULT_LAYOUT);

  const reporter = progressForIo(io, options.progress);
  if (caps.buildsIntoEngine && config.build.baseImages.length) {
    const { docker } = await connectDocker(io.env, client.docker);
    for (const spec of config.build.baseImages) {
      // Announced before and reported while it runs (a debootstrap takes minutes): by ensureBaseImage.
      await ensureBaseImage(spec, docker, reporter);
    }
  }

  const work = await mkdtemp(join(tmpdir(), 'eic-build-run-'));
  // Nothing secret lives here (image IDs, exported layouts), but it must not outlive an interrupted run either.
  removeOnExit(work, 'build-work');
  const scanTagsRef: { tags: string[] } = { tags: [] };
  // Interrupted (signal or crash): stop the docker client and drop the private scan tags; the one
  // shutdown path (exit-cleanup) then removes the work dir and the temp secret files and re-raises.
  const releaseExitAction = runOnExit((signal) => {
    killLiveClients(signal ?? 'SIGTERM');
    for (const tag of scanTagsRef.tags) spawnSync(client.docker, ['rmi', '--no-prune', tag], { stdio: 'ignore', env: io.env as NodeJS.ProcessEnv, timeout: 10_000 });
  });
  const secretFiles: TempSecretFile[] = [];
  try {
    const layout = DEFAULT_LAYOUT;
    const sources = await prepareSources(config, options, contextDir, key, deps, io.env, layout);
    const { dockerfile, mirrorsFile } = sources;
    for (const warning of sources.warnings ?? []) io.err(`warning: ${warning}\n`);
    const mirrors = sources.mirrors ?? [];
    assertMirrorsReachable(mirrors, options.network);
    const splitArgs = targetBuildArgs(options.target, sources.split, options.buildArgs);
    if (splitArgs.length > 0) {
      say(io, options.progress, `--target ${options.target}: building the runtime alone, the builder stage is skipped (${splitArgs.map((a) => `--build-arg ${a.name}=${a.value}`).join(' ')}); without --target the builder runs first`);
    }
    await assertContextHasNoKey(contextDir, key.armoredSecretKey);
    const secrets = await resolveSecrets(options, key, caps, layout, mirrorsFile, io.env, secretFiles);
    const progress = effectiveProgress(options.progress, io.env, io.isTty);
    // Everything a build step needs, complete before the first one runs.
    const run: Run = {
      options,
      io,
      deps,
      client,
      caps,
      route,
      work,
      contextDir,
      runId: randomBytes(6).toString('hex'),
      scanTags: scanTagsRef.tags,
      mirrors,
      dockerfile,
      progress,
      streamMode: progress === 'quiet' ? 'silent' : progress === 'tty' ? 'terminal' : 'stream',
      base: {
        client,
        caps,
        contextDir,
        dockerfile,
        platforms: options.platforms,
        buildArgs: [
          ...Object.entries(sources.buildArgs ?? {})
            .filter(([name]) => name !== layout.fingerprintArg && !options.buildArgs.some((a) => a.name === name))
            .map(([name, value]) => ({ name, value })),
          ...options.buildArgs.map((a) => ({ name: a.name, value: a.value ?? io.env[a.name] ?? '' })),
          ...splitArgs,
          // A new key changes this value, which invalidates every step that declares the ARG.
          { name: layout.fingerprintArg, value: key.fingerprint },
        ],
        buildContexts: options.buildContexts,
        secrets,
        cacheFrom: options.cacheFrom,
        noCache: options.noCache,
        network: options.network,
        progress,
        provenance: effectiveProvenance(options, caps),
      },
    };
    const dockerfileText = await readFile(dockerfile, 'utf8');
    const stages = parseDockerfileStages(dockerfileText);
    const items = planScans(stages, options.target, options.cacheTo);
    const fromArgs = { ...parseGlobalArgs(dockerfileText), ...Object.fromEntries(run.base.buildArgs.map((a) => [a.name, a.value])) };

    const scanned: ScannedImage[] = [];
    let finalArtifact: { configDigest: string | undefined; layoutDir?: string; archive?: string; engineTag?: string } | undefined;
    for (const item of items) {
      const built = await buildForScan(run, item, scanned.length);
      say(io, options.progress, `scanning ${item.reason === 'final-image' ? 'the image' : `stage '${item.target}' (a mode=max cache export would upload it)`} for private key material`);
      const scanProgress = startScanProgress(reporter, `scanning ${item.target ? `stage '${item.target}'` : 'the image'}`, { announce: false });
      const report = await deps.scan(built.scanTarget, { publicKeys: [key.identity], allowKeys: options.allowKeys, env: io.env, dockerClient: client.docker, onProgress: scanProgress.onProgress, keyProvenance: options.keyProvenance }).finally(() => scanProgress.finish(false));
      const configDigest = built.configDigest ?? (report.images.length === 1 ? report.images[0]!.configDigest : undefined);
      const targetIndex = targetStageIndex(stages, item.target);
      const baseImage = targetIndex === undefined ? undefined : externalBaseOf(stages, targetIndex, fromArgs);
      // Engine images are scanned by diff ID, exported layouts by blob digest: compare like with like.
      const baseLayers = route.kind === 'engine' ? await engineLayerDigests(client.docker, baseImage, io.env, runProcess) : await registryLayerDigests(baseImage, io.env);
      const gate = gateFindings(report.findings, baseLayers, { allowInheritedKeys: options.allowInheritedKeys });
      scanned.push({ item, report, gate, baseImage, configDigest });
      if (gate.allowedInherited.length && !gate.blocking.length) {
        // Loud on purpose (even with --progress quiet): these keys are published, and 'eic-build scan' will call them a leak.
        io.err(`warning: --allow-inherited-keys: publishing ${gate.allowedInherited.length} private key finding(s) that were already in the base image ${baseImage} (not this build's signing key); 'eic-build scan' of the image reports them as a leak:\n  ${describeFindings(gate.allowedInherited).join('\n  ')}\n`);
      }
      if (item.reason === 'final-image') finalArtifact = { ...built, configDigest };
      if (gate.blocking.length) break; // nothing more needs building: nothing will be published
    }

    const decision = decidePublish(
      scanned.map((s) => ({ item: s.item, leaked: s.gate.blocking.length > 0 })),
      options.destination,
      options.cacheTo,
    );
    if (decision.kind === 'stop-leak') return { kind: 'leak', scanned, key };

    let tags = options.tags;
    let pushed: PushedTag[] = [];
    const final = finalArtifact!;
    const destination = decision.destination;
    if (destination.kind === 'load' && tags.length === 0 && final.engineTag) {
      // Without --tag the scanned image keeps its private tag: removing it would delete the image.
      run.scanTags.splice(run.scanTags.indexOf(final.engineTag), 1);
      tags = [final.engineTag];
    }
    if (route.kind === 'engine') {
      const imageId = final.configDigest!;
      if (destination.kind === 'push') {
        say(io, options.progress, `pushing ${tags.join(', ')}`);
        pushed = await pushFromEngine(client.docker, imageId, tags, { env: io.env, mode: run.streamMode, err: io.err, run: runProcess });
      } else {
        for (const tag of tags) await docker(run, ['tag', imageId, tag], 'build-failed');
        if (destination.kind === 'output') await rerun(run, { kind: 'user', spec: destination.spec }, 'writing --output');
      }
    } else if (route.kind === 'docker-archive') {
      await docker(run, ['load', '-i', final.archive!], 'build-failed');
      for (const tag of tags) await docker(run, ['tag', final.configDigest!, tag], 'build-failed');
    } else {
      if (destination.kind === 'push') {
        say(io, options.progress, `pushing ${tags.join(', ')} from the scanned OCI layout`);
        pushed = await pushOciLayout(final.layoutDir!, tags, io.env);
      } else if (destination.kind === 'output') {
        const dest = attr(destination.spec, 'dest');
        if (destination.spec.type === 'oci' && dest && attr(destination.spec, 'tar') === 'false') await cp(final.layoutDir!, dest, { recursive: true });
        else await rerun(run, { kind: 'user', spec: destination.spec }, 'writing --output');
      }
    }
    if (decision.exportCache.length) {
      say(io, options.progress, `exporting build cache (${decision.exportCache.map((c) => c.type).join(', ')}): every stage it uploads was scanned clean`);
      await rerun(run, { kind: 'cache-only' }, 'exporting the build cache', decision.exportCache);
    }
    const manifestDigest = pushed[0]?.manifestDigest ?? (route.kind === 'oci-layout' ? await rootDigest(final.layoutDir!) : undefined);
    const configDigest = final.configDigest;
    const totals = totalsOf(scanned);
    const metadata = buildMetadata({
      tags,
      configDigest: configDigest ?? '',
      manifestDigest,
      keyFingerprint: key.fingerprint,
      layers: totals.layers,
      bytesScanned: totals.bytesScanned,
      imagesScanned: scanned.length,
      pushed: pushed.length > 0,
      allowedInheritedKeys: scanned.reduce((n, s) => n + s.gate.allowedInherited.length, 0),
    });
    if (options.metadataFile) await writeOutputFile(options.metadataFile, `${JSON.stringify(metadata, null, 2)}\n`, { flag: '--metadata-file' });
    return { kind: 'published', scanned, key, client, destination, tags, pushed, configDigest, manifestDigest, metadata };
  } finally {
    for (const file of secretFiles) await file.dispose();
    for (const tag of scanTagsRef.tags) await runProcess(client.docker, ['rmi', '--no-prune', tag], { baseEnv: io.env, mode: 'silent' }).catch(() => undefined);
    releaseExitAction();
    await rm(work, { recursive: true, force: true });
    releaseOnExit(work);
  }
}

/** Sum of layers and bytes over every scanned image. */
export function totalsOf(scanned: ScannedImage[]): { layers: number; bytesScanned: number; seconds: number } {
  return scanned.reduce((a, s) => ({ layers: a.layers + s.report.stats.layers, bytesScanned: a.bytesScanned + s.report.stats.bytesScanned, seconds: a.seconds + s.report.stats.seconds }), { layers: 0, bytesScanned: 0, seconds: 0 });
}

// Variables whose values are secrets that eic-build hands to BuildKit as secrets by itself.
const SECRET_VARIABLES: readonly string[] = [SIGNING_KEY_VARIABLE, PASSPHRASE_VARIABLE, ...EIC_REGISTRY_SECRETS];
const SECRET_VALUE_VARIABLES: readonly string[] = [SIGNING_KEY_VARIABLE, PASSPHRASE_VARIABLE, 'CI_REGISTRY_PASSWORD', 'GITHUB_REGISTRY_TOKEN'];

/** Build args land in argv and in the image history: refuse any that carries the key, its passphrase or a registry credential. */
function refuseSecretsInBuildArgs(options: BuildOptions, key: PipelineKey, env: NodeJS.ProcessEnv): void {
  // Not the lines the public armor shares (an RSA key's modulus): passing the public key is fine.
  const publicLines = new Set(key.armoredPublicKey.split(/\r?\n/).map((l) => l.trim()));
  const lines = key.armoredSecretKey
    .split(/\r?\n/)
    .map((l) => l.trim())
    .filter((l) => l.length >= 40 && !publicLines.has(l));
  const secretValues = SECRET_VALUE_VARIABLES.map((name) => env[name]?.trim()).filter((v): v is string => Boolean(v && v.length >= 6));
  for (const arg of options.buildArgs) {
    const value = arg.value ?? env[arg.name] ?? '';
    if (/PRIVATE KEY/.test(value) || lines.some((l) => value.includes(l))) {
      throw new EicBuildError('usage', `--build-arg ${arg.name} carries private key material`, {
        hint: 'build args are recorded in the image history; eic-build passes the signing key as a BuildKit secret by itself. Remove this build arg.',
      });
    }
    if (SECRET_VARIABLES.includes(arg.name) || secretValues.some((secret) => value.includes(secret))) {
      throw new EicBuildError('usage', `--build-arg ${arg.name} carries a secret (a signing key passphrase or registry credential)`, {
        hint: `build args are recorded in the image history and the docker command line; eic-build passes ${EIC_REGISTRY_SECRETS.join(', ')} as BuildKit secrets by itself (mount them with RUN --mount=type=secret,id=NAME), and other secrets with --secret id=ID,env=VAR. Remove this build arg.`,
      });
    }
  }
}

/**
 * The fingerprint build-arg is the signing key's: steps compare it with the public key file that
 * eic-build writes from the same key. Another value fails the build half-way; refuse it now.
 */
function refuseForeignFingerprint(options: BuildOptions, key: PipelineKey, layout: SigningLayout): void {
  const given = options.buildArgs.find((arg) => arg.name === layout.fingerprintArg);
  if (!given || (given.value ?? '').toUpperCase().replace(/\s+/g, '') === key.fingerprint.toUpperCase()) return;
  throw new EicBuildError('usage', `--build-arg ${layout.fingerprintArg}=${given.value ?? ''} does not match the signing key ${key.fingerprint}: the public key file eic-build writes would not match the fingerprint build-arg`, {
    hint: `drop --build-arg ${layout.fingerprintArg}: eic-build sets it from the signing key (--signing-key / SPACK_SIGNING_KEY); to sign with another key, pass that key instead.`,
  });
}

async function prepareSources(
  config: BuildProjectConfig,
  options: BuildOptions,
  contextDir: string,
  key: PipelineKey,
  deps: PipelineDeps,
  env: NodeJS.ProcessEnv,
  layout: SigningLayout,
): Promise<RenderedFiles> {
  // The public key is a non-secret context file (the renderer's layout): a new key changes it.
  const publicFile = join(contextDir, layout.publicContextPath);
  const writePublicKey = async () => {
    await mkdir(dirname(publicFile), { recursive: true });
    await writeFile(join(dirname(publicFile), '.gitignore'), '# written by eic-build build\n*\n');
    await writeFile(publicFile, key.armoredPublicKey);
  };
  // As buildx: --file, else the config's build.dockerfile; without a config file CONTEXT/Dockerfile
  // when there is one. A config without build.dockerfile (or nothing at all) renders the templates.
  const contextDockerfile = join(contextDir, 'Dockerfile');
  const userDockerfile = options.file
    ? resolve(options.file)
    : (config.build.dockerfile ?? (!config.file && (await stat(contextDockerfile).catch(() => undefined))?.isFile() ? contextDockerfile : undefined));
  if (userDockerfile) {
    if (!(await stat(userDockerfile).catch(() => undefined))?.isFile()) {
      throw new EicBuildError('input-not-found', `Dockerfile ${userDockerfile} does not exist`, { hint: config.file ? `check build.dockerfile in ${config.file} or --file.` : 'check --file.' });
    }
    // A user Dockerfile gets the public key file only if it reads it (no stray files otherwise).
    if ((await readFile(userDockerfile, 'utf8')).includes(layout.publicContextPath)) await writePublicKey();
    return { dockerfile: userDockerfile, mirrorsFile: undefined };
  }
  if (!deps.render) {
    throw new EicBuildError('config', `no Dockerfile to build in ${contextDir}: the renderer is not available in this version`, {
      hint: 'pass --file Dockerfile, or set build.dockerfile in eic-build.yaml.',
    });
  }
  // The renderer writes the public key file itself, and nothing at all when it finds a problem.
  const outDir = dirname(publicFile);
  const rendered = await deps.render({ configFile: config.file, configText: config.text, outDir, key, env, layout, vars: options.vars });
  await writeFile(join(outDir, '.gitignore'), '# written by eic-build build\n*\n');
  return rendered;
}

async function resolveSecrets(
  options: BuildOptions,
  key: PipelineKey,
  caps: Capabilities,
  layout: SigningLayout,
  mirrorsFile: string | undefined,
  env: NodeJS.ProcessEnv,
  files: TempSecretFile[],
): Promise<ResolvedSecret[]> {
  const secrets: ResolvedSecret[] = [];
  // EIC_BUILD_SECRET_TRANSPORT=file forces the temp-file route even where env= works (debugging, tests).
  const byEnv = caps.secretEnv && env.EIC_BUILD_SECRET_TRANSPORT !== 'file';
  const add = async (id: string, value: string) => {
    if (byEnv) secrets.push({ kind: 'env', id, envName: secretEnvName(id), value });
    else {
      const file = await writeTempSecretFile(value, id);
      files.push(file);
      secrets.push({ kind: 'file', id, path: file.path });
    }
  };
  if (options.secrets.some((s) => s.id === layout.signingSecretId)) {
    throw new EicBuildError('usage', `--secret id=${layout.signingSecretId} is reserved: eic-build passes the signing key under that id itself`, { hint: 'use --signing-key FILE or SPACK_SIGNING_KEY instead.' });
  }
  await add(layout.signingSecretId, key.armoredSecretKey);
  if (mirrorsFile) secrets.push({ kind: 'file', id: layout.mirrorsSecretId, path: mirrorsFile });
  // EIC's registry credentials, when set, as env secrets (as EIC's CI passes them).
  for (const name of EIC_REGISTRY_SECRETS) {
    if (env[name] && !options.secrets.some((s) => s.id === name)) {
      registerSecret(env[name]);
      await add(name, env[name]!);
    }
  }
  for (const spec of options.secrets) {
    if (spec.kind === 'file') {
      // Checked here, before any build step runs, rather than as a late BuildKit failure.
      const path = resolve(spec.src);
      if (!(await stat(path).catch(() => undefined))?.isFile()) {
        throw new EicBuildError('input-not-found', `--secret id=${spec.id},src=${spec.src}: ${path} is not a file`, { hint: 'check the path, or pass the secret from the environment with --secret id=ID,env=VAR.' });
      }
      secrets.push({ kind: 'file', id: spec.id, path });
    } else {
      const value = env[spec.env];
      if (value === undefined) throw new EicBuildError('usage', `--secret id=${spec.id},env=${spec.env}: ${spec.env} is not set`, { hint: `export ${spec.env} before running eic-build build.` });
      registerSecret(value);
      await add(spec.id, value);
    }
  }
  return secrets;
}

async function docker(run: Run, args: string[], code: 'build-failed' | 'push-failed'): Promise<string> {
  const result = await (run.deps.runProcess ?? runClient)(run.client.docker, args, { baseEnv: run.io.env, mode: 'silent' });
  if (result.exitCode !== 0) throw new EicBuildError(code, `docker ${args[0]} failed: ${lastLines(result.log, 5)}`, { hint: hintsForLog(result.log).map((h) => h.hint).join(' ') || undefined });
  return result.stdout;
}

async function invoke(run: Run, target: string | undefined, output: InvocationOutput, what: string, cacheTo: InvocationInput['cacheTo'] = []): Promise<void> {
  const invocation = buildInvocation({ ...run.base, target, output, cacheTo });
  const result = await (run.deps.runProcess ?? runClient)(invocation.command, invocation.args, { env: invocation.env, baseEnv: run.io.env, mode: run.streamMode, err: run.io.err });
  if (result.exitCode !== 0) {
    const diagnosis = diagnoseBuildFailure(result.log, { mirrors: run.mirrors, network: run.options.network });
    if (diagnosis) throw new EicBuildError('build-failed', `${what} failed (exit ${result.exitCode}): ${diagnosis.message}\n${lastLines(result.log, 6)}`, { hint: diagnosis.hint });
    const hints = hintsForLog(result.log).map((h) => h.hint);
    throw new EicBuildError('build-failed', `${what} failed (exit ${result.exitCode}):\n${lastLines(result.log)}`, {
      hint: hints.join(' ') || 'read the BuildKit log above; run with --progress plain for the full log.',
    });
  }
}

async function rerun(run: Run, output: InvocationOutput, what: string, cacheTo: InvocationInput['cacheTo'] = []): Promise<void> {
  await invoke(run, run.options.target, output, what, cacheTo);
}

/** Build one scan item into a place the scanner reads, before anything else sees it. */
async function buildForScan(run: Run, item: ScanItem, n: number): Promise<{ scanTarget: string; configDigest: string | undefined; layoutDir?: string; archive?: string; engineTag?: string }> {
  const what = item.target ? `building stage '${item.target}'` : 'the build';
  if (run.route.kind === 'engine') {
    const iidFile = join(run.work, `iid-${n}`);
    // A private tag: the user's tags are only set after the scan passed.
    const tag = `eic-build-scan/${run.runId}:${n}`;
    run.scanTags.push(tag);
    await invoke(run, item.target, { kind: 'engine', iidFile, tag }, what);
    const configDigest = (await readFile(iidFile, 'utf8')).trim();
    return { scanTarget: `docker-daemon:${tag}`, configDigest, engineTag: tag };
  }
  if (run.route.kind === 'docker-archive') {
    const archive = join(run.work, `image-${n}.tar`);
    await invoke(run, item.target, { kind: 'docker-archive', dest: archive }, what);
    return { scanTarget: `docker-archive:${archive}`, configDigest: undefined, archive };
  }
  const layoutDir = join(run.work, `layout-${n}`);
  await invoke(run, item.target, { kind: 'oci-layout', dest: layoutDir }, what);
  return { scanTarget: `oci:${layoutDir}`, configDigest: undefined, layoutDir };
}

async function rootDigest(layoutDir: string): Promise<string | undefined> {
  const index = JSON.parse(await readFile(join(layoutDir, 'index.json'), 'utf8')) as { manifests?: { digest: string }[] };
  return index.manifests?.[0]?.digest;
}
