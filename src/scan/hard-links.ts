// Hard links inside one layer tar: a link entry has no body of its own, it names an earlier entry
// of the same tar whose content it shares. When that content held a key, so does the link path,
// and the link can outlive the deletion of the original (a later `rm` of the first name). Pure.
import type { LayerFinding } from './layer-findings.js';
import { normalizeEntryName } from './tar-header.js';

/** A hard-link entry of a layer tar: `path` shares the content of the earlier entry `target`. */
export interface HardLink {
  path: string;
  target: string;
}

/** Tar names a hard link's target like an entry name (no leading `/` or `./`). */
export function normalizeLinkTarget(linkname: string): string {
  return normalizeEntryName(linkname.replace(/^\/+/, ''));
}

/**
 * Findings of the layer plus one copy, per hard link, of every finding on the link's target
 * (including nested-archive findings), placed at the link path. Links are taken in tar order, so
 * a link to a link (rare, but valid) inherits what its target inherited.
 */
export function expandHardLinkFindings(findings: LayerFinding[], links: HardLink[]): LayerFinding[] {
  if (links.length === 0) return findings;
  const byPath = new Map<string, LayerFinding[]>();
  for (const finding of findings) {
    if (finding.path === null) continue;
    const list = byPath.get(finding.path);
    if (list) list.push(finding);
    else byPath.set(finding.path, [finding]);
  }
  const out = [...findings];
  for (const link of links) {
    if (link.path === link.target) continue;
    const origin = byPath.get(link.target);
    if (!origin) continue;
    const copies = origin.map((finding) => ({
      ...finding,
      path: link.path,
      message: `${finding.message} (hard link to ${link.target}: same content)`,
    }));
    out.push(...copies);
    const existing = byPath.get(link.path);
    byPath.set(link.path, existing ? [...existing, ...copies] : copies);
  }
  return out;
}
