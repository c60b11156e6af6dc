// The pure parts of audit and of docker:// targets, as tables: tag globs, per-image
// visibility from shared blob facts, grouping per key, registry targets, CI credentials; and the
// fact store on a real temp directory.
import test from 'ava';
import { mkdtemp, readdir, rm, writeFile, chmod } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { configFacts, factsFingerprint, type LayerFacts } from '../../src/audit/blob-facts.js';
import { AUDIT_TEMP_KIND, openFactStore } from '../../src/audit/fact-store.js';
import { deleteCommand } from '../../src/audit/format-audit.js';
import { compileTagFilter, globToRegExp } from '../../src/audit/tag-glob.js';
import { decideTag, leakedKeys, type BlobOutcomes, type TagResolution } from '../../src/audit/tag-verdicts.js';
import { liveDirCount } from '../../src/exit-cleanup.js';
import { EicBuildError } from '../../src/errors.js';
import { credentialsFromCiVariables } from '../../src/registry/index.js';
import type { LayerFinding } from '../../src/scan/entry-sink.js';
import { isRegistryTarget, parseRegistryTarget } from '../../src/scan/registry-source.js';
import { resolveTarget } from '../../src/scan/target.js';

const D = (n: number) => `sha256:${String(n).padStart(64, '0')}`;

test('tag globs: * ? [..] [!..], anchored; a bad glob is a usage error naming it', (t) => {
  const cases: [string, string, boolean][] = [
    ['nightly-*', 'nightly-2025-01-14', true],
    ['nightly-*', 'v1-nightly-x', false],
    ['v1.?.0', 'v1.4.0', true],
    ['v1.?.0', 'v1.14.0', false],
    ['v1.[0-3].*', 'v1.2.9', true],
    ['v1.[!0-3].*', 'v1.2.9', false],
    ['v1.[!0-3].*', 'v1.7.9', true],
    ['a.b', 'aXb', false],
    ['*', 'anything', true],
  ];
  for (const [glob, tag, expected] of cases) t.is(globToRegExp(glob).test(tag), expected, `${glob} ~ ${tag}`);
  t.true(compileTagFilter([])('x'));
  t.deepEqual(['a-1', 'b-1', 'c'].filter(compileTagFilter(['a-*', 'c'])), ['a-1', 'c']);
  for (const bad of ['a/b', '', 'x[ab', 'sp ace']) {
    const error = t.throws(() => globToRegExp(bad), { instanceOf: EicBuildError });
    t.is(error.code, 'usage');
  }
});

function finding(path: string | null, fingerprint: string): LayerFinding {
  return {
    detector: 'pgp-armored-private-key',
    kind: 'armored',
    severity: 'critical',
    offset: 0,
    excerpt: '[redacted]',
    message: 'OpenPGP private key',
    fingerprints: [fingerprint],
    keygrips: [],
    matchesPublicKey: false,
    path,
    nestedPath: null,
  } as unknown as LayerFinding;
}

function layer(digest: string, extra: Partial<LayerFacts> = {}): LayerFacts {
  return {
    kind: 'layer',
    digest,
    format: 'tar',
    blobBytes: 1,
    bytesScanned: 1,
    findings: [],
    notes: [],
    whiteouts: [],
    opaqueDirs: [],
    fileCount: 0,
    digests: [],
    skippedRecords: [],
    recordCount: 0,
    ...extra,
  };
}

test('visibility is decided per image from shared blob facts: one leaky blob, hidden in one tag, visible in another', async (t) => {
  const leaky = layer(D(1), { findings: [finding('etc/key.asc', 'AAAA')] });
  const overwrite = layer(D(2));
  const other = layer(D(3), { whiteouts: ['etc/key.asc'] });
  const files = new Map([
    [D(2), ['etc/key.asc']],
    [D(1), ['etc/key.asc']],
    [D(3), []],
  ]);
  const facts = new Map<string, unknown>([
    [`layer:${D(1)}`, leaky],
    [`layer:${D(2)}`, overwrite],
    [`layer:${D(3)}`, other],
    [
      `config:${D(9)}`,
      configFacts(D(9), Buffer.from('{"os":"linux","architecture":"arm64","rootfs":{"diff_ids":[1,2]},"history":[{"created_by":"COPY key"},{"created_by":"RUN x"}]}'), {
        knownKeys: [],
        allowKeys: [],
      }),
    ],
  ]);
  const readFiles: string[] = [];
  const outcomes: BlobOutcomes = {
    facts: ((kind: string, digest: string) => facts.get(`${kind}:${digest}`)) as BlobOutcomes['facts'],
    failure: (_kind, digest) => (digest === D(7) ? 'HTTP 404' : undefined),
    files: async (digest) => {
      readFiles.push(digest);
      return files.get(digest) ?? [];
    },
  };
  const image = (layers: string[]) => ({
    kind: 'image' as const,
    manifestDigest: D(50 + layers.length),
    platform: null,
    config: { digest: D(9), size: 1 },
    layers: layers.map((digest) => ({ digest, mediaType: null, size: 1, format: 'tar' as const })),
  });
  const hiddenByOverwrite: TagResolution = { tag: 'a', ok: true, digest: D(20), images: [image([D(1), D(2)])] };
  const visible: TagResolution = { tag: 'b', ok: true, digest: D(21), images: [image([D(2), D(1)])] };
  const whiteout: TagResolution = { tag: 'c', ok: true, digest: D(22), images: [image([D(1), D(3), D(2)])] };
  const broken: TagResolution = { tag: 'd', ok: true, digest: D(23), images: [image([D(2), D(7)])] };
  const gone: TagResolution = { tag: 'e', ok: false, reason: 'manifest unknown' };

  const a = await decideTag(hiddenByOverwrite, outcomes);
  t.is(a.status, 'leaked');
  t.false(a.findings[0]!.visibleInFinalImage);
  t.deepEqual(a.findings[0]!.hiddenBy, { index: 1, digest: D(2), how: 'overwritten' });
  t.is(a.findings[0]!.createdBy, 'COPY key');
  t.is(a.findings[0]!.image.platform, 'linux/arm64');
  const b = await decideTag(visible, outcomes);
  t.true(b.findings[0]!.visibleInFinalImage);
  const c = await decideTag(whiteout, outcomes);
  t.deepEqual(c.findings[0]!.hiddenBy?.how, 'whiteout');
  // File lists are read only for layers above a finding.
  t.false(readFiles.includes(D(1)));
  const d = await decideTag(broken, outcomes);
  t.is(d.status, 'unreadable');
  t.regex(d.unreadable[0]!, new RegExp(`layer 1 ${D(7)} of .*HTTP 404`));
  const e = await decideTag(gone, outcomes);
  t.deepEqual([e.status, e.unreadable], ['unreadable', ['manifest unknown']]);
  t.deepEqual(
    leakedKeys([a, b, c, d, e]).map((key) => [key.key, key.tags]),
    [['AAAA', ['a', 'b', 'c']]],
  );
});

test('docker:// targets: tag, digest, plain HTTP; repository-only for audit; errors name the target', async (t) => {
  const digest = `sha256:${'ab'.repeat(32)}`;
  t.like(parseRegistryTarget('docker://registry.example.org/eic/eic_xl:nightly'), {
    registry: 'registry.example.org',
    repository: 'eic/eic_xl',
    reference: 'nightly',
    insecure: undefined,
  });
  t.like(parseRegistryTarget(`docker+http://10.0.0.5:5000/eic/x@${digest}`), { registry: '10.0.0.5:5000', repository: 'eic/x', reference: digest, insecure: true });
  t.like(parseRegistryTarget('docker://ubuntu:24.04'), { registry: 'docker.io', repository: 'library/ubuntu' });
  t.like(parseRegistryTarget('docker://registry.example.org/eic/eic_xl', { repositoryOnly: true }), { reference: null });
  t.true(isRegistryTarget('docker://x/y:z'));
  t.false(isRegistryTarget('docker-daemon:x'));
  for (const [text, pattern, options] of [
    ['docker://registry.example.org/eic/eic_xl', /names no tag or digest/, {}],
    ['docker://registry.example.org/eic/eic_xl:t', /names a tag or digest/, { repositoryOnly: true }],
    ['docker://registry.example.org/Eic', /invalid registry target/, {}],
    [`docker://r.example.org/a:t@${digest}`, /both a tag and a digest/, {}],
  ] as const) {
    const error = t.throws(() => parseRegistryTarget(text, options), { instanceOf: EicBuildError });
    t.regex(error.message, pattern);
    t.is(error.code, 'usage');
  }
  t.like(await resolveTarget('docker://registry.example.org/eic/eic_xl:nightly'), { kind: 'registry' });
  t.is(deleteCommand('docker+http://127.0.0.1:5000/eic/x', 'v1'), 'skopeo delete --tls-verify=false docker://127.0.0.1:5000/eic/x:v1');
});

test('CI credentials: CI_REGISTRY_* for the CI registry, GITHUB_REGISTRY_* for ghcr.io; never for another host', (t) => {
  const env = {
    CI_REGISTRY: 'registry.example.org',
    CI_REGISTRY_USER: 'gitlab-ci-token',
    CI_REGISTRY_PASSWORD: 'job-token-1',
    GITHUB_REGISTRY_USER: 'bot',
    GITHUB_REGISTRY_TOKEN: 'ghp-token-2',
  };
  t.deepEqual(credentialsFromCiVariables('registry.example.org', env), { username: 'gitlab-ci-token', password: 'job-token-1' });
  t.deepEqual(credentialsFromCiVariables('ghcr.io', env), { username: 'bot', password: 'ghp-token-2' });
  t.is(credentialsFromCiVariables('other.example.org', env), undefined);
  t.is(credentialsFromCiVariables('registry.example.org', { CI_REGISTRY: 'registry.example.org', CI_REGISTRY_USER: 'u' }), undefined);
  t.deepEqual(credentialsFromCiVariables('ghcr.example.org', { ...env, GITHUB_REGISTRY: 'ghcr.example.org' }), { username: 'bot', password: 'ghp-token-2' });
});

test('fact store: records by fingerprint, atomically; other keys see nothing; memory store spills past its budget and cleans up', async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'eic-build-audit-store-'));
  try {
    const none = factsFingerprint({ knownKeys: [], allowKeys: [] });
    const allowed = factsFingerprint({ knownKeys: [], allowKeys: ['A'.repeat(40)] });
    t.not(none, allowed);
    const store = await openFactStore(join(dir, 'state'), none);
    const records = [{ path: 'var/lib/dpkg/status', kind: 'dpkg-status' as const, text: 'Package: a\n' }];
    await store.save(layer(D(1), { fileCount: 2, recordCount: 1 }), ['a', 'b/c'], records);
    t.like(await store.load('layer', D(1)), { digest: D(1), fileCount: 2, recordCount: 1 });
    t.is(await store.load('config', D(1)), undefined);
    t.deepEqual(await store.readFiles(D(1)), ['a', 'b/c']);
    t.deepEqual(await store.readRecords(D(1)), records);
    t.is(await (await openFactStore(join(dir, 'state'), allowed)).load('layer', D(1)), undefined);
    // A damaged record is scanned again, not trusted.
    const recordDir = join(
      dir,
      'state',
      (await readdir(join(dir, 'state'))).find((name) => name.endsWith(none))!,
    );
    await writeFile(join(recordDir, `layer-${D(1).replace(':', '-')}.json`), '{"schema":1,"facts":{"kind":"layer","dig');
    t.is(await store.load('layer', D(1)), undefined);
    t.false((await readdir(recordDir)).some((name) => name.endsWith('.tmp')));

    const memory = await openFactStore(undefined, none, { memoryBudgetBytes: 100 });
    await memory.save(layer(D(2)), ['small']);
    await memory.save(
      layer(D(3)),
      Array.from({ length: 10 }, (_, i) => `path/${i}`),
    );
    // Package records count against the budget too: these spill.
    await memory.save(layer(D(4), { recordCount: 1 }), [], records);
    t.is(liveDirCount(AUDIT_TEMP_KIND), 1);
    t.deepEqual(await memory.readFiles(D(2)), ['small']);
    t.deepEqual(await memory.readRecords(D(2)), []);
    t.is((await memory.readFiles(D(3))).length, 10);
    t.deepEqual(await memory.readRecords(D(4)), records);
    t.is(await memory.load('layer', D(2)), undefined);
    await memory.close();
    t.is(liveDirCount(AUDIT_TEMP_KIND), 0);

    if (process.getuid?.() !== 0) {
      await chmod(join(dir, 'state'), 0o500);
      const error = await t.throwsAsync(openFactStore(join(dir, 'state'), allowed + 'x'), { instanceOf: EicBuildError });
      t.is(error?.code, 'output-unwritable');
    }
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});
