import Docker from 'dockerode';
import { execa } from 'execa';
import { mkdtemp, rm, mkdir, writeFile, symlink, copyFile, chmod, readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, dirname } from 'node:path';
import { spawn } from 'node:child_process';
import { EicBuildError } from '../errors.js';
import { readAptMirror } from './apt-mirror.js';
import { formatDuration, SILENT_PROGRESS, type ProgressReporter, type ProgressTask } from '../progress/index.js';

/** How to make a base image locally, for machines that cannot pull one. */
export type BaseImageSpec =
  | {
      kind: 'debootstrap';
      /** Image reference to create, e.g. `eic-build/bookworm-gnupg:local`. */
      name: string;
      suite?: string;
      /** Extra Debian packages (`--include`). */
      packages?: string[];
      /** Host files copied into the root file system (e.g. the host's node binary). */
      hostFiles?: { from: string; to: string; mode?: number }[];
    }
  | {
      kind: 'busybox';
      name: string;
    };

/**
 * True when the engine already holds the image, false when it says it does not (404). An engine
 * that cannot be asked is an error: taken for "absent", it would start minutes of debootstrap
 * that can only fail at the import.
 */
export async function imageExists(docker: Docker, name: string): Promise<boolean> {
  try {
    await docker.getImage(name).inspect();
    return true;
  } catch (error) {
    if ((error as { statusCode?: number }).statusCode === 404) return false;
    throw new EicBuildError('docker-unavailable', `cannot ask the Docker engine whether base image ${name} exists: ${error instanceof Error ? error.message : String(error)}`, {
      hint: 'is dockerd running, and do DOCKER_HOST / DOCKER_CONTEXT (docker context ls) name the engine you mean? eic-build doctor checks.',
    });
  }
}

/** Pure: the line said before a base image is made, with how long it usually takes. */
export function describeBaseImageWork(spec: BaseImageSpec): string {
  if (spec.kind === 'busybox') return `making base image ${spec.name} from this machine's busybox (a few seconds)…`;
  return `making base image ${spec.name} with debootstrap ${spec.suite ?? 'bookworm'}${spec.packages?.length ? ` + ${spec.packages.join(', ')}` : ''} from the machine's apt mirror (about a minute, longer on a slow mirror)…`;
}

/**
 * Make the base image unless the engine has it already. Concurrent callers (parallel tests) are
 * serialised by a lock directory so the image is made once. `progress` hears of it before it starts
 * and while it runs: a debootstrap is minutes of otherwise silent work.
 */
export async function ensureBaseImage(spec: BaseImageSpec, docker: Docker = new Docker(), progress: ProgressReporter = SILENT_PROGRESS): Promise<{ created: boolean }> {
  if (await imageExists(docker, spec.name)) return { created: false };
  const lock = join(tmpdir(), `eic-build-base-${spec.name.replace(/[^\w.-]/g, '_')}.lock`);
  await acquireLock(lock, () => progress.announce(`waiting for another eic-build that is making base image ${spec.name} (lock ${lock})…`));
  try {
    if (await imageExists(docker, spec.name)) return { created: false };
    progress.announce(describeBaseImageWork(spec));
    const started = Date.now();
    const task = progress.start(`making base image ${spec.name}`, { announce: false });
    const root = await mkdtemp(join(tmpdir(), 'eic-build-rootfs-'));
    let made = false;
    try {
      if (spec.kind === 'debootstrap') await debootstrap(spec, root, task);
      else await busyboxRootfs(root);
      await unmountBelow(root);
      task.status('importing the root file system into the engine');
      await importRootfs(docker, root, spec.name);
      made = true;
    } finally {
      task.finish(made ? `made base image ${spec.name} (${spec.kind}) in ${formatDuration(Date.now() - started)}` : undefined);
      // debootstrap can leave proc/sys mounted when a package script fails or keeps a process alive;
      // removing the tree before they are gone would walk into the host's /proc.
      await unmountBelow(root);
      await rm(root, { recursive: true, force: true });
    }
    return { created: true };
  } finally {
    await rm(lock, { recursive: true, force: true });
  }
}

/** Lazily unmount every mount point inside `root`, deepest first. */
async function unmountBelow(root: string): Promise<void> {
  const mounts = await readFile('/proc/self/mounts', 'utf8').catch(() => '');
  const below = parseMountPoints(mounts).filter((point) => point.startsWith(`${root}/`));
  for (const point of below.sort((a, b) => b.length - a.length)) {
    await execa('umount', ['-l', point], { reject: false });
  }
}

/** Mount points from /proc/self/mounts text (octal escapes such as \040 decoded). */
export function parseMountPoints(text: string): string[] {
  return text
    .split('\n')
    .map((line) => line.split(' ')[1])
    .filter((point): point is string => Boolean(point))
    .map((point) => point.replace(/\\([0-7]{3})/g, (_m, octal: string) => String.fromCharCode(parseInt(octal, 8))));
}

/**
 * Take the lock directory `lock`, waiting up to `waitMs` while another process holds it. Only an
 * existing directory means "held": any other failure (a TMPDIR that is missing or read-only) is
 * said at once instead of being waited on.
 */
export async function acquireLock(lock: string, onWait: () => void, waitMs = 15 * 60_000): Promise<void> {
  const deadline = Date.now() + waitMs;
  let told = false;
  for (;;) {
    try {
      await mkdir(lock);
      return;
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code;
      if (code !== 'EEXIST') {
        throw new EicBuildError('output-unwritable', `cannot create the lock ${lock}: ${code ?? String(error)}`, {
          hint: 'set TMPDIR to an existing directory this user can write to.',
        });
      }
      if (!told) onWait();
      told = true;
      if (Date.now() > deadline) {
        throw new EicBuildError('build-failed', `timed out after ${formatDuration(waitMs)} waiting for the lock ${lock}`, {
          hint: `another eic-build is making that base image, or one that stopped left its lock: if none is running, remove ${lock}.`,
        });
      }
      await new Promise((resolve) => setTimeout(resolve, Math.min(500, waitMs)));
    }
  }
}

async function debootstrap(spec: Extract<BaseImageSpec, { kind: 'debootstrap' }>, root: string, task: ProgressTask): Promise<void> {
  const mirror = await readAptMirror();
  if (!mirror) {
    throw new EicBuildError('config', `cannot make base image ${spec.name}: no Debian mirror found in /etc/apt/sources.list(.d)`, {
      hint: 'set EIC_BUILD_DEBIAN_MIRROR to a Debian mirror URI, or pull the base image from a registry instead.',
    });
  }
  const include = spec.packages?.length ? [`--include=${spec.packages.join(',')}`] : [];
  try {
    const child = execa('debootstrap', ['--variant=minbase', ...include, spec.suite ?? 'bookworm', root, mirror], { all: true });
    // debootstrap's `I: Retrieving/Validating/Unpacking/Configuring …` lines are the phase it is in.
    child.all?.on('data', (chunk: Buffer) => {
      const phase = [...chunk.toString('utf8').matchAll(/^I: (.+?)\.*$/gm)].at(-1)?.[1];
      if (phase) task.status(phase.length > 60 ? `${phase.slice(0, 59)}…` : phase);
    });
    await child;
  } catch (error) {
    const output = (error as { all?: string }).all ?? '';
    throw new EicBuildError('build-failed', `debootstrap failed while making base image ${spec.name}: ${output.split('\n').slice(-5).join(' | ')}`, {
      hint: 'install debootstrap (apt-get install debootstrap), run as root, and check that the apt mirror is reachable.',
      cause: error,
    });
  }
  await rm(join(root, 'var/cache/apt/archives'), { recursive: true, force: true });
  await mkdir(join(root, 'var/cache/apt/archives/partial'), { recursive: true });
  for (const file of spec.hostFiles ?? []) {
    const target = join(root, file.to);
    await mkdir(dirname(target), { recursive: true });
    await copyFile(file.from, target);
    if (file.mode !== undefined) await chmod(target, file.mode);
  }
}

async function busyboxRootfs(root: string): Promise<void> {
  const busybox = ['/bin/busybox', '/usr/bin/busybox'];
  let source: string | undefined;
  for (const candidate of busybox) {
    try {
      await copyFile(candidate, join(root, 'busybox.tmp'));
      source = candidate;
      break;
    } catch {
      // try the next location
    }
  }
  if (!source) {
    throw new EicBuildError('config', 'cannot make a busybox base image: no busybox binary on this machine', {
      hint: 'apt-get install busybox-static',
    });
  }
  await mkdir(join(root, 'bin'), { recursive: true });
  await rm(join(root, 'busybox.tmp'));
  await copyFile(source, join(root, 'bin/busybox'));
  await chmod(join(root, 'bin/busybox'), 0o755);
  const { stdout } = await execa(join(root, 'bin/busybox'), ['--list']);
  for (const applet of stdout.split('\n').filter(Boolean)) {
    if (applet !== 'busybox') await symlink('busybox', join(root, 'bin', applet)).catch(() => undefined);
  }
  for (const dir of ['tmp', 'etc', 'root', 'usr/bin']) await mkdir(join(root, dir), { recursive: true });
  await chmod(join(root, 'tmp'), 0o1777);
  await writeFile(join(root, 'etc/passwd'), 'root:x:0:0:root:/root:/bin/sh\n');
}

const TAR_STDERR_LIMIT = 4096;

/**
 * `tar` of `root` streamed into `docker import` as `name`. tar is always waited for: killed when the
 * import fails (else it blocks on a full pipe and keeps the process alive), and its exit status
 * checked, since the engine imports a cut stream as an image without complaint; such an image is
 * removed, or the next run would take it for the finished one.
 */
export async function importRootfs(docker: Docker, root: string, name: string): Promise<void> {
  const [repo, tag] = splitReference(name);
  const tar = spawn('tar', ['-C', root, '--numeric-owner', '--one-file-system', '-c', '.'], { stdio: ['ignore', 'pipe', 'pipe'] });
  let stderr = '';
  tar.stderr.on('data', (data: Buffer) => {
    if (stderr.length < TAR_STDERR_LIMIT) stderr += data.toString('utf8');
  });
  const tarExit = new Promise<{ code: number | null; error: Error | null }>((resolve) => {
    tar.once('error', (error) => resolve({ code: null, error }));
    tar.once('close', (code) => resolve({ code, error: null }));
  });
  try {
    const stream = await docker.importImage(tar.stdout, { repo, tag });
    await new Promise<void>((resolve, reject) => {
      docker.modem.followProgress(stream, (error: Error | null) => (error ? reject(error) : resolve()));
    });
  } catch (error) {
    tar.kill('SIGKILL');
    await tarExit;
    throw new EicBuildError('build-failed', `importing the root file system ${root} as ${name} failed: ${error instanceof Error ? error.message : String(error)}`, {
      hint: 'check that the Docker engine is running and has disk space.',
    });
  }
  const exit = await tarExit;
  if (exit.code !== 0) {
    await docker
      .getImage(name)
      .remove({ force: true })
      .catch(() => undefined);
    const why = exit.error ? exit.error.message : `exit ${exit.code}${stderr.trim() ? `: ${stderr.trim().split('\n').slice(-3).join(' | ')}` : ''}`;
    throw new EicBuildError('build-failed', `tar of the root file system ${root} for base image ${name} failed (${why}); the partial image was removed`, {
      hint: 'check that tar is installed and the file system under TMPDIR has space, then run again.',
    });
  }
  if (!(await imageExists(docker, name))) {
    throw new EicBuildError('build-failed', `importing the root file system as ${name} did not create the image`, {
      hint: 'check that the Docker engine is running and has disk space.',
    });
  }
}

/** `repo[:tag]` (a registry port is not a tag). */
export function splitReference(reference: string): [string, string] {
  const slash = reference.lastIndexOf('/');
  const colon = reference.lastIndexOf(':');
  if (colon > slash) return [reference.slice(0, colon), reference.slice(colon + 1)];
  return [reference, 'latest'];
}
