// Where an audit keeps blob facts: `--state DIR` (kept, so an interrupted or repeated audit skips
// what is done) or memory (spilling large file lists to a temp directory removed at exit). One JSON record per blob, written atomically
// (a killed run leaves whole records or none), under a directory named by the facts fingerprint
// (detectors, public keys, allow list): records made under other settings are never reused.
import { mkdir, mkdtemp, readFile, rm, access, constants } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { EicBuildError } from '../errors.js';
import { releaseOnExit, removeOnExit } from '../exit-cleanup.js';
import { writeFileAtomically, describeWriteFailure } from '../io/output-file.js';
import type { CapturedRecord } from '../scan/provenance/index.js';
import { STATE_SCHEMA, type BlobFacts } from './blob-facts.js';

/** The removeOnExit kind of an audit's temp store. */
export const AUDIT_TEMP_KIND = 'audit-facts-temp';

/** Blob facts by kind and digest, and each layer's file list. */
export interface FactStore {
  /** The directory records live in. */
  readonly dir: string;
  /** True for a --state directory (kept after the run). */
  readonly persistent: boolean;
  /** Facts an earlier run recorded for this blob (same fingerprint), or undefined. */
  load(kind: BlobFacts['kind'], digest: string): Promise<BlobFacts | undefined>;
  /**
   * Record facts; a layer's file list (`files`) and package records (`records`) are written first,
   * so a record implies them.
   */
  save(facts: BlobFacts, files?: string[], records?: CapturedRecord[]): Promise<void>;
  /** The non-directory paths of a recorded layer. */
  readFiles(digest: string): Promise<string[]>;
  /** The package record files of a recorded layer (read only for tags with findings). */
  readRecords(digest: string): Promise<CapturedRecord[]>;
  /** Remove a temp store (a --state directory is kept). */
  close(): Promise<void>;
}

function recordName(kind: string, digest: string, suffix = ''): string {
  return `${kind}-${digest.replace(':', '-')}${suffix}.json`;
}

function stateError(dir: string, error: unknown): EicBuildError {
  return new EicBuildError('output-unwritable', `--state ${dir}: cannot write it: ${describeWriteFailure(join(dir, 'x'), error)}`, {
    hint: 'give --state a directory you can write (it is created if missing), or leave --state out',
    cause: error,
  });
}

/** File lists a run without --state keeps in memory before it spills them to a temp directory. */
const MEMORY_BUDGET_BYTES = 48 * 1024 * 1024;

/** Rough heap cost of a list of paths (V8 strings: the characters plus a header each). */
function listBytes(files: readonly string[]): number {
  return files.reduce((sum, path) => sum + path.length + 32, 0);
}

/** Rough heap cost of package records (dpkg's md5sums and status can be megabytes per layer). */
function recordBytes(records: readonly CapturedRecord[]): number {
  return records.reduce((sum, record) => sum + record.path.length + record.text.length + 64, 0);
}

/**
 * Without --state: facts live in memory (the caller keeps them), file lists too up to a budget,
 * past which they spill to a temp directory removed at exit. Nothing is ever loaded from an earlier run.
 */
function openMemoryStore(budgetBytes: number): FactStore {
  const kept = new Map<string, { files: string[]; records: CapturedRecord[] }>();
  let used = 0;
  let spill: Promise<FactStore> | undefined;
  return {
    dir: '(memory)',
    persistent: false,
    load: async () => undefined,
    async save(facts, files = [], records = []) {
      if (facts.kind !== 'layer') return;
      const cost = listBytes(files) + recordBytes(records);
      if (used + cost <= budgetBytes) {
        used += cost;
        kept.set(facts.digest, { files, records });
        return;
      }
      spill ??= openDiskStore(undefined, '');
      await (await spill).save(facts, files, records);
    },
    async readFiles(digest) {
      return kept.get(digest)?.files ?? (await (await spill!).readFiles(digest));
    },
    async readRecords(digest) {
      return kept.get(digest)?.records ?? (await (await spill!).readRecords(digest));
    },
    async close() {
      kept.clear();
      if (spill) await (await spill).close();
    },
  };
}

/** Open (creating) the store for `fingerprint` under `stateDir`, or a memory store when stateDir is undefined. */
export async function openFactStore(stateDir: string | undefined, fingerprint: string, options: { memoryBudgetBytes?: number } = {}): Promise<FactStore> {
  return stateDir === undefined ? openMemoryStore(options.memoryBudgetBytes ?? MEMORY_BUDGET_BYTES) : openDiskStore(stateDir, fingerprint);
}

async function openDiskStore(stateDir: string | undefined, fingerprint: string): Promise<FactStore> {
  let root: string;
  let dir: string;
  if (stateDir === undefined) {
    root = await mkdtemp(join(tmpdir(), 'eic-build-audit-'));
    removeOnExit(root, AUDIT_TEMP_KIND);
    dir = root;
  } else {
    root = stateDir;
    dir = join(stateDir, `v${STATE_SCHEMA}-${fingerprint}`);
    try {
      await mkdir(dir, { recursive: true });
      await access(dir, constants.W_OK);
    } catch (error) {
      throw stateError(stateDir, error);
    }
  }
  const write = async (path: string, value: unknown) => {
    try {
      await writeFileAtomically(path, JSON.stringify(value), 0o644);
    } catch (error) {
      throw stateError(root, error);
    }
  };
  return {
    dir,
    persistent: stateDir !== undefined,
    async load(kind, digest) {
      let text: string;
      try {
        text = await readFile(join(dir, recordName(kind, digest)), 'utf8');
      } catch {
        return undefined;
      }
      try {
        const record = JSON.parse(text) as { schema?: number; facts?: BlobFacts };
        // A record that is not what its name says (edited, another schema) is scanned again.
        if (record.schema !== STATE_SCHEMA || record.facts?.kind !== kind || record.facts.digest !== digest) return undefined;
        return record.facts;
      } catch {
        return undefined;
      }
    },
    async save(facts, files, records) {
      if (facts.kind === 'layer') {
        await write(join(dir, recordName('layer', facts.digest, '.files')), files ?? []);
        await write(join(dir, recordName('layer', facts.digest, '.records')), records ?? []);
      }
      await write(join(dir, recordName(facts.kind, facts.digest)), { schema: STATE_SCHEMA, facts });
    },
    readFiles: (digest) => readSide<string[]>(dir, digest, '.files', 'file list'),
    readRecords: (digest) => readSide<CapturedRecord[]>(dir, digest, '.records', 'package records'),
    async close() {
      if (stateDir !== undefined) return;
      await rm(root, { recursive: true, force: true });
      releaseOnExit(root);
    },
  };
}

/** A layer's file list or package records, stored beside its facts. */
async function readSide<T>(dir: string, digest: string, suffix: string, what: string): Promise<T> {
  try {
    return JSON.parse(await readFile(join(dir, recordName('layer', digest, suffix)), 'utf8')) as T;
  } catch (error) {
    throw new EicBuildError('input-corrupt', `the ${what} of layer ${digest} in ${dir} cannot be read: ${(error as Error).message}`, {
      hint: 'remove the --state directory and audit again',
    });
  }
}
