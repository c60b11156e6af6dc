// A hostile server that sends an endless body without Content-Length (or with a false one) is a mock:
// no real registry can be made to do that on cue. It counts what it managed to send, so the tests show
// the reader stopped near the cap instead of buffering the whole answer.
import test from 'ava';
import type { ServerResponse } from 'node:http';
import { readBodyLimited, readBodyPrefix } from '../../src/io/read-body.js';
import { RegistryClient } from '../../src/registry/client.js';
import { httpMirrorFiles } from '../../src/buildcache/mirror-files.js';
import { EicBuildError } from '../../src/errors.js';
import { listenLoopback, type LoopbackServer } from '../helpers/http-fronts.js';

const CHUNK = Buffer.alloc(64 * 1024, 0x61);

/** Writes CHUNK until the client goes away (or 1 GiB, so a broken reader cannot hang the test run). */
function sendEndless(res: ServerResponse, sent: { bytes: number }, headers: Record<string, string> = {}, status = 200): void {
  res.writeHead(status, { 'content-type': 'application/json', ...headers });
  const pump = () => {
    while (sent.bytes < 1024 ** 3) {
      sent.bytes += CHUNK.length;
      if (!res.write(CHUNK)) return void res.once('drain', pump);
    }
    res.end();
  };
  res.on('close', () => res.removeAllListeners('drain'));
  pump();
}

async function endlessServer(status = 200, headers: Record<string, string> = {}): Promise<{ server: LoopbackServer; sent: { bytes: number } }> {
  const sent = { bytes: 0 };
  const server = await listenLoopback((req, res) => {
    if (req.url === '/v2/') return void res.writeHead(200).end('{}');
    sendEndless(res, sent, headers, status);
  });
  return { server, sent };
}

test('readBodyLimited stops an endless body without Content-Length at the cap', async (t) => {
  const { server, sent } = await endlessServer();
  try {
    const response = await fetch(`${server.url}/x`);
    const error = await t.throwsAsync(readBodyLimited(response, 1024 * 1024, 'the answer of /x'), { instanceOf: EicBuildError });
    t.is(error?.code, 'input-corrupt');
    t.regex(error?.message ?? '', /the answer of \/x is more than the 1048576 bytes/);
    t.true(sent.bytes < 64 * 1024 * 1024, `the server sent ${sent.bytes} bytes before the reader stopped`);
  } finally {
    server.close();
  }
});

test('readBodyLimited refuses a false small Content-Length followed by more bytes', async (t) => {
  const server = await listenLoopback((_req, res) => {
    // a lying server: HTTP framing makes fetch stop at Content-Length, so the lie cannot overflow the cap
    res.writeHead(200, { 'content-length': '10' });
    res.end(Buffer.alloc(10, 0x62));
  });
  try {
    const bytes = await readBodyLimited(await fetch(`${server.url}/x`), 16, 'x');
    t.is(bytes.length, 10);
    const declared = await listenLoopback((_req, res) => res.writeHead(200, { 'content-length': String(2 ** 40) }).end());
    try {
      await t.throwsAsync(readBodyLimited(await fetch(`${declared.url}/y`), 16, 'y'), { message: /y is more than the 16 bytes/ });
    } finally {
      declared.close();
    }
  } finally {
    server.close();
  }
});

test('readBodyPrefix keeps the first bytes of an endless error body and drops the rest', async (t) => {
  const { server, sent } = await endlessServer();
  try {
    const text = await readBodyPrefix(await fetch(`${server.url}/x`), 300);
    t.is(text, 'a'.repeat(300));
    t.true(sent.bytes < 64 * 1024 * 1024);
  } finally {
    server.close();
  }
});

test('RegistryClient: an endless manifest, tag list and error body are cut off at their caps', async (t) => {
  const { server, sent } = await endlessServer();
  try {
    const client = new RegistryClient({ registry: server.host, timeoutMs: 10_000 });
    await t.throwsAsync(client.getManifest('eic/x', 'latest'), { message: /manifest eic\/x:latest is more than/ });
    await t.throwsAsync(client.listTags('eic/x'), { message: /tag list is more than/ });
    t.true(sent.bytes < 200 * 1024 * 1024, `sent ${sent.bytes}`);
  } finally {
    server.close();
  }
  const failing = await endlessServer(500);
  try {
    const client = new RegistryClient({ registry: failing.server.host, timeoutMs: 10_000 });
    const error = await t.throwsAsync(client.getManifest('eic/x', 'latest'));
    t.regex(error?.message ?? '', /HTTP 500 a{10}/);
    t.true((error?.message.length ?? 0) < 1000);
  } finally {
    failing.server.close();
  }
});

test('an HTTP file mirror serving an endless metadata file is refused, naming the file', async (t) => {
  const { server, sent } = await endlessServer();
  try {
    const files = httpMirrorFiles(`${server.url}/mirror`);
    await t.throwsAsync(files.read('v3/layout.json'), { message: /layout\.json is more than the 268435456 bytes/ });
    t.true(sent.bytes < 512 * 1024 * 1024, `sent ${sent.bytes}`);
  } finally {
    server.close();
  }
});
