// eic-build audit against a real registry (Debian's docker-registry on loopback) of 66 tags built
// from shared layers; a counting front (test/helpers/http-fronts) watches which blobs are fetched.
import test from 'ava';
import { readdir, rm, mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { auditCommand } from '../../src/commands/audit.js';
import { memoryIo } from '../../src/cli-io.js';
import { RegistryClient } from '../../src/registry/index.js';
import type { AuditReport } from '../../src/audit/index.js';
import { execa } from 'execa';
import { fileURLToPath } from 'node:url';
import { repoRoot, runCli } from '../helpers/cli.js';
import { startFront, type LoopbackServer } from '../helpers/http-fronts.js';
import { startRegistry, type TestRegistry } from '../helpers/registry.js';
import { blobGetDigest, makeWorldKeys, pushWorld, standardWorld, type PushedWorld, type WorldKeys, type WorldPlan } from './registry-world.js';

const REPO = 'eic/eic_xl';

interface Context {
  registry: TestRegistry;
  keys: WorldKeys;
  plan: WorldPlan;
  world: PushedWorld;
  work: string;
}

let ctx: Context;

test.before(async () => {
  const registry = await startRegistry();
  const keys = await makeWorldKeys();
  const plan = standardWorld(keys);
  const world = await pushWorld(new RegistryClient({ registry: registry.host }), REPO, plan.tags);
  const work = await mkdtemp(join(tmpdir(), 'eic-build-audit-test-'));
  ctx = { registry, keys, plan, world, work };
});

test.after.always(async () => {
  await ctx?.registry.stop();
  await ctx?.keys.cleanup();
  if (ctx?.work) await rm(ctx.work, { recursive: true, force: true });
});

/** A front counting blob GETs per digest. */
async function countingFront(onBlob?: (digest: string, fetches: Map<string, number>) => void): Promise<{ front: LoopbackServer; fetches: Map<string, number> }> {
  const fetches = new Map<string, number>();
  const front = await startFront(ctx.registry.url, {
    onRequest: (req) => {
      const digest = blobGetDigest(req.method, req.url);
      if (!digest) return;
      fetches.set(digest, (fetches.get(digest) ?? 0) + 1);
      onBlob?.(digest, fetches);
    },
  });
  return { front, fetches };
}

async function audit(args: string[]): Promise<{ exit: number; report: AuditReport; stderr: string }> {
  const io = memoryIo({});
  const exit = await auditCommand([...args, '--format', 'json', '--progress', 'plain'], io);
  return { exit, report: JSON.parse(io.stdout) as AuditReport, stderr: io.stderr };
}

/** The CLI as a child process that can be killed (runCli's promise hides the process). */
function spawnCli(args: string[]) {
  return execa(process.execPath, ['--import', 'tsx', fileURLToPath(new URL('../../src/cli.ts', import.meta.url)), ...args], { cwd: repoRoot, reject: false });
}

const leaky = (report: AuditReport) =>
  report.tags
    .filter((tag) => tag.status === 'leaked')
    .map((tag) => tag.tag)
    .sort();

test.serial('[integration] audit of 66 tags names exactly the leaky ones, each blob fetched once, per key the tags to delete', async (t) => {
  const { front, fetches } = await countingFront();
  try {
    const { exit, report, stderr } = await audit([`docker://${front.host}/${REPO}`, '--public-key', ctx.keys.pgpPublicFile]);
    t.is(exit, 1);
    t.is(report.tags.length, 66);
    t.deepEqual(leaky(report), [...ctx.plan.pgpTags, ...ctx.plan.pemTags].sort());
    t.false(report.unreadable);
    // Every distinct layer and config blob fetched exactly once, however many tags share it.
    t.is(fetches.size, ctx.world.blobs.size);
    t.deepEqual([...fetches.keys()].sort(), [...ctx.world.blobs].sort());
    t.true(
      [...fetches.values()].every((count) => count === 1),
      JSON.stringify([...fetches].filter(([, n]) => n > 1)),
    );
    t.is(report.stats.blobs, ctx.world.blobs.size);

    const byTag = new Map(report.tags.map((tag) => [tag.tag, tag]));
    // Visible vs hidden is decided per image from the shared blob facts.
    t.true(byTag.get('leak-visible')!.findings.every((finding) => finding.visibleInFinalImage && finding.path === 'root/.gnupg/signing-key.asc'));
    const hidden = byTag.get('leak-hidden')!.findings;
    t.is(hidden.length, 1);
    t.false(hidden[0]!.visibleInFinalImage);
    t.deepEqual(hidden[0]!.hiddenBy && { index: hidden[0]!.hiddenBy.index, how: hidden[0]!.hiddenBy.how }, { index: 3, how: 'whiteout' });
    // A leak only in the arm64 image of an index: found there, not in amd64.
    const arm = byTag.get('leak-arm64-only')!;
    t.deepEqual([...new Set(arm.findings.map((finding) => finding.image.platform))], ['linux/arm64']);
    t.is(arm.images.filter((image) => image.kind === 'attestation').length, 2);
    // A key only in the config.
    const config = byTag.get('leak-config')!.findings;
    t.true(config.length > 0 && config.every((finding) => finding.source === 'config' && finding.field === 'config.Env[0]'));
    t.true(byTag.get('leak-visible')!.findings.every((finding) => finding.matchesPublicKey));

    // Per leaked key, the tags to delete.
    t.is(report.leakedKeys.length, 2);
    const pgp = report.leakedKeys.find((key) => key.matchesPublicKey)!;
    const pem = report.leakedKeys.find((key) => !key.matchesPublicKey)!;
    t.deepEqual([...pgp.tags].sort(), ctx.plan.pgpTags);
    t.deepEqual([...pem.tags].sort(), ctx.plan.pemTags);
    // Progress went to stderr, with totals; stdout is one JSON object and no key byte.
    t.regex(stderr, /audit: tags 66\/66, blobs \d+\/\d+/);
    t.notRegex(JSON.stringify(report), /PRIVATE KEY-----\n[A-Za-z0-9+/]/);
  } finally {
    front.close();
  }
});

test.serial('[integration] --tags selects, the Link-paginated tag list is followed, text output lists delete commands', async (t) => {
  const io = memoryIo({});
  const exit = await auditCommand([`docker://${ctx.registry.host}/${REPO}`, '--tags', 'leak-shared-*', '--tags', 'nightly-00[0-2]', '--progress', 'quiet'], io);
  t.is(exit, 1);
  t.is(io.stderr, '');
  t.regex(io.stdout, /5 tag\(s\) \(of 66\)/);
  t.regex(io.stdout, new RegExp(`skopeo delete docker://${ctx.registry.host}/${REPO}:leak-shared-a`));
  t.regex(io.stdout, /clean tags: nightly-000 nightly-001 nightly-002/);
  // Pagination: the library with a page of 7 tags sees the same 66 tags.
  const { runAudit } = await import('../../src/audit/index.js');
  const pages: string[] = [];
  // distribution 2.8 (Debian's docker-registry) answers the whole list whatever `n` asks: this front
  // pages it with Link headers as distribution 3, GHCR and GitLab do (a stand-in for their paging).
  const front = await startFront(ctx.registry.url, {
    intercept: (req, res) => {
      if (!req.url?.includes('/tags/list')) return false;
      pages.push(req.url);
      const url = new URL(req.url, 'http://front');
      void fetch(`${ctx.registry.url}${url.pathname}`).then(async (upstream) => {
        const all = ((await upstream.json()) as { tags: string[] }).tags.sort();
        const n = Number(url.searchParams.get('n') ?? 100);
        const last = url.searchParams.get('last');
        const page = all.filter((tag) => last === null || tag > last).slice(0, n);
        const more = page.length === n && all.at(-1) !== page.at(-1);
        const headers: Record<string, string> = { 'content-type': 'application/json' };
        if (more) headers.link = `<${url.pathname}?n=${n}&last=${encodeURIComponent(page.at(-1)!)}>; rel="next"`;
        res.writeHead(200, headers).end(JSON.stringify({ name: REPO, tags: page }));
      });
      return true;
    },
  });
  try {
    const report = await runAudit(`docker://${front.host}/${REPO}`, { tagPageSize: 7, tagGlobs: ['nightly-05*'] });
    t.deepEqual(
      report.tags.map((tag) => tag.tag),
      Array.from({ length: 10 }, (_, i) => `nightly-05${i}`),
    );
    t.is(report.stats.tagsInRepository, 66);
    // 66 tags, 7 a page: ten pages, each after the first named by the previous page's Link header.
    t.is(pages.length, 10);
    t.true(pages.slice(1).every((url) => /[?&]last=/.test(url)));
  } finally {
    front.close();
  }
});

const killedMidway = test.macro({
  async exec(t, signal: 'SIGKILL' | 'SIGTERM') {
    const state = join(ctx.work, `state-${signal}`);
    let child: ReturnType<typeof spawnCli> | undefined;
    let armed = true;
    // The kill lands when the 40th distinct blob is asked for: midway through the audit.
    const { front, fetches } = await countingFront((_digest, seen) => {
      if (armed && seen.size === 40) child?.kill(signal);
    });
    try {
      child = spawnCli(['audit', `docker://${front.host}/${REPO}`, '--state', state, '--format', 'json', '--progress', 'quiet']);
      const killed = await child;
      armed = false;
      t.is(killed.signal, signal);
      const records = (await readdir(join(state, (await readdir(state))[0]!))).filter((name) => !/\.(files|records)\.json$/.test(name) && name.endsWith('.json'));
      const recorded = new Set(
        records.map((name) =>
          name
            .replace(/^(layer|config)-/, '')
            .replace(/\.json$/, '')
            .replace('-', ':'),
        ),
      );
      t.true(recorded.size > 0 && recorded.size < ctx.world.blobs.size, `recorded ${recorded.size}`);
      const before = new Map(fetches);
      const rerun = await runCli(['audit', `docker://${front.host}/${REPO}`, '--state', state, '--format', 'json', '--progress', 'quiet']);
      t.is(rerun.exitCode, 1, rerun.stderr as string);
      const report = JSON.parse(rerun.stdout as string) as AuditReport;
      t.deepEqual(leaky(report), [...ctx.plan.pgpTags, ...ctx.plan.pemTags].sort());
      const second = [...fetches].map(([digest, n]) => [digest, n - (before.get(digest) ?? 0)] as const).filter(([, n]) => n > 0);
      t.true(
        second.every(([, n]) => n === 1),
        'no blob twice in the second run',
      );
      t.deepEqual(
        second.filter(([digest]) => recorded.has(digest)),
        [],
        'nothing recorded by the killed run is fetched again',
      );
      t.is(report.stats.blobsFromState, recorded.size);
      // A third run with the state fetches nothing at all.
      const settled = new Map(fetches);
      const third = await runCli(['audit', `docker://${front.host}/${REPO}`, '--state', state, '--format', 'json', '--progress', 'quiet']);
      t.is(third.exitCode, 1);
      t.deepEqual(fetches, settled);
    } finally {
      front.close();
    }
  },
  title: (_, signal) => `[integration] an audit killed midway (${signal}) and re-run with --state fetches no finished blob again`,
});

test.serial(killedMidway, 'SIGKILL');
test.serial(killedMidway, 'SIGTERM');

test.serial('[integration] --state records are keyed by the public keys: another --public-key scans again', async (t) => {
  const state = join(ctx.work, 'state-keys');
  const { front, fetches } = await countingFront();
  try {
    await audit([`docker://${front.host}/${REPO}`, '--tags', 'leak-*', '--state', state]);
    const after = [...fetches.values()].reduce((a, b) => a + b, 0);
    t.true(after > 0);
    const again = await audit([`docker://${front.host}/${REPO}`, '--tags', 'leak-*', '--state', state]);
    t.is(
      [...fetches.values()].reduce((a, b) => a + b, 0),
      after,
    );
    t.false(again.report.tags.some((tag) => tag.findings.some((finding) => finding.matchesPublicKey)));
    const keyed = await audit([`docker://${front.host}/${REPO}`, '--tags', 'leak-*', '--state', state, '--public-key', ctx.keys.pgpPublicFile]);
    t.true([...fetches.values()].reduce((a, b) => a + b, 0) > after);
    t.true(keyed.report.tags.some((tag) => tag.findings.some((finding) => finding.matchesPublicKey)));
  } finally {
    front.close();
  }
});

test.serial('[integration] scan docker://HOST/REPO:TAG and @sha256 stream from the registry with the same report and exit codes', async (t) => {
  const leak = await runCli(['scan', `docker://${ctx.registry.host}/${REPO}:leak-arm64-only`, '--format', 'json']);
  t.is(leak.exitCode, 1, leak.stderr as string);
  const report = JSON.parse(leak.stdout as string) as { findings: { image: { platform: string } }[]; stats: { images: number } };
  t.is(report.stats.images, 4);
  t.true(report.findings.every((finding) => finding.image.platform === 'linux/arm64'));
  const digest = ctx.world.tagDigests.get('nightly-001')!;
  const clean = await runCli(['scan', `docker+http://${ctx.registry.host}/${REPO}@${digest}`]);
  t.is(clean.exitCode, 0, clean.stderr as string);
  t.regex(clean.stdout as string, /no private key material found/);
  const missing = await runCli(['scan', `docker://${ctx.registry.host}/${REPO}:no-such-tag`]);
  t.is(missing.exitCode, 2);
  t.regex(missing.stderr as string, /no-such-tag does not exist/);
});
