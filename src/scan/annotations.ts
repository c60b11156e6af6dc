// OCI annotations as scannable values: free text anyone can set on an index, a manifest or a
// descriptor, so they are scanned like image config values. Shared by the OCI-layout and the
// registry readers so both name a key in an annotation the same way. Pure.
import type { ConfigValue } from './config-scan.js';

/** The string values of an `annotations` object, each with its field name. */
export function annotationValues(where: string, annotations: unknown): ConfigValue[] {
  if (!annotations || typeof annotations !== 'object' || Array.isArray(annotations)) return [];
  return Object.entries(annotations as Record<string, unknown>).flatMap(([key, value]) =>
    typeof value === 'string' ? [{ field: `${where}.annotations[${JSON.stringify(key)}]`, value }] : [],
  );
}

/** Annotations of a list of descriptors (`manifests`, `layers`), by position. */
export function descriptorAnnotations(where: string, descriptors: unknown): ConfigValue[] {
  return Array.isArray(descriptors)
    ? descriptors.flatMap((descriptor: unknown, i) => annotationValues(`${where}[${i}]`, (descriptor as { annotations?: unknown } | null)?.annotations))
    : [];
}
