// Loopback HTTP servers for tests: fronts to the real registry that watch or change what it
// answers, and static mirrors. Mocks only of what a real server cannot be made to do (serve wrong
// bytes, fail on cue, stall); every test that uses one says so.
import { readFile } from 'node:fs/promises';
import { createServer, request as httpRequest, type IncomingMessage, type RequestListener, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';

/** A server listening on 127.0.0.1. */
export interface LoopbackServer {
  /** `127.0.0.1:PORT` */
  host: string;
  /** `http://127.0.0.1:PORT` */
  url: string;
  /** Stop listening and drop open connections. */
  close: () => void;
}

/** Serve `handler` on a free loopback port. */
export async function listenLoopback(handler: RequestListener): Promise<LoopbackServer> {
  const server = createServer(handler);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const host = `127.0.0.1:${(server.address() as AddressInfo).port}`;
  return {
    host,
    url: `http://${host}`,
    close: () => {
      server.close();
      server.closeAllConnections();
    },
  };
}

/** Options of startFront: each hook sees the request; `rewrite` gets the whole upstream body. */
export interface FrontOptions {
  /** Called for every request (e.g. to count them). */
  onRequest?: (req: IncomingMessage) => void;
  /** Answer the request itself instead of forwarding it (return true when it did). */
  intercept?: (req: IncomingMessage, res: ServerResponse) => boolean;
  /** Change an upstream body before it is served (content-length is fixed up). */
  rewrite?: (req: IncomingMessage, body: Buffer) => Buffer;
}

/** A front to `upstreamUrl` (e.g. the real test registry) that forwards every request. */
export async function startFront(upstreamUrl: string, options: FrontOptions = {}): Promise<LoopbackServer> {
  return listenLoopback((req, res) => {
    options.onRequest?.(req);
    if (options.intercept?.(req, res)) {
      req.resume();
      return;
    }
    const upstream = httpRequest(`${upstreamUrl}${req.url}`, { method: req.method, headers: req.headers }, (up) => {
      const headers = { ...up.headers };
      // Upload locations must point back at this front, not at the server behind it.
      if (typeof headers.location === 'string') headers.location = headers.location.replace(upstreamUrl, '');
      if (!options.rewrite) {
        res.writeHead(up.statusCode ?? 500, headers);
        up.pipe(res);
        return;
      }
      const chunks: Buffer[] = [];
      up.on('data', (chunk: Buffer) => chunks.push(chunk));
      up.on('end', () => {
        const original = Buffer.concat(chunks);
        const body = options.rewrite!(req, original);
        // A HEAD answer has no body but a real content-length: keep it unless the body was rewritten.
        if (body !== original) headers['content-length'] = String(body.length);
        res.writeHead(up.statusCode ?? 500, headers).end(body);
      });
    });
    req.pipe(upstream);
  });
}

/** The path of a request, decoded. */
export function requestPath(req: IncomingMessage): string {
  return decodeURIComponent(new URL(req.url ?? '/', 'http://x').pathname);
}

/** Hooks of serveDirectory. */
export interface DirectoryHooks {
  /** Sees the decoded path of every request. */
  onRequest?: (path: string) => void;
  /** Answers a found file itself (return true when it did), e.g. to stall halfway. */
  serve?: (path: string, body: Buffer, res: ServerResponse) => boolean;
}

/** Serve the files below `root` (a buildcache in file layout over HTTP); 404 for anything else. */
export async function serveDirectory(root: string, hooks: DirectoryHooks = {}): Promise<LoopbackServer> {
  return listenLoopback(async (req, res) => {
    const path = requestPath(req);
    hooks.onRequest?.(path);
    let body: Buffer;
    try {
      body = await readFile(join(root, path));
    } catch {
      res.writeHead(404).end();
      return;
    }
    if (hooks.serve?.(path, body, res) === true) return;
    res.writeHead(200, { 'content-length': String(body.length) }).end(body);
  });
}

/** A copy of `body` with its last byte changed: what a tampering server would serve. */
export function flipLastByte(body: Buffer): Buffer {
  const changed = Buffer.from(body);
  changed[changed.length - 1] = changed[changed.length - 1]! ^ 1;
  return changed;
}
