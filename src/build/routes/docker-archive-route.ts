import { join } from 'node:path';
import { EicBuildError } from '../../errors.js';
import { registryLayerDigests } from '../base-layers.js';
import { runBuild, runDocker } from '../client-calls.js';
import type { ScanRouteDriver } from './route-driver.js';

type ArchiveImage = { kind: 'docker-archive'; scanTarget: string; configDigest: undefined; archive: string };

/**
 * The docker-archive route (a BuildKit builder outside the engine, --load): built into a tar,
 * scanned as docker-archive:FILE, then that very tar is `docker load`ed and tagged by the scanned ID.
 */
export const dockerArchiveRoute: ScanRouteDriver<ArchiveImage> = {
  async build(run, item, n) {
    const archive = join(run.work, `image-${n}.tar`);
    await runBuild(run, item.target, { kind: 'docker-archive', dest: archive }, item.target ? `building stage '${item.target}'` : 'the build');
    return { kind: 'docker-archive', scanTarget: `docker-archive:${archive}`, configDigest: undefined, archive };
  },

  baseLayers: (run, baseImage) => registryLayerDigests(baseImage, run.io.env),

  async publish(run, final, configDigest) {
    if (!configDigest) {
      throw new EicBuildError('build-failed', `the scanned archive ${final.archive} holds no single image to load`, {
        hint: '--load takes one platform: drop the extra --platform values, or use --push.',
      });
    }
    await runDocker(run, ['load', '-i', final.archive], 'build-failed');
    for (const tag of run.options.tags) await runDocker(run, ['tag', configDigest, tag], 'build-failed');
    return { tags: run.options.tags, pushed: [], manifestDigest: undefined };
  },
};
