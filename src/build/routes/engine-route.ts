import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { engineLayerDigests } from '../base-layers.js';
import { runBuild, runDocker } from '../client-calls.js';
import { pushFromEngine } from '../publish.js';
import { say } from '../run.js';
import type { ScanRouteDriver } from './route-driver.js';

type EngineImage = { kind: 'engine'; scanTarget: string; configDigest: string; tag: string };

/**
 * The engine route (built-in BuildKit, buildx docker driver): built into the local engine under a
 * private tag, scanned as docker-daemon:TAG; published by tagging (and pushing) the scanned image ID.
 */
export const engineRoute: ScanRouteDriver<EngineImage> = {
  async build(run, item, n) {
    const iidFile = join(run.work, `iid-${n}`);
    // A private tag: the user's tags are only set after the scan passed.
    const tag = `eic-build-scan/${run.runId}:${n}`;
    run.scanTags.push(tag);
    await runBuild(run, item.target, { kind: 'engine', iidFile, tag }, item.target ? `building stage '${item.target}'` : 'the build');
    const configDigest = (await readFile(iidFile, 'utf8')).trim();
    return { kind: 'engine', scanTarget: `docker-daemon:${tag}`, configDigest, tag };
  },

  baseLayers: (run, baseImage) => engineLayerDigests(run.client.docker, baseImage, run.io.env, run.runProcess),

  async publish(run, final, _configDigest, destination) {
    // By ID, so nothing else can slip in between scan and tag.
    const imageId = final.configDigest;
    let tags = run.options.tags;
    if (destination.kind === 'load' && tags.length === 0) {
      // Without --tag the scanned image keeps its private tag: removing it would delete the image.
      run.scanTags.splice(run.scanTags.indexOf(final.tag), 1);
      tags = [final.tag];
    }
    if (destination.kind === 'push') {
      say(run, `pushing ${tags.join(', ')}`);
      const pushed = await pushFromEngine(run.client.docker, imageId, tags, { env: run.io.env, mode: run.streamMode, err: run.io.err, run: run.runProcess });
      return { tags, pushed, manifestDigest: pushed[0]?.manifestDigest };
    }
    for (const tag of tags) await runDocker(run, ['tag', imageId, tag], 'build-failed');
    if (destination.kind === 'output') await runBuild(run, run.options.target, { kind: 'user', spec: destination.spec }, 'writing --output');
    return { tags, pushed: [], manifestDigest: undefined };
  },
};
