import { parseImageReference, readDockerConfigCredentials, RegistryClient } from '../registry/index.js';
import { runClient, type ProcessRunner } from './run-client.js';

/** Layer digests (diff IDs) of an image in the local engine; empty when unknown or scratch. */
export async function engineLayerDigests(docker: string, image: string | undefined, env: NodeJS.ProcessEnv, run: ProcessRunner = runClient): Promise<Set<string>> {
  if (!image || image === 'scratch') return new Set();
  const result = await run(docker, ['image', 'inspect', '--format', '{{json .RootFS.Layers}}', image], { baseEnv: env, mode: 'silent' });
  if (result.exitCode !== 0) return new Set();
  try {
    return new Set(JSON.parse(result.stdout.trim()) as string[]);
  } catch {
    return new Set();
  }
}

interface ManifestJson {
  manifests?: { digest: string; platform?: { os?: string; architecture?: string; variant?: string } }[];
  layers?: { digest: string }[];
}

/**
 * Layer blob digests of a registry image (every platform of an index): what a BuildKit builder
 * reuses when it exports an image built FROM it. Empty when the registry cannot be read: then
 * nothing counts as inherited and every finding blocks.
 */
export async function registryLayerDigests(image: string | undefined, env: NodeJS.ProcessEnv = process.env): Promise<Set<string>> {
  const out = new Set<string>();
  if (!image || image === 'scratch') return out;
  try {
    const ref = parseImageReference(image);
    const host = ref.registry === 'docker.io' ? 'registry-1.docker.io' : ref.registry;
    const credentials = await readDockerConfigCredentials(ref.registry, env);
    const client = new RegistryClient({ registry: host, ...(credentials ? { credentials } : {}), timeoutMs: 20_000 });
    const top = await client.getManifest(ref.repository, ref.digest ?? ref.tag ?? 'latest');
    const json = JSON.parse(top.bytes.toString('utf8')) as ManifestJson;
    const manifests = json.manifests ? await Promise.all(json.manifests.map((m) => client.getManifest(ref.repository, m.digest))) : [top];
    for (const manifest of manifests) {
      for (const layer of (JSON.parse(manifest.bytes.toString('utf8')) as ManifestJson).layers ?? []) out.add(layer.digest);
    }
  } catch {
    return new Set();
  }
  return out;
}
