import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { requireIntegration } from './unit-only.js';

/** A real OCI registry (Debian's docker-registry, distribution 2.8) on loopback, for one test file. */
export interface TestRegistry {
  /** `127.0.0.1:PORT` */
  host: string;
  /** `http://127.0.0.1:PORT` */
  url: string;
  stop(): Promise<void>;
}

/**
 * Start a registry with its own storage; `htpasswd` (bcrypt lines) turns on basic auth. It binds port
 * 0 and says which port it got: a port found free first and bound later can be taken in between (any
 * loopback connection of a test beside it gets an ephemeral port from the same range), and the
 * registry then exits with "address already in use", or another server answers in its place.
 */
export async function startRegistry(options: { htpasswd?: string } = {}): Promise<TestRegistry> {
  requireIntegration('a registry (docker-registry)');
  const dir = await mkdtemp(join(tmpdir(), 'eic-build-registry-'));
  const auth = options.htpasswd ? `auth:\n  htpasswd:\n    realm: eic-build-test\n    path: ${join(dir, 'htpasswd')}\n` : '';
  if (options.htpasswd) await writeFile(join(dir, 'htpasswd'), options.htpasswd);
  // Log level info for the "listening on" line; no access log.
  await writeFile(
    join(dir, 'config.yml'),
    `version: 0.1\nlog:\n  level: info\n  accesslog:\n    disabled: true\nstorage:\n  filesystem:\n    rootdirectory: ${join(dir, 'data')}\n  delete:\n    enabled: true\nhttp:\n  addr: 127.0.0.1:0\n${auth}`,
  );
  const child: ChildProcess = spawn('docker-registry', ['serve', join(dir, 'config.yml')], { stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  let port = 0;
  // Kept reading while the registry runs (a full pipe would stop it); kept as text only until it listens.
  child.stderr?.on('data', (chunk: Buffer) => {
    if (port !== 0) return;
    stderr += chunk.toString();
    port = Number(/msg="listening on 127\.0\.0\.1:(\d+)"/.exec(stderr)?.[1] ?? 0);
  });
  // Only a wait (it ends once the registry answers): wide, as a loaded machine starts it slowly.
  const deadline = Date.now() + 60_000;
  for (;;) {
    if (port !== 0) {
      try {
        const response = await fetch(`http://127.0.0.1:${port}/v2/`);
        if (response.status === 200 || response.status === 401) break;
      } catch {
        // not answering yet
      }
    }
    if (child.exitCode !== null || Date.now() > deadline) {
      child.kill();
      await rm(dir, { recursive: true, force: true });
      throw new Error(`docker-registry did not start: ${stderr}`);
    }
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  const url = `http://127.0.0.1:${port}`;
  return {
    host: `127.0.0.1:${port}`,
    url,
    async stop() {
      child.kill();
      await rm(dir, { recursive: true, force: true });
    },
  };
}
