import type { CliIo } from '../cli-io.js';
import type { ResolveSigningKeyOptions, SigningKey } from '../keys/index.js';
import type { KeyIdentity } from '../pgp/key-identity.js';
import type { ProgressReporter, ScanCounts } from '../progress/index.js';
import type { SigningLayout } from '../render/layout.js';
import type { ScanReport } from '../scan/index.js';
import type { BuildOptions } from './build-options.js';
import type { MirrorEndpoint } from './build-failure.js';
import type { Capabilities } from './capabilities.js';
import type { InvocationInput, ScanItem, ScanRoute, SplitTargets } from './plan.js';
import type { BuildClient } from './probe.js';
import type { PushedTag } from './publish.js';
import type { ProcessRunner, StreamMode } from './run-client.js';
import type { GateResult } from './scan-gate.js';

/**
 * The state of one `eic-build build` run, and the data its steps exchange. Types only: the steps
 * (preflight, secrets, sources, build-args, routes/, scan-step, publish-step) each live in their own module.
 */

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
  render?: (input: {
    configFile: string | undefined;
    configText: string | undefined;
    outDir: string;
    key: PipelineKey;
    env: NodeJS.ProcessEnv;
    layout: SigningLayout;
    vars: Record<string, string>;
  }) => Promise<RenderedFiles>;
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

/** Everything a build step needs, complete before the first one runs. */
export interface Run {
  options: BuildOptions;
  io: CliIo;
  deps: PipelineDeps;
  /** deps.runProcess, or the real client runner. */
  runProcess: ProcessRunner;
  client: BuildClient;
  caps: Capabilities;
  route: ScanRoute;
  key: PipelineKey;
  /** Private to the run (image IDs, exported layouts, archives); removed at its end. */
  work: string;
  contextDir: string;
  dockerfile: string;
  progress: 'plain' | 'tty' | 'quiet';
  streamMode: StreamMode;
  reporter: ProgressReporter;
  /** The parts of every build invocation that do not change between them. */
  base: Omit<InvocationInput, 'target' | 'output' | 'cacheTo'>;
  runId: string;
  /** Private scan tags in the engine, removed at the end (one the user keeps is taken out). */
  scanTags: string[];
  /** Mirrors of the rendered project (failure messages name them). */
  mirrors: MirrorEndpoint[];
}

/** Tell the user what the build does next (stderr; silent with --progress quiet). */
export function say(run: Pick<Run, 'io' | 'options'>, text: string): void {
  if (run.options.progress !== 'quiet') run.io.err(`eic-build: ${text}\n`);
}
