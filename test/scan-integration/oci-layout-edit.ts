/**
 * Edits of a real OCI layout (written by skopeo) for leak forms that live in the image structure:
 * annotations on the manifest and on the index, and an extra layer. Every edited blob is written
 * under its new digest and every descriptor above it is fixed, so the layout stays valid (skopeo
 * can copy it again) and the scanner's digest checks pass.
 */
import { createHash } from 'node:crypto';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';

type Descriptor = { mediaType: string; digest: string; size: number; annotations?: Record<string, string>; [other: string]: unknown };
type Manifest = { config: Descriptor; layers: Descriptor[]; annotations?: Record<string, string>; [other: string]: unknown };
type Index = { manifests: Descriptor[]; annotations?: Record<string, string>; [other: string]: unknown };

const blobPath = (layout: string, digest: string): string => join(layout, 'blobs', ...digest.split(':'));

async function writeBlob(layout: string, bytes: Uint8Array): Promise<{ digest: string; size: number }> {
  const digest = `sha256:${createHash('sha256').update(bytes).digest('hex')}`;
  await writeFile(blobPath(layout, digest), bytes);
  return { digest, size: bytes.length };
}

async function readJson<T>(path: string): Promise<T> {
  return JSON.parse(await readFile(path, 'utf8')) as T;
}

export interface LayoutEdit {
  /** Added to the (first) image manifest's annotations. */
  manifestAnnotations?: Record<string, string>;
  /** Added to index.json's own annotations. */
  indexAnnotations?: Record<string, string>;
  /** An uncompressed layer tar appended on top (config diff_ids and history follow). */
  addLayer?: { tar: Uint8Array; createdBy: string };
  /**
   * A nested image index carrying these annotations and listing the (first) image manifest again,
   * put into index.json after that manifest ('after') or before it ('before').
   */
  nestedIndex?: { annotations: Record<string, string>; position: 'before' | 'after' };
}

/** Apply `edit` to the single-image OCI layout in `layout`, in place. */
export async function editLayout(layout: string, edit: LayoutEdit): Promise<void> {
  const index = await readJson<Index>(join(layout, 'index.json'));
  const descriptor = index.manifests[0]!;
  const manifest = await readJson<Manifest>(blobPath(layout, descriptor.digest));
  if (edit.addLayer) {
    const layer = await writeBlob(layout, edit.addLayer.tar);
    const config = await readJson<{ rootfs: { diff_ids: string[] }; history?: Array<Record<string, unknown>> }>(blobPath(layout, manifest.config.digest));
    config.rootfs.diff_ids.push(layer.digest);
    config.history = [...(config.history ?? []), { created: '2026-01-01T00:00:00Z', created_by: edit.addLayer.createdBy }];
    const written = await writeBlob(layout, Buffer.from(JSON.stringify(config)));
    manifest.config = { ...manifest.config, ...written };
    manifest.layers.push({ mediaType: 'application/vnd.oci.image.layer.v1.tar', ...layer });
  }
  if (edit.manifestAnnotations) manifest.annotations = { ...manifest.annotations, ...edit.manifestAnnotations };
  const written = await writeBlob(layout, Buffer.from(JSON.stringify(manifest)));
  index.manifests[0] = { ...descriptor, ...written };
  if (edit.nestedIndex) {
    const nested = { schemaVersion: 2, mediaType: 'application/vnd.oci.image.index.v1+json', manifests: [index.manifests[0]], annotations: edit.nestedIndex.annotations };
    const entry = { mediaType: nested.mediaType, ...(await writeBlob(layout, Buffer.from(JSON.stringify(nested)))) };
    if (edit.nestedIndex.position === 'after') index.manifests.push(entry);
    else index.manifests.unshift(entry);
  }
  if (edit.indexAnnotations) index.annotations = { ...index.annotations, ...edit.indexAnnotations };
  await writeFile(join(layout, 'index.json'), JSON.stringify(index));
}
