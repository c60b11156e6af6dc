import { cp, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { registryLayerDigests } from '../base-layers.js';
import { runBuild } from '../client-calls.js';
import { attr } from '../flags.js';
import { pushOciLayout } from '../publish.js';
import { say } from '../run.js';
import type { ScanRouteDriver } from './route-driver.js';

type LayoutImage = { kind: 'oci-layout'; scanTarget: string; configDigest: undefined; layoutDir: string };

/**
 * The OCI-layout route (a BuildKit builder outside the engine, --push or --output): exported as an
 * OCI layout, scanned as oci:DIR; the scanned layout's bytes are what is pushed (or copied).
 */
export const ociLayoutRoute: ScanRouteDriver<LayoutImage> = {
  async build(run, item, n) {
    const layoutDir = join(run.work, `layout-${n}`);
    await runBuild(run, item.target, { kind: 'oci-layout', dest: layoutDir }, item.target ? `building stage '${item.target}'` : 'the build');
    return { kind: 'oci-layout', scanTarget: `oci:${layoutDir}`, configDigest: undefined, layoutDir };
  },

  baseLayers: (run, baseImage) => registryLayerDigests(baseImage, run.io.env),

  async publish(run, final, _configDigest, destination) {
    const tags = run.options.tags;
    if (destination.kind === 'push') {
      say(run, `pushing ${tags.join(', ')} from the scanned OCI layout`);
      const pushed = await pushOciLayout(final.layoutDir, tags, run.io.env);
      return { tags, pushed, manifestDigest: pushed[0]?.manifestDigest ?? (await rootDigest(final.layoutDir)) };
    }
    if (destination.kind === 'output') {
      const dest = attr(destination.spec, 'dest');
      if (destination.spec.type === 'oci' && dest && attr(destination.spec, 'tar') === 'false') await cp(final.layoutDir, dest, { recursive: true });
      else await runBuild(run, run.options.target, { kind: 'user', spec: destination.spec }, 'writing --output');
    }
    return { tags, pushed: [], manifestDigest: await rootDigest(final.layoutDir) };
  },
};

/** The digest of the layout's first (root) manifest or index. */
async function rootDigest(layoutDir: string): Promise<string | undefined> {
  const index = JSON.parse(await readFile(join(layoutDir, 'index.json'), 'utf8')) as { manifests?: { digest: string }[] };
  return index.manifests?.[0]?.digest;
}
