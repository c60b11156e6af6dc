// Tags whose verdict cannot be trusted: a missing blob, a manifest that does not match its digest,
// a registry that fails; and the auth challenge of an htpasswd registry. The registry is real
// (docker-registry on loopback); a front changes what it answers only where a real registry cannot
// be made to fail on cue (wrong bytes, HTTP 500), as test/helpers/http-fronts says.
import test from 'ava';
import { execa } from 'execa';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { AuditReport } from '../../src/audit/index.js';
import { memoryIo } from '../../src/cli-io.js';
import { main } from '../../src/cli.js';

const auditCommand = (argv: string[], io: ReturnType<typeof memoryIo>) => main(['audit', ...argv], io);
import { RegistryClient } from '../../src/registry/index.js';
import { flipLastByte, requestPath, startFront } from '../helpers/http-fronts.js';
import { startRegistry, type TestRegistry } from '../helpers/registry.js';
import { filler, makeWorldKeys, pushWorld, type TagSpec, type WorldKeys } from './registry-world.js';

const REPO = 'eic/broken';

let registry: TestRegistry;
let keys: WorldKeys;
let missingLayer: string;

const base = { files: { 'usr/lib/libbase.so': filler(7, 64 * 1024) } };
const tags = (keys: WorldKeys): TagSpec[] => [
  { tag: 'fine', image: { layers: [base, { files: { 'etc/fine': 'ok\n' } }] } },
  { tag: 'flaky', image: { layers: [base, { files: { 'etc/flaky': 'ok\n' } }] } },
  { tag: 'down', image: { layers: [base, { files: { 'etc/down': 'ok\n' } }] } },
  { tag: 'bad-manifest', image: { layers: [base, { files: { 'etc/bad': 'ok\n' } }] } },
  { tag: 'missing-blob', image: { layers: [base, { files: { 'etc/missing': 'gone\n' } }] } },
  { tag: 'leaky', image: { layers: [base, { files: { 'root/key.asc': keys.pgpSecret } }] } },
];

test.before(async () => {
  registry = await startRegistry();
  keys = await makeWorldKeys();
  const client = new RegistryClient({ registry: registry.host });
  const world = await pushWorld(client, REPO, tags(keys));
  // The registry loses the top layer of one tag (deletion is enabled in the test registry).
  missingLayer = world.blobsOf.get('missing-blob')!.at(-2)!;
  await client.deleteBlob(REPO, missingLayer);
});

test.after.always(async () => {
  await registry?.stop();
  await keys?.cleanup();
});

async function audit(host: string, extra: string[] = [], env: NodeJS.ProcessEnv = {}): Promise<{ exit: number; report: AuditReport; stderr: string }> {
  const io = memoryIo(env);
  const exit = await auditCommand([`docker://${host}/${REPO}`, '--format', 'json', '--progress', 'quiet', ...extra], io);
  return { exit, report: JSON.parse(io.stdout) as AuditReport, stderr: io.stderr };
}

test('[integration] a missing blob, a manifest not matching its digest, a registry failing: exit 2 naming each tag; 500 then recovery is retried', async (t) => {
  let flakyFailures = 0;
  const front = await startFront(registry.url, {
    // Stand-ins for what a real registry cannot do on cue: fail, recover, serve other bytes.
    intercept: (req, res) => {
      const path = requestPath(req);
      if (path.endsWith('/manifests/flaky') && req.method === 'GET' && flakyFailures < 2) {
        flakyFailures += 1;
        res.writeHead(500).end('{"errors":[{"code":"UNKNOWN"}]}');
        return true;
      }
      if (path.endsWith('/manifests/down')) {
        res.writeHead(503).end('maintenance');
        return true;
      }
      return false;
    },
    rewrite: (req, body) => (requestPath(req).endsWith('/manifests/bad-manifest') && req.method === 'GET' ? flipLastByte(body) : body),
  });
  try {
    const { exit, report } = await audit(front.host);
    t.is(exit, 2);
    t.is(flakyFailures, 2);
    const status = Object.fromEntries(report.tags.map((tag) => [tag.tag, tag.status]));
    t.deepEqual(status, { 'bad-manifest': 'unreadable', down: 'unreadable', fine: 'clean', flaky: 'clean', leaky: 'leaked', 'missing-blob': 'unreadable' });
    const why = Object.fromEntries(report.tags.map((tag) => [tag.tag, tag.unreadable.join(' ')]));
    t.regex(why['bad-manifest']!, /content hashes to sha256:[0-9a-f]{64}, expected sha256:/);
    t.regex(why.down!, /HTTP 503/);
    t.regex(why['missing-blob']!, new RegExp(`layer 1 ${missingLayer}.*HTTP 404`));
    t.true(report.unreadable);
    t.true(report.leaked);
    // The text report names each unreadable tag.
    const io = memoryIo({});
    t.is(await auditCommand([`docker://${front.host}/${REPO}`, '--progress', 'quiet'], io), 2);
    t.regex(io.stdout, /unreadable tags[^\n]*\n {2}bad-manifest:\n[^\n]*\n {2}down:\n[^\n]*\n {2}missing-blob:/);
  } finally {
    front.close();
  }
});

test('[integration] an htpasswd registry: no credentials is exit 2 with a hint; the docker config or the CI variables log in', async (t) => {
  const { stdout } = await execa('htpasswd', ['-nbB', 'auditor', 'audit-pass-789']);
  const secured = await startRegistry({ htpasswd: `${stdout.trim()}\n` });
  const work = await mkdtemp(join(tmpdir(), 'eic-build-audit-auth-'));
  try {
    await pushWorld(new RegistryClient({ registry: secured.host, credentials: { username: 'auditor', password: 'audit-pass-789' } }), REPO, tags(keys).slice(0, 2));
    const anonymous = memoryIo({ DOCKER_CONFIG: work });
    t.is(await auditCommand([`docker://${secured.host}/${REPO}`, '--progress', 'quiet'], anonymous), 2);
    t.regex(anonymous.stderr, /asks for a user name and password/);
    t.regex(anonymous.stderr, /hint: log in for 127\.0\.0\.1:\d+: set CI_REGISTRY_USER/);
    t.is(anonymous.stdout, '');

    await writeFile(join(work, 'config.json'), JSON.stringify({ auths: { [secured.host]: { auth: Buffer.from('auditor:audit-pass-789').toString('base64') } } }));
    const viaConfig = await audit(secured.host, [], { DOCKER_CONFIG: work });
    t.is(viaConfig.exit, 0);
    t.deepEqual(
      viaConfig.report.tags.map((tag) => tag.status),
      ['clean', 'clean'],
    );

    const ci = { DOCKER_CONFIG: join(work, 'none'), CI_REGISTRY: secured.host, CI_REGISTRY_USER: 'auditor', CI_REGISTRY_PASSWORD: 'audit-pass-789' };
    const viaCi = await audit(secured.host, [], ci);
    t.is(viaCi.exit, 0);
    const wrong = memoryIo({ ...ci, CI_REGISTRY_PASSWORD: 'wrong-pass-000' });
    t.is(await auditCommand([`docker://${secured.host}/${REPO}`, '--progress', 'quiet'], wrong), 2);
    t.regex(wrong.stderr, /refused the credentials/);
    t.notRegex(wrong.stderr, /wrong-pass-000/);
  } finally {
    await secured.stop();
    await rm(work, { recursive: true, force: true });
  }
});

test('[integration] usage errors name the input: a tag in the repository, a bad glob, no matching tag', async (t) => {
  const withTag = memoryIo({});
  t.is(await auditCommand([`docker://${registry.host}/${REPO}:fine`], withTag), 2);
  t.regex(withTag.stderr, /names a tag or digest; audit reads every tag/);
  const glob = memoryIo({});
  t.is(await auditCommand([`docker://${registry.host}/${REPO}`, '--tags', 'a/b'], glob), 2);
  t.regex(glob.stderr, /--tags 'a\/b' is not a tag glob/);
  const none = memoryIo({});
  t.is(await auditCommand([`docker://${registry.host}/${REPO}`, '--tags', 'release-*', '--progress', 'quiet'], none), 2);
  t.regex(none.stderr, /no tag of 6 matches --tags 'release-\*'/);
  const work = await mkdtemp(join(tmpdir(), 'eic-build-audit-usage-'));
  try {
    await writeFile(join(work, 'a-file'), 'x');
    const state = memoryIo({});
    t.is(await auditCommand([`docker://${registry.host}/${REPO}`, '--state', join(work, 'a-file', 'state'), '--progress', 'quiet'], state), 2);
    t.regex(state.stderr, /--state .*a-file.*: cannot write it: .*is not a directory/);
  } finally {
    await rm(work, { recursive: true, force: true });
  }
  const progress = memoryIo({});
  t.is(await auditCommand([`docker://${registry.host}/${REPO}`, '--progress', 'loud'], progress), 2);
  t.regex(progress.stderr, /--progress 'loud'/);
});
