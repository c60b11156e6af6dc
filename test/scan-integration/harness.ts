/**
 * Shared parts of the scanner's integration tests: real keys from real gpg (generated at run time in a
 * temp --homedir, never committed), real images built by the real engine with BuildKit, `docker save`
 * archives, and the CLI run as a child process. Nothing here is mocked.
 */
import { execa } from 'execa';
import { mkdtemp, rm, writeFile, mkdir, readFile, chmod } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, dirname } from 'node:path';
import { randomBytes } from 'node:crypto';
import { runCli } from '../helpers/cli.js';
import type { ScanReport } from '../../src/scan/report.js';

/** The engine CLI that can do BuildKit builds (`/usr/local/bin/docker` on PATH cannot). */
export const DOCKER = '/usr/bin/docker';

/** One finding as `eic-build scan --format json` prints it (the schema of issue 2). */
export interface JsonFinding {
  detector: string;
  kind: string;
  severity: string;
  source: 'layer' | 'config';
  layer: { index: number; digest: string } | null;
  path: string | null;
  nestedPath: string | null;
  field: string | null;
  visibleInFinalImage: boolean;
  fingerprints: string[];
  keygrips: string[];
  matchesPublicKey: boolean;
  createdBy: string | null;
  /** Beyond the minimum (scan-core's report): the later layer that hid a not-visible finding. */
  hiddenBy?: { index: number; digest: string; how: string } | null;
  [other: string]: unknown;
}

/** The whole JSON report. */
export interface JsonReport {
  target: string;
  leaked: boolean;
  findings: JsonFinding[];
  notes?: unknown[];
  stats: { layers: number; bytesScanned: number; seconds: number };
}

/**
 * The schema above is written out on purpose (the contract of issue 2, not whatever the code does),
 * but the report the scanner builds must keep satisfying it: a renamed or retyped field fails the typecheck.
 */
export const reportMatchesSchema = (report: ScanReport): JsonReport => ({ ...report, findings: report.findings.map((finding): Named<JsonFinding> => finding) });
/** A type's named fields, without its index signature. */
type Named<T> = { [K in keyof T as string extends K ? never : K]: T[K] };

/** A key made by real gpg, with everything a test compares against. */
export interface GpgKey {
  homedir: string;
  armoredSecret: string;
  armoredPublic: string;
  binarySecret: Buffer;
  /** Upper-case hex fingerprints, primary first, then subkeys. */
  fingerprints: string[];
  /** Upper-case hex keygrips, primary first, then subkeys (the names of the private-keys-v1.d files). */
  keygrips: string[];
  /** Files in `dir` holding the exports, for COPY / --public-key. */
  files: { secretAsc: string; publicAsc: string; secretGpg: string };
}

/** A temp directory removed by the returned cleanup (call it from t.teardown / test.after.always). */
export async function makeTempDir(prefix: string): Promise<{ dir: string; cleanup: () => Promise<void> }> {
  const dir = await mkdtemp(join(tmpdir(), `eic-build-${prefix}-`));
  await chmod(dir, 0o700);
  return { dir, cleanup: () => rm(dir, { recursive: true, force: true }) };
}

async function gpg(homedir: string, args: string[], input?: string) {
  return execa('gpg', ['--homedir', homedir, '--batch', '--no-tty', ...args], { input, stripFinalNewline: false });
}

/** Parse `gpg --with-colons --with-keygrip -K/-k` output into fingerprints and keygrips, in order. */
export function parseColons(text: string): { fingerprints: string[]; keygrips: string[] } {
  const fingerprints: string[] = [];
  const keygrips: string[] = [];
  for (const line of text.split('\n')) {
    const fields = line.split(':');
    if (fields[0] === 'fpr') fingerprints.push(fields[9]!.toUpperCase());
    if (fields[0] === 'grp') keygrips.push(fields[9]!.toUpperCase());
  }
  return { fingerprints, keygrips };
}

/**
 * Generate an OpenPGP key with real gpg in `dir/<name>-home`: a signing primary key and an encryption
 * subkey, so both secret-key and secret-subkey packets exist. ed25519 is quick; rsa3072 is what many
 * older signing keys are. The user ID is kept under 16 bytes so that "no 16-byte run of the key" checks
 * on reports test key material, not a name a report may legitimately print.
 */
export async function generateGpgKey(dir: string, name: string, options: { algo?: 'ed25519' | 'rsa3072'; passphrase?: string } = {}): Promise<GpgKey> {
  const homedir = join(dir, `${name}-home`);
  await mkdir(homedir, { mode: 0o700 });
  const algo = options.algo ?? 'ed25519';
  const passphrase = options.passphrase ?? '';
  const pass = ['--pinentry-mode', 'loopback', '--passphrase', passphrase];
  const uid = `${name.slice(0, 4)} <k@e.test>`;
  await gpg(homedir, [...pass, '--quick-gen-key', uid, algo, 'sign', 'never']);
  const listed = parseColons((await gpg(homedir, ['--with-colons', '--with-keygrip', '-K'])).stdout);
  const primary = listed.fingerprints[0]!;
  await gpg(homedir, [...pass, '--quick-add-key', primary, algo === 'ed25519' ? 'cv25519' : 'rsa3072', 'encr', 'never']);
  const { fingerprints, keygrips } = parseColons((await gpg(homedir, ['--with-colons', '--with-keygrip', '-K'])).stdout);
  const armoredSecret = (await gpg(homedir, [...pass, '--export-secret-keys', '--armor', primary])).stdout;
  const armoredPublic = (await gpg(homedir, ['--export', '--armor', primary])).stdout;
  const binary = await execa('gpg', ['--homedir', homedir, '--batch', '--no-tty', ...pass, '--export-secret-keys', primary], {
    encoding: 'buffer',
  });
  const binarySecret = Buffer.from(binary.stdout);
  const files = {
    secretAsc: join(dir, `${name}-secret.asc`),
    publicAsc: join(dir, `${name}-public.asc`),
    secretGpg: join(dir, `${name}-secret.gpg`),
  };
  await writeFile(files.secretAsc, armoredSecret, { mode: 0o600 });
  await writeFile(files.publicAsc, armoredPublic);
  await writeFile(files.secretGpg, binarySecret, { mode: 0o600 });
  return { homedir, armoredSecret, armoredPublic, binarySecret, fingerprints, keygrips, files };
}

/** Stop the gpg-agent a generated key's homedir started, so the temp dir can go. */
export async function stopAgent(key: GpgKey): Promise<void> {
  await execa('gpgconf', ['--homedir', key.homedir, '--kill', 'gpg-agent'], { reject: false });
}

/** What a test image is made of: a Dockerfile and the files of its build context. */
export interface ImageSpec {
  name: string;
  dockerfile: string;
  /** Context files: relative path -> content, or `{ from }` to copy a host file. */
  context?: Record<string, string | Buffer | { from: string }>;
  /** Build args passed by name only; values come through the environment, never argv. */
  buildArgsFromEnv?: Record<string, string>;
  /** BuildKit secrets: id -> host file. */
  secrets?: Record<string, string>;
}

/** A built image: its tag, its uncompressed layer digests (diff IDs, in order) and its `docker save` archive. */
export interface BuiltImage {
  tag: string;
  diffIds: string[];
  archive: string;
}

const RUN_ID = `${process.pid}-${randomBytes(3).toString('hex')}`;

/** Build with BuildKit through the real engine, then `docker save` it into `dir`. */
export async function buildImage(dir: string, spec: ImageSpec): Promise<BuiltImage> {
  const contextDir = join(dir, `ctx-${spec.name}`);
  await mkdir(contextDir, { recursive: true, mode: 0o700 });
  await writeFile(join(contextDir, 'Dockerfile'), spec.dockerfile);
  for (const [path, content] of Object.entries(spec.context ?? {})) {
    const target = join(contextDir, path);
    await mkdir(dirname(target), { recursive: true });
    const bytes = typeof content === 'string' || Buffer.isBuffer(content) ? content : await readFile(content.from);
    await writeFile(target, bytes, { mode: 0o644 });
  }
  const tag = `eic-build-test/scan-${spec.name}:${RUN_ID}`;
  const args = ['build', '--progress=plain', '-t', tag];
  for (const name of Object.keys(spec.buildArgsFromEnv ?? {})) args.push('--build-arg', name);
  for (const [id, src] of Object.entries(spec.secrets ?? {})) args.push('--secret', `id=${id},src=${src}`);
  args.push(contextDir);
  const built = await execa(DOCKER, args, {
    env: { DOCKER_BUILDKIT: '1', ...spec.buildArgsFromEnv },
    reject: false,
    all: true,
  });
  if (built.exitCode !== 0) throw new Error(`docker build of ${spec.name} failed:\n${built.all}`);
  const inspected = JSON.parse((await execa(DOCKER, ['image', 'inspect', tag])).stdout) as { RootFS: { Layers: string[] } }[];
  const archive = join(dir, `${spec.name}.tar`);
  await execa(DOCKER, ['save', '-o', archive, tag]);
  return { tag, diffIds: inspected[0]!.RootFS.Layers, archive };
}

/** Remove test images (tags only; shared base layers stay for the next run). */
export async function removeImages(images: (BuiltImage | undefined)[]): Promise<void> {
  const tags = images.filter((i): i is BuiltImage => i !== undefined).map((i) => i.tag);
  if (tags.length > 0) await execa(DOCKER, ['rmi', '--force', ...tags], { reject: false });
}

/** Run `eic-build scan` as a real child process. */
export async function scan(target: string, extra: string[] = []) {
  const result = await runCli(['scan', target, ...extra], { encoding: 'utf8' });
  return { exitCode: result.exitCode, stdout: String(result.stdout), stderr: String(result.stderr) };
}

/** Run `eic-build scan --format json` and parse the report; throws with stderr when stdout is not JSON. */
export async function scanJson(target: string, extra: string[] = []): Promise<{ exitCode: number | undefined; report: JsonReport; stderr: string }> {
  const result = await scan(target, ['--format', 'json', ...extra]);
  let report: JsonReport;
  try {
    report = JSON.parse(result.stdout) as JsonReport;
  } catch {
    throw new Error(`scan ${target} printed no JSON report (exit ${result.exitCode}); stderr:\n${result.stderr.slice(0, 2000)}`);
  }
  return { exitCode: result.exitCode, report, stderr: result.stderr };
}

/** The finding's fields that do not depend on how the image is stored (for comparing sources). */
export function comparable(finding: JsonFinding) {
  return {
    detector: finding.detector,
    kind: finding.kind,
    source: finding.source,
    layerIndex: finding.layer?.index ?? null,
    path: finding.path,
    nestedPath: finding.nestedPath,
    field: finding.field,
    visibleInFinalImage: finding.visibleInFinalImage,
    hiddenBy: finding.hiddenBy ? { index: finding.hiddenBy.index, how: finding.hiddenBy.how } : null,
    fingerprints: [...finding.fingerprints].map((f) => f.toUpperCase()).sort(),
    keygrips: [...finding.keygrips].map((k) => k.toUpperCase()).sort(),
    matchesPublicKey: finding.matchesPublicKey,
  };
}

/** Sorted comparable findings of a report. */
export function comparableFindings(report: JsonReport) {
  return report.findings.map(comparable).sort((a, b) => JSON.stringify(a).localeCompare(JSON.stringify(b)));
}

/** Upper-case hex with no separators, for comparing fingerprints/keygrips whatever case the report uses. */
export function hexUpper(values: string[]): string[] {
  return values.map((v) => v.replace(/[^0-9a-f]/gi, '').toUpperCase());
}

/** Every `width`-long run of `text`, for checking a report contains no piece of a key. */
export function runsOf(text: string, width: number): string[] {
  const runs: string[] = [];
  for (let i = 0; i + width <= text.length; i++) runs.push(text.slice(i, i + width));
  return runs;
}

/** The base64 body of an armored block: the lines between the blank line after the header and the checksum. */
export function armorBody(armored: string): string {
  const lines = armored.split(/\r?\n/);
  const start = lines.findIndex((l) => l.trim() === '') + 1;
  const body: string[] = [];
  for (const line of lines.slice(start)) {
    if (line.startsWith('=') || line.startsWith('-----END')) break;
    body.push(line.trim());
  }
  return body.join('');
}
