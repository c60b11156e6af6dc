// Which package records name a path, as the image (or the image up to one layer) shows its package
// databases: only record files still visible at that layer (whiteouts, opaque directories and
// overwrites hide older copies; see ../visibility.ts). Pure.
import { VisibilityIndex, type LayerChanges } from '../visibility.js';
import { parseDpkgStatus, parseMd5sumsLine, parseMd5sumsName, type DpkgPackage } from './dpkg.js';
import { parseDistInfoName, parsePythonRecord } from './python-record.js';
import { parseSpackVersion, spackRootOfVersionFile, spackTestKeyAt } from './spack-tree.js';
import type { CapturedRecord, Provenance } from './types.js';

/** One record of a path: who recorded it and the digest they recorded. */
export interface PathRecord {
  provenance: Provenance;
  algorithm: 'md5' | 'sha256';
  /** Hex. */
  digest: string;
}

/** A layer's changes plus the package database files it holds. */
export interface LayerRecords extends LayerChanges {
  records: CapturedRecord[];
}

/** Records of the wanted paths only (what triage asks about), built from visible record files. */
export class PackageIndex {
  private readonly byPath = new Map<string, PathRecord[]>();

  /** Index the records visible in `layers` (bottom first) for the paths in `wanted`. */
  constructor(layers: LayerRecords[], wanted: ReadonlySet<string>) {
    const visibility = new VisibilityIndex(layers);
    const visible: CapturedRecord[] = [];
    layers.forEach((layer, index) => {
      for (const record of layer.records) if (visibility.decide(record.path, index).visible) visible.push(record);
    });
    const statusText = visible.find((r) => r.kind === 'dpkg-status')?.text ?? '';
    const packages = statusText ? parseDpkgStatus(statusText) : [];
    const add = (path: string, record: PathRecord) => {
      const list = this.byPath.get(path);
      if (list) list.push(record);
      else this.byPath.set(path, [record]);
    };
    for (const record of visible) {
      if (record.kind === 'dpkg-md5sums') this.addMd5sums(record, packages, wanted, add);
      else if (record.kind === 'python-record') {
        const dist = parseDistInfoName(record.path);
        for (const file of parsePythonRecord(record.path, record.text)) {
          if (!wanted.has(file.path)) continue;
          const provenance: Provenance = { manager: 'python', package: dist?.name ?? record.path, version: dist?.version ?? 'unknown', recordedDigest: `sha256:${file.sha256}` };
          add(file.path, { provenance, algorithm: 'sha256', digest: file.sha256 });
        }
      }
    }
    for (const pkg of packages) {
      for (const conffile of pkg.conffiles) {
        if (wanted.has(conffile.path)) add(conffile.path, { provenance: dpkgProvenance(pkg.name, pkg.version, conffile.md5), algorithm: 'md5', digest: conffile.md5 });
      }
    }
    // Spack keeps no record of its own tree: its known test-key files are recorded by path and digest.
    const spackVersions = new Map<string, string>();
    for (const record of visible) {
      if (record.kind !== 'spack-version') continue;
      const root = spackRootOfVersionFile(record.path);
      const version = parseSpackVersion(record.text);
      if (root !== null && version) spackVersions.set(root, version);
    }
    for (const path of wanted) {
      const known = spackTestKeyAt(path);
      if (!known) continue;
      const provenance: Provenance = { manager: 'spack', package: 'spack', version: spackVersions.get(known.root) ?? 'unknown', recordedDigest: `sha256:${known.file.sha256}` };
      add(path, { provenance, algorithm: 'sha256', digest: known.file.sha256 });
    }
  }

  private addMd5sums(record: CapturedRecord, packages: DpkgPackage[], wanted: ReadonlySet<string>, add: (path: string, record: PathRecord) => void): void {
    const owner = parseMd5sumsName(record.path);
    if (!owner) return;
    let version: string | null = null;
    for (const line of record.text.split('\n')) {
      const file = parseMd5sumsLine(line);
      if (!file || !wanted.has(file.path)) continue;
      version ??= findVersion(packages, owner.name, owner.architecture);
      add(file.path, { provenance: dpkgProvenance(owner.name, version, file.md5), algorithm: 'md5', digest: file.md5 });
    }
  }

  /** Every record that names `path`. */
  recordsOf(path: string): PathRecord[] {
    return this.byPath.get(path) ?? [];
  }
}

function dpkgProvenance(name: string, version: string, md5: string): Provenance {
  return { manager: 'dpkg', package: name, version, recordedDigest: `md5:${md5}` };
}

function findVersion(packages: DpkgPackage[], name: string, architecture: string | null): string {
  const match = packages.find((p) => p.name === name && (architecture === null || p.architecture === architecture)) ?? packages.find((p) => p.name === name);
  return match?.version ?? 'unknown';
}
