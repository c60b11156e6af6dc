// .ci/install-buildx.sh: Debian 13's docker-buildx plugin, fetched through a temporary apt directory
// (the machine's apt sources and lists stay as they were), works with both docker clients here.
import test from 'ava';
import { execa } from 'execa';
import { mkdtemp, readdir, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { repoRoot } from '../helpers/cli.js';

async function snapshot(dir: string): Promise<string[]> {
  const names = await readdir(dir).catch(() => [] as string[]);
  return Promise.all(names.sort().map(async (name) => `${name}:${(await stat(join(dir, name))).mtimeMs}`));
}

test('[integration] the plugin lands in EIC_BUILD_CLI_PLUGINS_DIR, both clients run it, apt is untouched, a second run does nothing', async (t) => {
  t.timeout(5 * 60_000);
  const config = await mkdtemp(join(tmpdir(), 'eic-build-buildx-install-'));
  try {
    const before = [await snapshot('/etc/apt/sources.list.d'), await snapshot('/var/lib/apt/lists')];
    const env = { ...process.env, EIC_BUILD_CLI_PLUGINS_DIR: join(config, 'cli-plugins') };
    const first = await execa('bash', ['.ci/install-buildx.sh'], { cwd: repoRoot, env, reject: false, all: true });
    t.is(first.exitCode, 0, String(first.all));
    t.regex(String(first.all), /buildx plugin installed: github\.com\/docker\/buildx 0\.\d+/);
    t.deepEqual([await snapshot('/etc/apt/sources.list.d'), await snapshot('/var/lib/apt/lists')], before, "the machine's apt sources and lists are unchanged");
    for (const docker of ['/usr/bin/docker', '/usr/local/bin/docker']) {
      const ls = await execa(docker, ['buildx', 'ls'], { env: { ...process.env, DOCKER_CONFIG: config }, reject: false, all: true });
      t.is(ls.exitCode, 0, `${docker}: ${String(ls.all)}`);
      t.regex(String(ls.stdout), /default\*?\s+docker/, `${docker} sees the default builder with the docker driver`);
    }
    const second = await execa('bash', ['.ci/install-buildx.sh'], { cwd: repoRoot, env, reject: false, all: true });
    t.is(second.exitCode, 0);
    t.regex(String(second.all), /^buildx plugin present: /);
  } finally {
    await rm(config, { recursive: true, force: true });
  }
});
