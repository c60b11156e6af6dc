import { readFile, readdir } from 'node:fs/promises';
import { join } from 'node:path';

/**
 * Debian mirror URI from this machine's apt sources. eic-build never hard-codes a mirror host:
 * images are made from whatever mirror the machine is already configured to trust.
 */
export async function readAptMirror(env: NodeJS.ProcessEnv = process.env, root = '/etc/apt'): Promise<string | undefined> {
  if (env.EIC_BUILD_DEBIAN_MIRROR) return env.EIC_BUILD_DEBIAN_MIRROR;
  const texts: string[] = [];
  texts.push(await readFile(join(root, 'sources.list'), 'utf8').catch(() => ''));
  const dir = join(root, 'sources.list.d');
  for (const name of (await readdir(dir).catch(() => [] as string[])).sort()) {
    if (name.endsWith('.list') || name.endsWith('.sources')) texts.push(await readFile(join(dir, name), 'utf8').catch(() => ''));
  }
  return parseAptMirror(texts.join('\n'));
}

/** First main-archive URI (not a security or updates-only source) from one-line or deb822 apt sources. */
export function parseAptMirror(text: string): string | undefined {
  const candidates: string[] = [];
  for (const line of text.split('\n')) {
    const oneLine = /^\s*deb\s+(?:\[[^\]]*\]\s+)?(\S+)\s+(\S+)/.exec(line);
    if (oneLine?.[1] && !/security/.test(oneLine[1]) && !/-(security|updates|backports)$/.test(oneLine[2] ?? '')) candidates.push(oneLine[1]);
    const deb822 = /^\s*URIs:\s*(\S+)/i.exec(line);
    if (deb822?.[1] && !/security/.test(deb822[1])) candidates.push(deb822[1]);
  }
  return candidates[0];
}
