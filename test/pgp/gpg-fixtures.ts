// Real GnuPG 2.2 key material for tests, generated at run time in a temporary --homedir (never committed).
import { execa } from 'execa';
import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { requireIntegration } from '../helpers/unit-only.js';

/** A throw-away GnuPG home directory. */
export type GpgHome = {
  dir: string;
  gpg(args: string[], input?: string | Uint8Array): Promise<Buffer>;
  /** Generate a primary key (no passphrase unless given); returns its fingerprint. */
  generate(uid: string, algorithm: string, options?: { passphrase?: string; usage?: string }): Promise<string>;
  addSubkey(fingerprint: string, algorithm: string, options?: { passphrase?: string }): Promise<void>;
  /** fpr and grp pairs of every secret key and subkey, as `gpg --with-colons --with-keygrip -K` prints them. */
  listSecret(): Promise<Array<{ fingerprint: string; keygrip: string; primary: string }>>;
  /** The files under private-keys-v1.d, by name. */
  keyFiles(): Promise<Map<string, Buffer>>;
  close(): Promise<void>;
};

/** Make a GnuPG home in the temp directory; `close()` stops its agent and removes it. */
export async function createGpgHome(): Promise<GpgHome> {
  requireIntegration('gpg (a GnuPG home)');
  const dir = await mkdtemp(join(tmpdir(), 'eic-gpg-'));
  const env = { GNUPGHOME: dir, LC_ALL: 'C' };
  // A fixed S2K count skips gpg-agent's calibration, which takes ~8 s per protected key here.
  await writeFile(join(dir, 'gpg-agent.conf'), 's2k-count 65536\n');
  const gpg = async (args: string[], input?: string | Uint8Array): Promise<Buffer> => {
    const result = await execa('gpg', ['--batch', '--homedir', dir, ...args], { env, input, encoding: 'buffer', stripFinalNewline: false });
    return Buffer.from(result.stdout);
  };
  const pass = (passphrase?: string): string[] => ['--pinentry-mode', 'loopback', '--passphrase', passphrase ?? ''];
  return {
    dir,
    gpg,
    async generate(uid, algorithm, options = {}) {
      await gpg([...pass(options.passphrase), '--quick-gen-key', uid, algorithm, options.usage ?? 'default', 'never']);
      const listing = (await gpg(['--with-colons', '--list-secret-keys', uid])).toString('utf8');
      return /^fpr:+([0-9A-F]{40}):/m.exec(listing)![1]!;
    },
    async addSubkey(fingerprint, algorithm, options = {}) {
      await gpg([...pass(options.passphrase), '--quick-add-key', fingerprint, algorithm, 'encr', 'never']);
    },
    async listSecret() {
      const lines = (await gpg(['--with-colons', '--with-keygrip', '-K'])).toString('utf8').split('\n');
      const out: Array<{ fingerprint: string; keygrip: string; primary: string }> = [];
      let primary = '';
      let current: { fingerprint: string; keygrip: string; primary: string } | null = null;
      let nextIsPrimary = false;
      for (const line of lines) {
        const fields = line.split(':');
        if (fields[0] === 'sec') nextIsPrimary = true;
        if (fields[0] === 'ssb') nextIsPrimary = false;
        if (fields[0] === 'fpr') {
          if (nextIsPrimary) primary = fields[9]!;
          current = { fingerprint: fields[9]!, keygrip: '', primary };
          out.push(current);
        }
        if (fields[0] === 'grp' && current) current.keygrip = fields[9]!;
      }
      return out;
    },
    async keyFiles() {
      const folder = join(dir, 'private-keys-v1.d');
      const files = new Map<string, Buffer>();
      for (const name of await readdir(folder)) files.set(name, await readFile(join(folder, name)));
      return files;
    },
    async close() {
      await execa('gpgconf', ['--homedir', dir, '--kill', 'all'], { env, reject: false });
      await rm(dir, { recursive: true, force: true });
    },
  };
}
