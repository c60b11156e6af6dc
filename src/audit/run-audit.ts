// `eic-build audit`: every tag of a repository resolved to its image manifests, every distinct
// layer and config blob scanned once (or its facts taken from --state), then a verdict per tag.
// Tags are resolved while blobs already stream and scan, so the network and the cores stay busy.
import { performance } from 'node:perf_hooks';
import { Transform } from 'node:stream';
import { EicBuildError } from '../errors.js';
import { createLimiter, type RegistryClient } from '../registry/index.js';
import type { DetectorKeys, KeyIdentity } from '../scan/detector-api.js';
import { scanLayerBlob, type LayerScanResult } from '../scan/layer-scan.js';
import { createContentScanner } from '../scan/detector-api.js';
import { openRegistryClient, parseRegistryTarget, readRegistryImages, registryScanConcurrency, type RegistryLayer, type RegistryTarget } from '../scan/registry-source.js';
import { validateAllowKeys } from '../scan/scan-target.js';
import { scanConfig } from '../scan/config-scan.js';
import { parseScanTuning } from '../scan/scan-tuning.js';
import { configFacts, factsFingerprint, layerFacts, type BlobFacts } from './blob-facts.js';
import { openFactStore, type FactStore } from './fact-store.js';
import type { AuditCounts } from '../progress/index.js';
import { compileTagFilter } from './tag-glob.js';
import { decideTag, leakedKeys, type BlobOutcomes, type LeakedKey, type TagResolution, type TagVerdict } from './tag-verdicts.js';

/** Options of runAudit. */
export interface AuditOptions {
  /** Tag globs (`--tags`); every tag when empty. */
  tagGlobs?: string[];
  publicKeys?: KeyIdentity[];
  /** Allowed key identities (`--allow-key`), validated here. */
  allowKeys?: string[];
  /** `--state DIR`: keep blob facts there and reuse those an earlier run recorded. */
  stateDir?: string;
  env?: NodeJS.ProcessEnv;
  /** Called as tags resolve and bytes and blobs complete, and once more at the end (src/progress's `startAuditProgress` shows it). */
  onProgress?: (counts: AuditCounts) => void;
  /** Tags per `/tags/list` page (default 1000). */
  tagPageSize?: number;
  /**
   * Provenance triage (default true): keys in files a package manager recorded byte for byte in
   * the same image are notes naming the package, as `eic-build scan` says them. false
   * (`--no-provenance`): every key is a finding.
   */
  provenance?: boolean;
}

/** The outcome of an audit. Data; only the command maps it to an exit code. */
export interface AuditReport {
  target: string;
  /** Some tag ships private key material. */
  leaked: boolean;
  /** Some tag could not be read whole: its verdict cannot be trusted. */
  unreadable: boolean;
  tags: TagVerdict[];
  /** Per leaked key, the tags to delete. */
  leakedKeys: LeakedKey[];
  stats: {
    tags: number;
    tagsInRepository: number;
    images: number;
    blobs: number;
    blobsScanned: number;
    blobsFromState: number;
    bytesDownloaded: number;
    bytesScanned: number;
    seconds: number;
  };
}

/** Tag manifests resolved at once (small requests; the client bounds all requests in flight). */
const RESOLVE_CONCURRENCY = 16;
/** State records read at once. */
const LOAD_CONCURRENCY = 16;

type BlobJob = { kind: 'layer'; layer: RegistryLayer } | { kind: 'config'; digest: string; size: number | null };

/** Counts bytes as they pass (progress of a long download). */
function byteCounter(onBytes: (bytes: number) => void): Transform {
  return new Transform({
    transform(chunk: Buffer, _encoding, callback) {
      onBytes(chunk.length);
      callback(null, chunk);
    },
  });
}

/** Audit every (selected) tag of `target` (`docker://HOST/REPO`). Throws only when the tag list cannot be read or an option is bad. */
export async function runAudit(targetText: string, options: AuditOptions = {}): Promise<AuditReport> {
  const started = performance.now();
  const env = options.env ?? process.env;
  const keys: DetectorKeys = { knownKeys: options.publicKeys ?? [], allowKeys: validateAllowKeys(options.allowKeys ?? [], '--allow-key') };
  const selected = compileTagFilter(options.tagGlobs ?? []);
  parseScanTuning(env);
  const target = parseRegistryTarget(targetText, { repositoryOnly: true });
  // An unwritable --state fails before any request is made.
  const store = await openFactStore(options.stateDir, factsFingerprint(keys));
  try {
    const client = await openRegistryClient(target, env);
    let allTags: string[];
    try {
      allTags = await client.listTags(target.repository, options.tagPageSize ?? 1000);
    } catch (error) {
      // The client's hint speaks of buildcache mirrors; say where an audit takes its login from.
      if (error instanceof EicBuildError && error.code === 'registry' && /credentials|user name and password|access denied/.test(error.message)) {
        throw new EicBuildError('registry', `cannot list the tags of ${target.text}: ${error.message}`, {
          hint: `log in for ${target.registry}: set CI_REGISTRY_USER/CI_REGISTRY_PASSWORD (with CI_REGISTRY=${target.registry}), or GITHUB_REGISTRY_USER/GITHUB_REGISTRY_TOKEN for ghcr.io, or run docker login ${target.registry}; the account needs pull access to ${target.repository}`,
          cause: error,
        });
      }
      throw error;
    }
    // Sorted: the report reads the same whatever order the registry lists tags in.
    const tags = allTags.filter(selected).sort();
    if (tags.length === 0) {
      throw new EicBuildError(
        'input-not-found',
        `${target.text}: ${allTags.length === 0 ? 'the repository has no tags' : `no tag of ${allTags.length} matches ${(options.tagGlobs ?? []).map((glob) => `--tags '${glob}'`).join(' ')}`}`,
        {
          hint: 'check the repository name and the --tags globs (quote them so the shell does not expand them)',
        },
      );
    }
    return await auditTags(target, tags, allTags.length, client, store, keys, env, options.onProgress, started, options.provenance !== false);
  } finally {
    await store.close();
  }
}

async function auditTags(
  target: RegistryTarget,
  tags: string[],
  tagsInRepository: number,
  client: RegistryClient,
  store: FactStore,
  keys: DetectorKeys,
  env: NodeJS.ProcessEnv,
  onProgress: ((counts: AuditCounts) => void) | undefined,
  started: number,
  provenance: boolean,
): Promise<AuditReport> {
  const repository = target.repository;
  const facts = new Map<string, BlobFacts>();
  const failures = new Map<string, string>();
  const jobs = new Map<string, Promise<void>>();
  const manifests = new Set<string>();
  let unexpected: unknown;
  const counts: AuditCounts = { tagsDone: 0, tagsTotal: tags.length, blobsDone: 0, blobsTotal: 0, blobsFromState: 0, bytesDone: 0, bytesTotal: 0, totalsFinal: false };
  let bytesScanned = 0;
  const tick = () => onProgress?.(counts);
  const loadLimit = createLimiter(LOAD_CONCURRENCY);
  const scanLimit = createLimiter(registryScanConcurrency(env));

  const fetchAndScan = async (job: BlobJob): Promise<BlobFacts> => {
    if (job.kind === 'config') {
      const bytes = await client.getBlobBytes(repository, job.digest);
      counts.bytesDone += bytes.length;
      bytesScanned += bytes.length;
      const result = configFacts(job.digest, bytes, keys);
      await store.save(result);
      return result;
    }
    const { layer } = job;
    const stream = await client.getBlob(repository, layer.digest);
    const counted = stream.pipe(
      byteCounter((bytes) => {
        counts.bytesDone += bytes;
        tick();
      }),
    );
    stream.on('error', (error) => counted.destroy(error));
    let result: LayerScanResult;
    try {
      result = await scanLayerBlob(
        counted,
        { label: `${target.text}: layer ${layer.digest}`, format: layer.format, check: { kind: 'blob', digest: layer.digest }, expectedSize: layer.size, keys },
        createContentScanner,
      );
    } finally {
      stream.destroy();
    }
    bytesScanned += result.bytesScanned;
    const recorded = layerFacts(layer.digest, layer.format, result);
    await store.save(recorded, result.files, result.provenance?.records ?? []);
    return recorded;
  };

  const runBlob = async (key: string, job: BlobJob, size: number | null): Promise<void> => {
    try {
      const known = await loadLimit(() => store.load(job.kind, job.kind === 'config' ? job.digest : job.layer.digest));
      if (known) {
        facts.set(key, known);
        counts.blobsFromState += 1;
      } else {
        counts.bytesTotal += size ?? 0;
        facts.set(key, await scanLimit(() => fetchAndScan(job)));
      }
    } catch (error) {
      if (error instanceof EicBuildError) failures.set(key, error.message);
      else unexpected ??= error;
    }
    counts.blobsDone += 1;
    tick();
  };

  const ensureBlob = (job: BlobJob) => {
    const digest = job.kind === 'config' ? job.digest : job.layer.digest;
    const key = `${job.kind}:${digest}`;
    if (jobs.has(key)) return;
    counts.blobsTotal += 1;
    jobs.set(key, runBlob(key, job, job.kind === 'config' ? job.size : job.layer.size));
  };

  const resolveLimit = createLimiter(RESOLVE_CONCURRENCY);
  const resolutions: TagResolution[] = await Promise.all(
    tags.map((tag) =>
      resolveLimit(async (): Promise<TagResolution> => {
        let resolution: TagResolution;
        try {
          const resolved = await readRegistryImages(client, repository, tag);
          for (const image of resolved.images) {
            manifests.add(image.manifestDigest);
            ensureBlob({ kind: 'config', digest: image.config.digest, size: image.config.size });
            for (const layer of image.layers) ensureBlob({ kind: 'layer', layer });
          }
          resolution = { tag, ok: true, digest: resolved.digest, images: resolved.images };
        } catch (error) {
          // Whatever goes wrong reading one tag's manifests makes that tag unreadable, not the audit.
          resolution = {
            tag,
            ok: false,
            reason: error instanceof EicBuildError ? error.message : `its manifests could not be read (${error instanceof Error ? error.message : String(error)})`,
          };
        }
        counts.tagsDone += 1;
        tick();
        return resolution;
      }),
    ),
  );
  counts.totalsFinal = true;
  await Promise.all(jobs.values());
  if (unexpected !== undefined) throw unexpected;
  tick();

  const outcomes: BlobOutcomes = {
    facts: ((kind: BlobFacts['kind'], digest: string) => facts.get(`${kind}:${digest}`)) as BlobOutcomes['facts'],
    failure: (kind, digest) => failures.get(`${kind}:${digest}`),
    files: (digest) => store.readFiles(digest),
    records: (digest) => store.readRecords(digest),
    annotations: (values) => scanConfig(null, keys, values),
  };
  const verdicts: TagVerdict[] = [];
  for (const resolution of resolutions) verdicts.push(await decideTag(resolution, outcomes, { provenance }));
  return {
    target: target.text,
    leaked: verdicts.some((verdict) => verdict.findings.length > 0),
    unreadable: verdicts.some((verdict) => verdict.unreadable.length > 0),
    tags: verdicts,
    leakedKeys: leakedKeys(verdicts),
    stats: {
      tags: tags.length,
      tagsInRepository,
      images: manifests.size,
      blobs: jobs.size,
      blobsScanned: jobs.size - counts.blobsFromState - failures.size,
      blobsFromState: counts.blobsFromState,
      bytesDownloaded: counts.bytesDone,
      bytesScanned: bytesScanned,
      seconds: (performance.now() - started) / 1000,
    },
  };
}
