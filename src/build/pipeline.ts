import { randomBytes } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import type { CliIo } from '../cli-io.js';
import { EicBuildError } from '../errors.js';
import { progressForIo } from '../progress/index.js';
import { DEFAULT_LAYOUT } from '../render/layout.js';
import type { BuildOptions } from './build-options.js';
import { effectiveBuildArgs, refuseForeignFingerprint, refuseSecretsInBuildArgs } from './build-args.js';
import { assertMirrorsReachable } from './build-failure.js';
import { capabilitiesOf, effectiveProvenance } from './capabilities.js';
import { assertContextHasNoKey } from './context-check.js';
import { chooseScanRoute, decidePublish, effectiveProgress, targetBuildArgs } from './plan.js';
import { chooseBuildClient, describeBuildClient, ensureBaseImages, preflight } from './preflight.js';
import type { ProbeResult } from './probe.js';
import { publishScanned } from './publish-step.js';
import { routeDriver } from './routes/drivers.js';
import type { BuiltImage } from './routes/route-driver.js';
import { runClient } from './run-client.js';
import { openRunScope } from './run-scope.js';
import { say, type PipelineDeps, type PipelineResult, type Run, type ScannedImage } from './run.js';
import { planImageScans, scanBuilt } from './scan-step.js';
import { planSecrets, provideSecrets, resolveBuildKey, secretsByEnv, type ProvidedSecrets } from './secrets.js';
import { prepareSources } from './sources.js';

export type { PipelineDeps, PipelineKey, PipelineResult, PipelineScanOptions, PipelineScanReport, RenderedFiles, ScannedImage } from './run.js';
export { totalsOf } from './publish-step.js';

/**
 * The whole build: probe → key → render → build → scan everything that would leave → publish
 * exactly the scanned image (or stop on a leak, publishing nothing). Each step is its own module;
 * this is only their order.
 */
export async function runBuildPipeline(options: BuildOptions, io: CliIo, deps: PipelineDeps, probe?: ProbeResult): Promise<PipelineResult> {
  const { contextDir, config } = await preflight(options, io);
  const runProcess = deps.runProcess ?? runClient;
  const client = await chooseBuildClient(options, io.env, probe);
  const caps = capabilitiesOf(client);
  const route = chooseScanRoute(caps, options.destination);
  const driver = routeDriver(route);
  say({ io, options }, `builder: ${describeBuildClient(client)}`);

  const key = await resolveBuildKey(options, io, deps);
  say({ io, options }, `signing key ${key.fingerprint} (${key.source})`);
  const layout = DEFAULT_LAYOUT;
  refuseSecretsInBuildArgs(options.buildArgs, key, io.env);
  refuseForeignFingerprint(options.buildArgs, key, layout);

  const reporter = progressForIo(io, options.progress);
  await ensureBaseImages(config, caps.buildsIntoEngine, client, io.env, reporter);

  const scope = await openRunScope(client.docker, io.env, runProcess);
  let secrets: ProvidedSecrets | undefined;
  try {
    const sources = await prepareSources({ config, options, contextDir, key, render: deps.render, env: io.env, layout });
    for (const warning of sources.warnings ?? []) io.err(`warning: ${warning}\n`);
    const mirrors = sources.mirrors ?? [];
    assertMirrorsReachable(mirrors, options.network);
    const splitArgs = targetBuildArgs(options.target, sources.split, options.buildArgs);
    if (splitArgs.length > 0) {
      say(
        { io, options },
        `--target ${options.target}: building the runtime alone, the builder stage is skipped (${splitArgs.map((a) => `--build-arg ${a.name}=${a.value}`).join(' ')}); without --target the builder runs first`,
      );
    }
    await assertContextHasNoKey(contextDir, key.armoredSecretKey);
    secrets = await provideSecrets(planSecrets({ userSecrets: options.secrets, key, layout, mirrorsFile: sources.mirrorsFile, env: io.env }), secretsByEnv(caps.secretEnv, io.env));
    const progress = effectiveProgress(options.progress, io.env, io.isTty);
    const buildArgs = effectiveBuildArgs({
      rendered: sources.buildArgs ?? {},
      user: options.buildArgs,
      env: io.env,
      split: splitArgs,
      fingerprintArg: layout.fingerprintArg,
      fingerprint: key.fingerprint,
    });
    const run: Run = {
      options,
      io,
      deps,
      runProcess,
      client,
      caps,
      route,
      key,
      reporter,
      contextDir,
      mirrors,
      progress,
      work: scope.work,
      scanTags: scope.scanTags,
      runId: randomBytes(6).toString('hex'),
      dockerfile: sources.dockerfile,
      streamMode: progress === 'quiet' ? 'silent' : progress === 'tty' ? 'terminal' : 'stream',
      base: {
        client,
        caps,
        contextDir,
        buildArgs,
        progress,
        dockerfile: sources.dockerfile,
        platforms: options.platforms,
        buildContexts: options.buildContexts,
        secrets: secrets.secrets,
        cacheFrom: options.cacheFrom,
        noCache: options.noCache,
        network: options.network,
        provenance: effectiveProvenance(options, caps),
      },
    };

    const scans = planImageScans(await readFile(run.dockerfile, 'utf8'), options.target, options.cacheTo, buildArgs);
    const scanned: ScannedImage[] = [];
    let final: { built: BuiltImage; configDigest: string | undefined } | undefined;
    for (const planned of scans) {
      const built = await driver.build(run, planned.item, scanned.length);
      const image = await scanBuilt(run, planned, built, driver);
      scanned.push(image);
      if (planned.item.reason === 'final-image') final = { built, configDigest: image.configDigest };
      if (image.gate.blocking.length) break; // nothing more needs building: nothing will be published
    }

    const decision = decidePublish(
      scanned.map((s) => ({ item: s.item, leaked: s.gate.blocking.length > 0 })),
      options.destination,
      options.cacheTo,
    );
    if (decision.kind === 'stop-leak') return { kind: 'leak', scanned, key };
    // planScans puts the final image first: clean scans include it.
    if (!final) throw new EicBuildError('internal', 'the scans passed without the final image among them');
    return await publishScanned(run, decision, scanned, final, driver);
  } finally {
    await secrets?.dispose();
    await scope.close();
  }
}
