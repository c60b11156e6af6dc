import { writeOutputFile } from '../io/output-file.js';
import { runBuild } from './client-calls.js';
import { buildMetadata, type PublishDecision } from './plan.js';
import type { BuiltImage, ScanRouteDriver } from './routes/route-driver.js';
import { say, type PipelineResult, type Run, type ScannedImage } from './run.js';

/** Sum of layers and bytes over every scanned image. */
export function totalsOf(scanned: ScannedImage[]): { layers: number; bytesScanned: number; seconds: number } {
  return scanned.reduce(
    (a, s) => ({ layers: a.layers + s.report.stats.layers, bytesScanned: a.bytesScanned + s.report.stats.bytesScanned, seconds: a.seconds + s.report.stats.seconds }),
    { layers: 0, bytesScanned: 0, seconds: 0 },
  );
}

/**
 * After every scan passed the gate: publish exactly the scanned final image (its route's driver),
 * export the build cache (every stage it uploads was scanned), and write the metadata file.
 */
export async function publishScanned(
  run: Run,
  decision: Extract<PublishDecision, { kind: 'publish' }>,
  scanned: ScannedImage[],
  final: { built: BuiltImage; configDigest: string | undefined },
  driver: ScanRouteDriver,
): Promise<Extract<PipelineResult, { kind: 'published' }>> {
  const { options, key } = run;
  const { tags, pushed, manifestDigest } = await driver.publish(run, final.built, final.configDigest, decision.destination);
  if (decision.exportCache.length) {
    say(run, `exporting build cache (${decision.exportCache.map((c) => c.type).join(', ')}): every stage it uploads was scanned clean`);
    await runBuild(run, options.target, { kind: 'cache-only' }, 'exporting the build cache', decision.exportCache);
  }
  const totals = totalsOf(scanned);
  const metadata = buildMetadata({
    tags,
    configDigest: final.configDigest ?? '',
    manifestDigest,
    keyFingerprint: key.fingerprint,
    layers: totals.layers,
    bytesScanned: totals.bytesScanned,
    imagesScanned: scanned.length,
    pushed: pushed.length > 0,
    allowedInheritedKeys: scanned.reduce((n, s) => n + s.gate.allowedInherited.length, 0),
  });
  if (options.metadataFile) await writeOutputFile(options.metadataFile, `${JSON.stringify(metadata, null, 2)}\n`, { flag: '--metadata-file' });
  return { kind: 'published', scanned, key, client: run.client, destination: decision.destination, tags, pushed, configDigest: final.configDigest, manifestDigest, metadata };
}
