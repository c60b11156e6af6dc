import { startScanProgress } from '../progress/index.js';
import { externalBaseOf, parseDockerfileStages, parseGlobalArgs, targetStageIndex } from './dockerfile-stages.js';
import type { AttrSpec } from './flags.js';
import { planScans, type ScanItem } from './plan.js';
import type { BuiltImage, ScanRouteDriver } from './routes/route-driver.js';
import { say, type Run, type ScannedImage } from './run.js';
import { describeFindings, gateFindings } from './scan-gate.js';

/** One image to scan, and the external base image whose layers count as inherited (undefined: none known). */
export interface PlannedScan {
  item: ScanItem;
  baseImage: string | undefined;
}

/**
 * Pure: every image that must be scanned before anything leaves (plan.ts planScans) with its base
 * image, whose `FROM ${ARG}` is resolved with the Dockerfile's global ARGs and the build args.
 */
export function planImageScans(dockerfileText: string, target: string | undefined, cacheTo: AttrSpec[], buildArgs: readonly { name: string; value: string }[]): PlannedScan[] {
  const stages = parseDockerfileStages(dockerfileText);
  const fromArgs = { ...parseGlobalArgs(dockerfileText), ...Object.fromEntries(buildArgs.map((a) => [a.name, a.value])) };
  return planScans(stages, target, cacheTo).map((item) => {
    const targetIndex = targetStageIndex(stages, item.target);
    return { item, baseImage: targetIndex === undefined ? undefined : externalBaseOf(stages, targetIndex, fromArgs) };
  });
}

/** Scan one built image for private key material (the signing key is named as such) and read the report through the gate. */
export async function scanBuilt(run: Run, planned: PlannedScan, built: BuiltImage, driver: ScanRouteDriver): Promise<ScannedImage> {
  const { item, baseImage } = planned;
  const { options, io } = run;
  say(run, `scanning ${item.reason === 'final-image' ? 'the image' : `stage '${item.target}' (a mode=max cache export would upload it)`} for private key material`);
  const scanProgress = startScanProgress(run.reporter, `scanning ${item.target ? `stage '${item.target}'` : 'the image'}`, { announce: false });
  const report = await run.deps
    .scan(built.scanTarget, {
      publicKeys: [run.key.identity],
      allowKeys: options.allowKeys,
      env: io.env,
      dockerClient: run.client.docker,
      onProgress: scanProgress.onProgress,
      keyProvenance: options.keyProvenance,
    })
    .finally(() => scanProgress.finish(false));
  const configDigest = built.configDigest ?? (report.images.length === 1 ? report.images[0]!.configDigest : undefined);
  const gate = gateFindings(report.findings, await driver.baseLayers(run, baseImage), { allowInheritedKeys: options.allowInheritedKeys });
  if (gate.allowedInherited.length && !gate.blocking.length) {
    // Loud on purpose (even with --progress quiet): these keys are published, and 'eic-build scan' will call them a leak.
    io.err(
      `warning: --allow-inherited-keys: publishing ${gate.allowedInherited.length} private key finding(s) that were already in the base image ${baseImage} (not this build's signing key); 'eic-build scan' of the image reports them as a leak:\n  ${describeFindings(gate.allowedInherited).join('\n  ')}\n`,
    );
  }
  return { item, report, gate, baseImage, configDigest };
}
