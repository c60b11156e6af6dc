import type { Descriptor } from '../registry/client.js';

/** An image manifest's blobs: config (the spec JSON) and layers (tarballs). */
export function manifestBlobs(bytes: Uint8Array): Descriptor[] {
  const body = JSON.parse(Buffer.from(bytes).toString('utf8')) as { config?: Descriptor; layers?: Descriptor[]; manifests?: Descriptor[] };
  return [...(body.config ? [body.config] : []), ...(body.layers ?? [])];
}

/** Spack's buildcache tag for an entry id (`name-version-hash` → `….spack`, with Spack's character and length rules). */
export function spackTag(id: string): string {
  const tag = `${id}.spack`.replace(/[^\w.-]/g, '_');
  return tag.length > 128 ? `${tag.slice(0, 64)}${tag.slice(-64)}` : tag;
}

/** True for the tags Spack writes for entries (not the index, not signatures). */
export function isEntryTag(tag: string): boolean {
  return tag.endsWith('.spack') && tag !== 'index.spack';
}

/** Entry id from a tag (`zlib-1.3-abc.spack` → `zlib-1.3-abc`). */
export function idFromTag(tag: string): string {
  return tag.replace(/\.spack$/, '');
}
