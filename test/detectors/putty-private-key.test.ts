// PuTTY .ppk private keys made with the real puttygen (Debian's putty-tools) at run time: v2 and v3,
// RSA and Ed25519, encrypted and not. The public outputs of puttygen are the negative controls.
import test from 'ava';
import { execa } from 'execa';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parsePpk, scanConfigValue, type ContentScanResult } from '../../src/detectors/index.js';
import { createRandom, fuzzSeed } from '../helpers/seeded-random.js';
import { scanInChunks } from './scan-in-chunks.js';

let work: string;
test.before(async () => {
  work = await mkdtemp(join(tmpdir(), 'eic-ppk-'));
  await writeFile(join(work, 'empty'), '');
  await writeFile(join(work, 'pass'), 'correct horse\n');
});
test.after.always(async () => {
  if (work) await rm(work, { recursive: true, force: true });
});

type Made = { ppk: Buffer; publicRfc4716: Buffer; publicOpenssh: Buffer; sha256: string };

async function puttygen(name: string, type: string, version: 2 | 3, encrypted: boolean): Promise<Made> {
  const file = join(work, `${name}.ppk`);
  const bits = type === 'rsa' ? ['-b', '2048'] : [];
  const params = version === 3 ? 'version=3,kdf=argon2id,memory=8192,passes=1' : 'version=2';
  await execa('puttygen', ['-t', type, ...bits, '-q', '-C', name, '-o', file, '--new-passphrase', join(work, encrypted ? 'pass' : 'empty'), '--ppk-param', params]);
  const open = encrypted ? ['--old-passphrase', join(work, 'pass')] : [];
  const publicRfc4716 = Buffer.from((await execa('puttygen', [file, ...open, '-O', 'public'], { encoding: 'buffer' })).stdout);
  const publicOpenssh = Buffer.from((await execa('puttygen', [file, ...open, '-O', 'public-openssh'], { encoding: 'buffer' })).stdout);
  await writeFile(join(work, `${name}.pub`), publicOpenssh);
  const sha256 = (await execa('ssh-keygen', ['-lf', join(work, `${name}.pub`)])).stdout.split(' ')[1]!;
  return { ppk: await readFile(file), publicRfc4716, publicOpenssh, sha256 };
}

function scan(bytes: Uint8Array, sizes: (() => number) | null = null): ContentScanResult {
  return scanInChunks(bytes, { path: 'id.ppk', knownKeys: [] }, sizes);
}

const cases: Array<{ type: string; version: 2 | 3; encrypted: boolean }> = [
  { type: 'ed25519', version: 3, encrypted: false },
  { type: 'ed25519', version: 3, encrypted: true },
  { type: 'rsa', version: 3, encrypted: true },
  { type: 'rsa', version: 2, encrypted: false },
  { type: 'ed25519', version: 2, encrypted: true },
];

for (const { type, version, encrypted } of cases) {
  const name = `${type}-v${version}-${encrypted ? 'encrypted' : 'plain'}`;
  test(`[integration] puttygen ${name}: a finding with the key's ssh-keygen SHA256 identity, in any chunking, also with CRLF; its public outputs are no finding`, async (t) => {
    const made = await puttygen(name, type, version, encrypted);
    const random = createRandom(fuzzSeed());
    const prefix = Buffer.from('some text before the key\n');
    const bytes = Buffer.concat([prefix, made.ppk]);
    for (const sizes of [null, () => 1, () => 1 + random.int(300)]) {
      const result = scan(bytes, sizes);
      t.is(result.findings.length, 1, `seed ${random.seed}: ${JSON.stringify(result)}`);
      const finding = result.findings[0]!;
      t.is(finding.detector, 'putty-private-key');
      t.is(finding.kind, `ppk-v${version}`);
      t.is(finding.offset, prefix.length);
      t.deepEqual(finding.fingerprints, [made.sha256]);
      t.regex(finding.message, encrypted ? /encrypted with aes256-cbc/ : /not encrypted/);
      const privateLines = made.ppk.toString('latin1').split('Private-Lines:')[1]!.split('\n').slice(1, -2);
      for (const line of privateLines) t.false(JSON.stringify(result).includes(line.slice(0, 16)), 'no private bytes in the report');
    }
    const crlf = Buffer.from(made.ppk.toString('latin1').replace(/\n/g, '\r\n'), 'latin1');
    t.deepEqual(
      scan(crlf).findings.map((f) => f.fingerprints),
      [[made.sha256]],
    );
    t.deepEqual(scan(made.publicRfc4716).findings, []);
    t.deepEqual(scan(made.publicOpenssh).findings, []);
  });
}

test('[integration] a .ppk cut before its MAC, or with a public blob of another type, is a note, never a finding', async (t) => {
  const made = await puttygen('cut', 'ed25519', 3, false);
  const text = made.ppk.toString('latin1');
  const cut = scan(Buffer.from(text.slice(0, text.indexOf('Private-MAC')), 'latin1'));
  t.deepEqual(cut.findings, []);
  t.true(cut.notes.some((note) => note.detector === 'putty-private-key'));
  t.regex(JSON.stringify(parsePpk(text.replace('ssh-ed25519', 'ssh-rsa'))), /not a key of the header type/);
});

test('[integration] a .ppk passed base64-encoded in a config value (a build argument) is found by the config-value scanner', async (t) => {
  const made = await puttygen('config', 'ed25519', 3, false);
  const result = scanConfigValue(`DEPLOY_KEY=${made.ppk.toString('base64')}`, []);
  t.deepEqual(
    result.findings.map((f) => [f.kind, f.fingerprints]),
    [['base64-ppk-v3', [made.sha256]]],
  );
});

test('[integration] a .ppk re-saved by PowerShell (UTF-16LE with a BOM, real iconv) is found at any byte offset; its public output is not', async (t) => {
  const made = await puttygen('utf16', 'ed25519', 3, true);
  const utf16 = async (bytes: Buffer): Promise<Buffer> =>
    Buffer.concat([Buffer.from([0xff, 0xfe]), Buffer.from((await execa('iconv', ['-f', 'UTF-8', '-t', 'UTF-16LE'], { input: bytes, encoding: 'buffer' })).stdout)]);
  const encoded = await utf16(Buffer.from(made.ppk.toString('latin1').replace(/\n/g, '\r\n'), 'latin1'));
  for (let shift = 0; shift < 3; shift++) {
    const result = scan(Buffer.concat([Buffer.alloc(shift, 0x20), encoded]), () => 1 + ((shift * 37) % 101));
    t.deepEqual(
      result.findings.map((f) => [f.kind, f.fingerprints, f.offset]),
      [['utf16-ppk-v3', [made.sha256], shift + 2]],
    );
  }
  t.deepEqual(scan(await utf16(made.publicRfc4716)).findings, []);
});

test('[integration] a .ppk pasted indented into a YAML block or escaped in a JSON string (LF and CRLF) is a finding, in any chunking', async (t) => {
  for (const { type, version, encrypted } of [
    { type: 'ed25519', version: 3, encrypted: false },
    { type: 'rsa', version: 2, encrypted: true },
  ] as const) {
    const made = await puttygen(`embedded-${type}-v${version}`, type, version, encrypted);
    const text = made.ppk.toString('latin1');
    const yaml = `deploy:\n  key: |\n${text
      .trimEnd()
      .split('\n')
      .map((line) => `    ${line}`)
      .join('\n')}\n  user: ci\n`;
    const forms = {
      yaml,
      json: `{"key": ${JSON.stringify(text)}, "user": "ci"}\n`,
      'json-crlf': `{"key": ${JSON.stringify(text.replace(/\n/g, '\r\n'))}}`,
      'json-slashes': `{"key":${JSON.stringify(text).replace(/\//g, '\\/')}}`,
    };
    const random = createRandom(fuzzSeed());
    for (const [form, body] of Object.entries(forms)) {
      for (const sizes of [null, () => 1, () => 1 + random.int(300)]) {
        const result = scan(Buffer.from(body, 'latin1'), sizes);
        t.deepEqual(
          result.findings.map((f) => [f.kind, f.fingerprints]),
          [[`ppk-v${version}`, [made.sha256]]],
          `${form} seed ${random.seed}: ${JSON.stringify(result.notes)}`,
        );
      }
    }
  }
});

test('[integration] a .ppk block that cannot be validated is a note saying so, never "not a leak"', async (t) => {
  const made = await puttygen('unvalidated', 'ed25519', 3, false);
  const text = made.ppk.toString('latin1');
  const result = scan(Buffer.from(text.replace(/Private-Lines: \d+/, 'Private-Lines: 0'), 'latin1'));
  t.deepEqual(result.findings, []);
  const notes = result.notes.filter((note) => note.detector === 'putty-private-key').map((note) => note.message);
  t.is(notes.length, 1);
  t.regex(notes[0]!, /could not be validated/);
  t.notRegex(notes[0]!, /not a leak/);
});
