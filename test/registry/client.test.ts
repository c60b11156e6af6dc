import test, { type ExecutionContext } from 'ava';
import { createHash, randomBytes } from 'node:crypto';
import { mkdtemp, open, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { execa } from 'execa';
import { createServer, request as httpRequest, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { RegistryClient, MediaTypes, sameOriginPage } from '../../src/registry/client.js';
import { RegistryError, parseRegistryDiagnostics } from '../../src/registry/registry-error.js';
import { sha256Digest } from '../../src/registry/digest.js';
import { EicBuildError } from '../../src/errors.js';
import { clearRegisteredSecrets, redact } from '../../src/redact.js';
import { listenLoopback, startFront, type LoopbackServer } from '../helpers/http-fronts.js';
import { startRegistry, type TestRegistry } from '../helpers/registry.js';
import { ociManifest } from '../buildcache/fixtures.js';
import { manualClock } from '../helpers/manual-clock.js';
import { UNIT_ONLY_RUN } from '../helpers/unit-only.js';

let registry: TestRegistry;
test.before(async () => {
  // Only the [integration] tests of this file use what follows; a unit-only run selects none of them.
  if (UNIT_ONLY_RUN) return;
  registry = await startRegistry();
});
test.after.always(async () => {
  await registry?.stop();
  clearRegisteredSecrets();
});

async function pushImage(client: RegistryClient, repo: string, tag: string, content: string) {
  const config = Buffer.from(JSON.stringify({ content }));
  const layer = Buffer.from(`layer of ${content}`);
  const configDigest = await client.putBlob(repo, config);
  const layerDigest = await client.putBlob(repo, layer);
  const manifest = ociManifest({ digest: configDigest, size: config.length }, [{ digest: layerDigest, size: layer.length }]);
  return { digest: await client.putManifest(repo, tag, manifest, MediaTypes.ociManifest), manifest, layerDigest, layer };
}

test('[integration] push and read back manifests and blobs, digest-verified', async (t) => {
  const client = new RegistryClient({ registry: registry.host });
  await client.ping();
  const pushed = await pushImage(client, 'eic/roundtrip', 'one', 'one');
  const byTag = await client.getManifest('eic/roundtrip', 'one');
  t.is(byTag.digest, pushed.digest);
  t.is(byTag.mediaType, MediaTypes.ociManifest);
  t.deepEqual(byTag.bytes, pushed.manifest);
  t.is((await client.getManifest('eic/roundtrip', pushed.digest)).digest, pushed.digest);
  t.is(await client.findManifest('eic/roundtrip', 'absent'), undefined);
  await t.throwsAsync(client.getManifest('eic/roundtrip', 'absent'), { instanceOf: EicBuildError });
  t.true(await client.hasBlob('eic/roundtrip', pushed.layerDigest));
  t.false(await client.hasBlob('eic/roundtrip', sha256Digest('nope')));
  t.deepEqual(await client.getBlobBytes('eic/roundtrip', pushed.layerDigest), pushed.layer);
  const chunks: Buffer[] = [];
  for await (const chunk of await client.getBlob('eic/roundtrip', pushed.layerDigest)) chunks.push(chunk as Buffer);
  t.deepEqual(Buffer.concat(chunks), pushed.layer);
  // cross-repository mount
  await client.putBlob('eic/other', pushed.layer, { mountFrom: 'eic/roundtrip' });
  t.true(await client.hasBlob('eic/other', pushed.layerDigest));
});

test('[integration] listTags follows pagination', async (t) => {
  const client = new RegistryClient({ registry: registry.host });
  const names = Array.from({ length: 7 }, (_, i) => `t${i}`);
  for (const name of names) await pushImage(client, 'eic/paged', name, name);
  t.deepEqual((await client.listTags('eic/paged', 2)).sort(), names);
  await t.throwsAsync(client.listTags('eic/does-not-exist'), { instanceOf: EicBuildError });
});

test('[integration] getReferrers falls back to the tag scheme on distribution 2.8', async (t) => {
  const client = new RegistryClient({ registry: registry.host });
  const subject = await pushImage(client, 'eic/refs', 'subject', 'subject');
  t.deepEqual(await client.getReferrers('eic/refs', subject.digest), { kind: 'none', manifests: [] });
  t.false(client.hasReferrersApi);
  const other = await pushImage(client, 'eic/refs', 'other', 'other');
  const referrer = { mediaType: MediaTypes.ociManifest, digest: other.digest, size: other.manifest.length, artifactType: 'application/example' };
  const index = Buffer.from(JSON.stringify({ schemaVersion: 2, mediaType: MediaTypes.ociIndex, manifests: [referrer] }));
  await client.putManifest('eic/refs', `sha256-${subject.digest.slice(7)}`, index, MediaTypes.ociIndex);
  t.deepEqual(await client.getReferrers('eic/refs', subject.digest), { kind: 'tag-scheme', manifests: [referrer] });
  t.deepEqual((await client.getReferrers('eic/refs', subject.digest, 'application/other')).manifests, []);
});

test('[integration] a registry serving other bytes than the digest is caught', async (t) => {
  // A loopback proxy that corrupts one manifest body: the client must notice (mock: a tampering registry cannot be made otherwise).
  const client = new RegistryClient({ registry: registry.host });
  const pushed = await pushImage(client, 'eic/tamper', 'x', 'x');
  const server = createServer((req, res) => {
    const upstream = httpRequest(`${registry.url}${req.url}`, { method: req.method, headers: req.headers }, (up) => {
      const chunks: Buffer[] = [];
      up.on('data', (c: Buffer) => chunks.push(c));
      up.on('end', () => {
        let body = Buffer.concat(chunks);
        if (req.url?.includes('/manifests/')) body = Buffer.from(body.toString().replace('"schemaVersion":2', '"schemaVersion": 2'));
        const headers = { ...up.headers, 'content-length': String(body.length) };
        res.writeHead(up.statusCode ?? 500, headers).end(body);
      });
    });
    req.pipe(upstream);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  t.teardown(() => server.close());
  const proxy = new RegistryClient({ registry: `127.0.0.1:${(server.address() as AddressInfo).port}` });
  const error = await t.throwsAsync(proxy.getManifest('eic/tamper', pushed.digest), { instanceOf: EicBuildError });
  t.is(error?.code, 'digest-mismatch');
  await t.throwsAsync(proxy.getManifest('eic/tamper', 'x'), { instanceOf: EicBuildError });
});

test('[integration] putBlob refuses bytes that do not hash to the digest it was given, before uploading', async (t) => {
  const client = new RegistryClient({ registry: registry.host });
  const error = await t.throwsAsync(client.putBlob('eic/wrong-digest', Buffer.from('bytes'), { digest: sha256Digest('other bytes') }), { instanceOf: EicBuildError });
  t.is(error?.code, 'digest-mismatch');
  t.regex(error?.message ?? '', /blob to upload/);
  t.false(await client.hasBlob('eic/wrong-digest', sha256Digest('bytes')));
});

test('[integration] Basic auth with htpasswd; the password never shows in errors', async (t) => {
  const { stdout } = await execa('htpasswd', ['-nbB', 'robot', 'registry-pass-123']);
  const secured = await startRegistry({ htpasswd: `${stdout.trim()}\n` });
  t.teardown(() => secured.stop());
  const anonymous = new RegistryClient({ registry: secured.host });
  const error = await t.throwsAsync(anonymous.ping(), { instanceOf: EicBuildError });
  t.regex(error!.message, /user name and password/);
  const wrong = new RegistryClient({ registry: secured.host, credentials: { username: 'robot', password: 'wrong-password-9' } });
  const refused = await t.throwsAsync(wrong.ping(), { instanceOf: EicBuildError });
  t.regex(refused!.message, /refused/);
  t.false(refused!.message.includes('wrong-password-9'));
  const client = new RegistryClient({ registry: secured.host, credentials: { username: 'robot', password: 'registry-pass-123' } });
  await client.ping();
  await pushImage(client, 'eic/auth', 'a', 'a');
  t.deepEqual(await client.listTags('eic/auth'), ['a']);
  t.false(redact('registry-pass-123').includes('registry-pass-123'));
});

test('[integration] Bearer challenge: token fetched with basic creds, then used', async (t) => {
  // distribution's token auth needs a JWT issuer; a loopback front that demands a bearer token
  // (mock token service) in front of the real registry exercises the same client path.
  const seen: { scope: string | null; basic: string | undefined }[] = [];
  const server: Server = createServer((req, res) => {
    const port = (server.address() as AddressInfo).port;
    if (req.url?.startsWith('/token')) {
      const url = new URL(req.url, 'http://x');
      seen.push({ scope: url.searchParams.get('scope'), basic: req.headers.authorization });
      res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ token: 'bearer-token-xyz' }));
      return;
    }
    if (req.headers.authorization !== 'Bearer bearer-token-xyz') {
      res.writeHead(401, { 'www-authenticate': `Bearer realm="http://127.0.0.1:${port}/token",service="test",scope="repository:eic/bearer:pull"` }).end();
      return;
    }
    const upstream = httpRequest(`${registry.url}${req.url}`, { method: req.method, headers: { ...req.headers, authorization: '' } }, (up) => {
      res.writeHead(up.statusCode ?? 500, up.headers);
      up.pipe(res);
    });
    req.pipe(upstream);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  t.teardown(() => server.close());
  const direct = new RegistryClient({ registry: registry.host });
  await pushImage(direct, 'eic/bearer', 'b', 'b');
  const client = new RegistryClient({ registry: `127.0.0.1:${(server.address() as AddressInfo).port}`, credentials: { username: 'u', password: 'token-pass-1' } });
  t.is((await client.getManifest('eic/bearer', 'b')).mediaType, MediaTypes.ociManifest);
  t.is((await client.getManifest('eic/bearer', 'b')).mediaType, MediaTypes.ociManifest);
  t.is(seen.length, 1, 'the token is reused');
  t.is(seen[0]!.scope, 'repository:eic/bearer:pull');
  t.is(seen[0]!.basic, `Basic ${Buffer.from('u:token-pass-1').toString('base64')}`);
});

/** A loopback front to the real registry that answers chosen requests with an error first (mock of a
 *  registry under load: a real one cannot be made to fail on cue). */
async function flakyFront(failures: (req: { method: string; url: string }) => number | undefined): Promise<{ host: string; seen: string[]; close: () => void }> {
  const seen: string[] = [];
  const front = await startFront(registry.url, {
    onRequest: (req) => seen.push(`${req.method} ${(req.url ?? '/').split('?')[0]}`),
    intercept: (req, res) => {
      const status = failures({ method: req.method ?? 'GET', url: req.url ?? '/' });
      if (!status) return false;
      res.writeHead(status, { 'content-type': 'application/json', ...(status === 503 ? { 'retry-after': '0' } : {}) }).end('{"errors":[{"code":"UNKNOWN"}]}');
      return true;
    },
  });
  return { ...front, seen };
}

test('[integration] transient 500/503 answers are retried: manifest reads, manifest writes and blob uploads succeed', async (t) => {
  const failed = new Map<string, number>();
  const failOnce = (key: string, status: number) => {
    if (failed.has(key)) return undefined;
    failed.set(key, status);
    return status;
  };
  const front = await flakyFront(({ method, url }) => {
    if (method === 'GET' && url.includes('/manifests/')) return failOnce('get-manifest', 500);
    if (method === 'PUT' && url.includes('/manifests/')) return failOnce('put-manifest', 503);
    if (method === 'PUT' && url.includes('/blobs/uploads/')) return failOnce('put-blob', 500);
    return undefined;
  });
  t.teardown(front.close);
  const client = new RegistryClient({ registry: front.host });
  const { digest } = await pushImage(client, 'eic/flaky', 'v1', 'flaky');
  t.is((await client.getManifest('eic/flaky', 'v1')).digest, digest);
  t.deepEqual([...failed.keys()].sort(), ['get-manifest', 'put-blob', 'put-manifest']);
  // The failed blob upload started a new session: two POSTs for that blob.
  t.true(front.seen.filter((line) => line.startsWith('POST ')).length >= 3);
});

test('[integration] a registry that keeps failing is an error after 4 tries, naming the status', async (t) => {
  const front = await flakyFront(({ method, url }) => (method === 'GET' && url.includes('/manifests/') ? 500 : undefined));
  t.teardown(front.close);
  const direct = new RegistryClient({ registry: registry.host });
  await pushImage(direct, 'eic/down', 'v1', 'down');
  const client = new RegistryClient({ registry: front.host });
  const error = await t.throwsAsync(client.getManifest('eic/down', 'v1'), { instanceOf: EicBuildError });
  t.regex(error!.message, /HTTP 500/);
  t.is(front.seen.filter((line) => line === 'GET /v2/eic/down/manifests/v1').length, 4);
});

test('[integration] a 404 is an answer, not a failure: findManifest asks once', async (t) => {
  const front = await flakyFront(() => undefined);
  t.teardown(front.close);
  const client = new RegistryClient({ registry: front.host });
  t.is(await client.findManifest('eic/none', 'nope'), undefined);
  t.is(front.seen.filter((line) => line.includes('/manifests/nope')).length, 1);
});

/** A file of `bytes` pseudo-random bytes (written in 1 MiB pieces) and its sha256 digest. */
async function randomFile(t: ExecutionContext, bytes: number): Promise<{ path: string; digest: string; size: number }> {
  const dir = await mkdtemp(join(tmpdir(), 'eic-build-blob-file-'));
  t.teardown(() => rm(dir, { recursive: true, force: true }));
  const path = join(dir, 'blob');
  const hash = createHash('sha256');
  const piece = randomBytes(1024 * 1024);
  const out = await open(path, 'w');
  for (let written = 0; written < bytes; written += piece.length) {
    // Vary each piece so the blob is not one MiB repeated.
    piece.writeUInt32BE(written, 0);
    const part = piece.subarray(0, Math.min(piece.length, bytes - written));
    hash.update(part);
    await out.write(part);
  }
  await out.close();
  return { path, digest: `sha256:${hash.digest('hex')}`, size: bytes };
}

test('[integration] putBlobFile streams a 64 MiB file and the registry serves exactly its bytes', async (t) => {
  const client = new RegistryClient({ registry: registry.host });
  const file = await randomFile(t, 64 * 1024 * 1024 + 12345);
  t.is(await client.putBlobFile('eic/streamed', file.path, { digest: file.digest, size: file.size }), file.digest);
  t.deepEqual(await client.headBlob('eic/streamed', file.digest), { size: file.size });
  const hash = createHash('sha256');
  let size = 0;
  for await (const chunk of await client.getBlob('eic/streamed', file.digest)) {
    hash.update(chunk as Buffer);
    size += (chunk as Buffer).length;
  }
  t.is(`sha256:${hash.digest('hex')}`, file.digest);
  t.is(size, file.size);
});

test('[integration] putBlobFile refuses a file that is not the blob it is pushed as; nothing lands under either digest', async (t) => {
  const client = new RegistryClient({ registry: registry.host });
  const file = await randomFile(t, 3 * 1024 * 1024 + 7);
  const claimed = sha256Digest('the scanned bytes');
  const error = await t.throwsAsync(client.putBlobFile('eic/mismatch', file.path, { digest: claimed, size: file.size }), { instanceOf: EicBuildError });
  t.is(error!.code, 'digest-mismatch');
  t.true(error!.message.includes(file.path), error!.message);
  t.true(error!.message.includes(claimed), error!.message);
  t.true(error!.message.includes(file.digest), error!.message);
  t.false(await client.hasBlob('eic/mismatch', claimed));
  t.false(await client.hasBlob('eic/mismatch', file.digest));
  // A size that is not the file's is refused before anything is sent.
  const short = await t.throwsAsync(client.putBlobFile('eic/mismatch', file.path, { digest: file.digest, size: file.size - 1 }), { instanceOf: EicBuildError });
  t.is(short!.code, 'input-corrupt');
  // The same words as a file that changes size while it streams (blob-file's error).
  t.is(short!.message, `${file.path} is ${file.size} bytes (blob ${file.digest}), but its descriptor says ${file.size - 1} bytes`);
  t.regex(short!.hint ?? '', /changed after it was scanned/);
  t.false(await client.hasBlob('eic/mismatch', file.digest));
});

test('[integration] putBlobFile: a transient 500 on the upload PUT starts a new session with a fresh stream', async (t) => {
  let failures = 0;
  const front = await flakyFront(({ method, url }) => (method === 'PUT' && url.includes('/blobs/uploads/') && failures++ === 0 ? 500 : undefined));
  t.teardown(front.close);
  const client = new RegistryClient({ registry: front.host });
  const file = await randomFile(t, 8 * 1024 * 1024);
  await client.putBlobFile('eic/flaky-file', file.path, { digest: file.digest, size: file.size });
  t.is(failures, 2);
  t.is(front.seen.filter((line) => line.startsWith('POST ')).length, 2);
  t.is(front.seen.filter((line) => line.startsWith('PUT ')).length, 2);
  t.deepEqual(await new RegistryClient({ registry: registry.host }).headBlob('eic/flaky-file', file.digest), { size: file.size });
});

test('putBlobFile: an upload that makes no progress is aborted after the timeout and its session abandoned', async (t) => {
  // Mock registry (a real one cannot be made to stall on cue): starts the upload, then never reads the PUT body.
  const seen: string[] = [];
  const server = createServer((req, res) => {
    seen.push(`${req.method} ${req.url?.split('?')[0]}`);
    if (req.method === 'HEAD') return void res.writeHead(404).end();
    if (req.method === 'POST') return void res.writeHead(202, { location: `${req.url}session-1` }).end();
    if (req.method === 'DELETE') return void res.writeHead(204).end();
    req.pause();
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  t.teardown(() => {
    server.closeAllConnections();
    server.close();
  });
  // The inactivity bound runs on a clock the test advances once the upload has reached the server: with
  // a real 0.5 s bound, a loaded machine failed the plain requests before it (bounded in all by it too).
  const clock = manualClock();
  t.timeout(120_000); // an upload the bound does not stop would hang here
  const client = new RegistryClient({ registry: `127.0.0.1:${(server.address() as AddressInfo).port}`, timeoutMs: 60_000, clock });
  // Larger than what the loopback socket buffers take in, so the stream really stalls.
  const file = await randomFile(t, 96 * 1024 * 1024);
  const upload = client.putBlobFile('eic/stalled', file.path, { digest: file.digest, size: file.size });
  for (let waited = 0; !seen.some((line) => line.startsWith('PUT ')) && waited < 60_000; waited += 10) await new Promise((resolve) => setTimeout(resolve, 10));
  clock.advance(60_000);
  const error = await t.throwsAsync(upload, { instanceOf: EicBuildError });
  t.is(error!.code, 'registry');
  t.regex(error!.message, /no progress for 60 s/);
  t.true(seen.includes('DELETE /v2/eic/stalled/blobs/uploads/session-1'), seen.join(', '));
});

/**
 * A loopback server that serves one blob in pieces, each when the test calls `sendNext` (mock: a real
 * registry cannot be made to trickle or stall on cue).
 */
async function pacedBlobServer(blob: Buffer, pieces: number): Promise<LoopbackServer & { pieceSize: number; sendNext(): void }> {
  const pieceSize = Math.ceil(blob.length / pieces);
  let response: ServerResponse | undefined;
  let released = 0;
  let sent = 0;
  const flush = () => {
    for (; response && sent < released && sent < pieces; sent += 1) response.write(blob.subarray(sent * pieceSize, (sent + 1) * pieceSize));
    if (response && sent === pieces) response.end();
  };
  const server = await listenLoopback((req, res) => {
    req.resume();
    res.writeHead(200, { 'content-type': 'application/octet-stream', 'content-length': String(blob.length) });
    res.flushHeaders();
    response = res;
    flush();
  });
  return {
    ...server,
    pieceSize,
    sendNext() {
      released += 1;
      flush();
    },
  };
}

/** Reads a stream to its end, and lets the test wait until some bytes have arrived. */
function collect(stream: NodeJS.ReadableStream) {
  const chunks: Buffer[] = [];
  let length = 0;
  let failure: unknown;
  const waiters = new Set<() => void>();
  const wake = () => waiters.forEach((waiter) => waiter());
  const done = new Promise<Buffer>((resolve, reject) => {
    stream.on('data', (chunk: Buffer) => {
      chunks.push(chunk);
      length += chunk.length;
      wake();
    });
    stream.on('end', () => resolve(Buffer.concat(chunks)));
    stream.on('error', (error) => {
      failure = error;
      wake();
      reject(error);
    });
  });
  done.catch(() => undefined); // the test awaits it; this only keeps an early failure from being unhandled
  const received = (bytes: number) =>
    new Promise<void>((resolve, reject) => {
      const check = () => {
        if (length >= bytes) resolve();
        else if (failure !== undefined) reject(failure);
        else return;
        waiters.delete(check);
      };
      waiters.add(check);
      check();
    });
  return { done, received };
}

test('a blob download is bounded by inactivity, not in all: a slow but moving download completes; a stalled one is an error', async (t) => {
  // The inactivity bound runs on a clock the test advances (test/helpers/manual-clock.ts); the bytes go
  // through real sockets. With real timers a loaded machine delays them by hundreds of milliseconds, and
  // a sub-second margin failed ("no progress for 0.4 s").
  const blob = Buffer.alloc(64 * 1024, 7);
  const digest = sha256Digest(blob);
  const timeoutMs = 1000;

  // Moving: before each of 8 pieces, 0.6 × the bound passes with no byte: 4.8 × the bound in all.
  const movingClock = manualClock();
  const moving = await pacedBlobServer(blob, 8);
  t.teardown(moving.close);
  const slow = new RegistryClient({ registry: moving.host, timeoutMs, clock: movingClock });
  const download = collect(await slow.getBlob('eic/trickle', digest));
  for (let piece = 1; piece <= 8; piece += 1) {
    movingClock.advance(0.6 * timeoutMs);
    moving.sendNext();
    await download.received(Math.min(piece * moving.pieceSize, blob.length));
  }
  t.is((await download.done).length, blob.length);

  // Stalled: 3 pieces, then nothing. A millisecond short of the bound it still waits; at the bound it fails.
  const stallClock = manualClock();
  const stalled = await pacedBlobServer(blob, 8);
  t.teardown(stalled.close);
  const client = new RegistryClient({ registry: stalled.host, timeoutMs, clock: stallClock });
  const partial = collect(await client.getBlob('eic/stall', digest));
  for (let piece = 1; piece <= 3; piece += 1) {
    stalled.sendNext();
    await partial.received(piece * stalled.pieceSize);
  }
  stallClock.advance(timeoutMs - 1);
  t.is(stallClock.pending, 1, 'the inactivity timer fired before the bound');
  stallClock.advance(1);
  const error = await t.throwsAsync(partial.done, { instanceOf: EicBuildError });
  t.regex(error!.message, /no progress for 1 s/);
});

test('[integration] getBlob: a consumer that stops early closes the connection to the registry', async (t) => {
  const direct = new RegistryClient({ registry: registry.host });
  const blob = randomBytes(64 * 1024 * 1024);
  const digest = await direct.putBlob('eic/early-stop', blob);
  // A front to the real registry, only to see the blob download's connection close.
  let opened = 0;
  let closed = 0;
  const front = await startFront(registry.url, {
    onRequest: (req) => {
      if (req.method !== 'GET' || !req.url?.includes('/blobs/')) return;
      opened += 1;
      req.socket.once('close', () => (closed += 1));
    },
  });
  t.teardown(front.close);
  const client = new RegistryClient({ registry: front.host });
  const stream = await client.getBlob('eic/early-stop', digest);
  const first = await new Promise<Buffer>((resolve) => stream.once('data', resolve));
  t.true(first.length > 0);
  stream.destroy();
  for (let waited = 0; closed === 0 && waited < 30_000; waited += 50) await new Promise((resolve) => setTimeout(resolve, 50));
  t.is(opened, 1);
  t.is(closed, 1, 'the blob connection is still open after the stream was destroyed');
});

test('putBlobFile: a registry that takes longer than timeoutMs to commit a fully sent upload is waited for', async (t) => {
  // Mock registry (a real one cannot be made to finalize slowly): reads the whole PUT body, then answers
  // only once 5 × the client's timeout has passed on the client's clock, as an S3-backed registry
  // copying a large blob does. The clock is advanced by the test (no real wait, no load sensitivity).
  const clock = manualClock();
  const timeoutMs = 1000;
  let bodyReceived!: () => void;
  const received = new Promise<void>((resolve) => (bodyReceived = resolve));
  let answer!: () => void;
  const answered = new Promise<void>((resolve) => (answer = resolve));
  const server = await listenLoopback((req, res) => {
    if (req.method === 'HEAD') return void res.writeHead(404).end();
    if (req.method === 'POST') return void res.writeHead(202, { location: `${req.url}session-1` }).end();
    if (req.method === 'PUT') {
      req.resume();
      req.on('end', () => {
        bodyReceived();
        void answered.then(() => res.writeHead(201).end());
      });
      return;
    }
    res.writeHead(405).end();
  });
  t.teardown(server.close);
  const client = new RegistryClient({ registry: server.host, timeoutMs, clock });
  const file = await randomFile(t, 4 * 1024 * 1024);
  const upload = client.putBlobFile('eic/slow-commit', file.path, { digest: file.digest, size: file.size });
  await received;
  // The client switches to the commit bound once it has read the body's end; wait for that (real time,
  // only a wait), then let 5 × timeoutMs pass with no byte moving.
  for (let waited = 0; !((clock.nextDueIn ?? 0) > timeoutMs) && waited < 10_000; waited += 10) await new Promise((resolve) => setTimeout(resolve, 10));
  clock.advance(5 * timeoutMs);
  answer();
  t.is(await upload, file.digest);
});

test('a reset connection is retried for GET, never for POST', async (t) => {
  // Mock registry (a real one cannot be made to drop a connection on cue): the first connection of
  // each kind of request is destroyed without an answer, later ones are answered.
  const seen: string[] = [];
  const server = await listenLoopback((req, res) => {
    const kind = `${req.method} ${req.url?.split('?')[0]}`;
    const first = !seen.includes(kind);
    seen.push(kind);
    if (first) return void req.socket.destroy();
    if (req.method === 'HEAD') return void res.writeHead(404).end();
    res.writeHead(200, { 'content-type': 'application/json' }).end('{}');
  });
  t.teardown(server.close);
  const client = new RegistryClient({ registry: server.host });
  await client.ping();
  t.deepEqual(seen, ['GET /v2/', 'GET /v2/']);
  seen.length = 0;
  // HEAD /blobs/… is reset then answered 404; the POST that starts the upload is reset and not sent again.
  const error = await t.throwsAsync(client.putBlob('eic/reset', Buffer.from('x')), { instanceOf: EicBuildError });
  t.regex(error!.message, /cannot reach/);
  t.is(seen.filter((line) => line.startsWith('HEAD ')).length, 2, seen.join(', '));
  t.is(seen.filter((line) => line.startsWith('POST ')).length, 1, seen.join(', '));
});

test("[integration] a registry failure is a typed RegistryError: status, retryable and the registry's own diagnostics", async (t) => {
  const client = new RegistryClient({ registry: registry.host });
  // The real registry refuses a manifest that names blobs it does not have: 400 MANIFEST_BLOB_UNKNOWN.
  const missing = ociManifest({ digest: sha256Digest('no config'), size: 9 }, [{ digest: sha256Digest('no layer'), size: 8 }]);
  const refused = await t.throwsAsync(client.putManifest('eic/typed', 'v1', missing, MediaTypes.ociManifest), { instanceOf: RegistryError });
  t.is(refused!.code, 'registry');
  t.is(refused!.status, 400);
  t.false(refused!.retryable);
  t.true(
    refused!.diagnostics.some((d) => d.code === 'MANIFEST_BLOB_UNKNOWN'),
    JSON.stringify(refused!.diagnostics),
  );
  // Nothing listens: no status, retryable (a reset or refused connection may pass on another try).
  const closed = await listenLoopback(() => undefined);
  closed.close();
  const unreachable = await t.throwsAsync(new RegistryClient({ registry: closed.host, timeoutMs: 2000 }).ping(), { instanceOf: RegistryError });
  t.is(unreachable!.status, undefined);
  t.true(unreachable!.retryable);
  t.regex(unreachable!.message, /cannot reach http:\/\/127\.0\.0\.1:\d+\/v2\//);
});

test('parseRegistryDiagnostics reads the distribution error body and nothing else', (t) => {
  t.deepEqual(parseRegistryDiagnostics('{"errors":[{"code":"DENIED","message":"requested access to the resource is denied"}]}'), [
    { code: 'DENIED', message: 'requested access to the resource is denied' },
  ]);
  t.deepEqual(parseRegistryDiagnostics('<html>502 Bad Gateway</html>'), []);
  t.deepEqual(parseRegistryDiagnostics('{"errors":"no"}'), []);
});

/** A loopback server on 127.0.0.2, a second origin standing in for another host (a hostile or storage
 *  server cannot be run here): it records the Authorization header of every request it gets. */
async function otherHost(
  handler: (req: IncomingMessage, res: ServerResponse) => void,
): Promise<{ url: string; seen: { request: string; authorization: string | undefined }[]; close: () => void }> {
  const seen: { request: string; authorization: string | undefined }[] = [];
  const server = createServer((req, res) => {
    seen.push({ request: `${req.method} ${req.url}`, authorization: req.headers.authorization });
    req.resume();
    handler(req, res);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.2', resolve));
  return { url: `http://127.0.0.2:${(server.address() as AddressInfo).port}`, seen, close: () => (server.close(), server.closeAllConnections()) };
}

/** A registry stand-in on 127.0.0.1 that asks for Basic credentials (a real one cannot be made to send
 *  hostile Links or upload Locations); `answer` serves the authorized requests. */
async function basicAuthRegistry(answer: (req: IncomingMessage, res: ServerResponse) => void): Promise<LoopbackServer> {
  return listenLoopback((req, res) => {
    req.resume();
    if (req.headers.authorization !== `Basic ${Buffer.from('robot:link-pass-42').toString('base64')}`)
      return void res.writeHead(401, { 'www-authenticate': 'Basic realm="test"' }).end();
    answer(req, res);
  });
}

test("listTags refuses a Link to another origin, and that origin never sees the registry's credentials", async (t) => {
  const other = await otherHost((_req, res) => void res.writeHead(200, { 'content-type': 'application/json' }).end('{"tags":["stolen"]}'));
  t.teardown(other.close);
  const hostile = await basicAuthRegistry(
    (_req, res) => void res.writeHead(200, { 'content-type': 'application/json', link: `<${other.url}/steal>; rel="next"` }).end('{"tags":["a"]}'),
  );
  t.teardown(hostile.close);
  const client = new RegistryClient({ registry: hostile.host, credentials: { username: 'robot', password: 'link-pass-42' } });
  const error = await t.throwsAsync(client.listTags('eic/x'), { instanceOf: RegistryError });
  t.is(error!.code, 'registry');
  t.true(error!.message.includes(hostile.host), error!.message);
  t.true(error!.message.includes(other.url), error!.message);
  t.deepEqual(other.seen, [], 'the other origin got no request at all');
});

test("an upload Location on another origin is sent there without the registry's Authorization", async (t) => {
  const storage = await otherHost((_req, res) => void res.writeHead(201).end());
  t.teardown(storage.close);
  const front = await basicAuthRegistry((req, res) => {
    if (req.method === 'HEAD') return void res.writeHead(404).end();
    if (req.method === 'POST') return void res.writeHead(202, { location: `${storage.url}/upload/session-1?state=s` }).end();
    res.writeHead(500).end();
  });
  t.teardown(front.close);
  const client = new RegistryClient({ registry: front.host, credentials: { username: 'robot', password: 'link-pass-42' } });
  const digest = await client.putBlob('eic/x', Buffer.from('blob bytes'));
  t.deepEqual(storage.seen, [{ request: `PUT /upload/session-1?state=s&digest=${encodeURIComponent(digest)}`, authorization: undefined }]);
  // Storage that asks for credentials gets none either: a clear refusal.
  const asking = await otherHost((_req, res) => void res.writeHead(401, { 'www-authenticate': 'Basic realm="storage"' }).end());
  t.teardown(asking.close);
  const front2 = await basicAuthRegistry((req, res) => {
    if (req.method === 'HEAD') return void res.writeHead(404).end();
    if (req.method === 'POST') return void res.writeHead(202, { location: `${asking.url}/upload/session-2` }).end();
    res.writeHead(204).end();
  });
  t.teardown(front2.close);
  const refused = await t.throwsAsync(
    new RegistryClient({ registry: front2.host, credentials: { username: 'robot', password: 'link-pass-42' } }).putBlob('eic/x', Buffer.from('more')),
    { instanceOf: RegistryError },
  );
  t.regex(refused!.message, /asks for credentials/);
  t.true(
    asking.seen.every((seen) => seen.authorization === undefined),
    JSON.stringify(asking.seen),
  );
});

test('listTags stops on a Link back to the same page, and bounds pages and tags', async (t) => {
  // A registry stand-in (a real one cannot be made to page forever).
  let requests = 0;
  const looping = await listenLoopback((req, res) => {
    requests++;
    const url = new URL(req.url ?? '/', 'http://x');
    const last = Number(url.searchParams.get('last') ?? 0);
    // ?self: the Link names the page itself; otherwise every page links a new one, forever.
    const link = url.pathname.includes('/self/') ? `<${url.pathname}${url.search}>; rel="next"` : `<${url.pathname}?n=2&last=${last + 1}>; rel="next"`;
    res.writeHead(200, { 'content-type': 'application/json', link }).end(JSON.stringify({ tags: [`t${last}a`, `t${last}b`] }));
  });
  t.teardown(looping.close);
  const client = new RegistryClient({ registry: looping.host });
  const loop = await t.throwsAsync(client.listTags('eic/self', 2), { instanceOf: RegistryError });
  t.regex(loop!.message, /again \(a Link loop\)/);
  t.is(requests, 1);
  requests = 0;
  const pages = await t.throwsAsync(client.listTags('eic/endless', 2, { pages: 5, tags: 1000 }), { instanceOf: RegistryError });
  t.regex(pages!.message, /more than 5 pages/);
  t.is(requests, 5);
  const tags = await t.throwsAsync(client.listTags('eic/endless', 2, { pages: 1000, tags: 7 }), { instanceOf: RegistryError });
  t.regex(tags!.message, /more than 7 tags/);
});

test('sameOriginPage resolves a relative Link against its page and refuses another origin', (t) => {
  t.is(sameOriginPage('/v2/a/tags/list?last=x&n=2', 'http://127.0.0.1:5000/v2/a/tags/list?n=2', 'r', 'http://127.0.0.1:5000'), 'http://127.0.0.1:5000/v2/a/tags/list?last=x&n=2');
  t.is(sameOriginPage('list?last=y', 'http://127.0.0.1:5000/v2/a/tags/list?n=2', 'r', 'http://127.0.0.1:5000'), 'http://127.0.0.1:5000/v2/a/tags/list?last=y');
  t.throws(() => sameOriginPage('https://127.0.0.1:5000/v2/a/tags/list', 'http://127.0.0.1:5000/v2/a/tags/list', 'r', 'http://127.0.0.1:5000'), {
    message: /another origin, https:\/\/127\.0\.0\.1:5000/,
  });
  t.throws(() => sameOriginPage('//evil.example/x', 'http://127.0.0.1:5000/v2/a/tags/list', 'r', 'http://127.0.0.1:5000'), { message: /evil\.example/ });
});
