// The shipped CI integrations, run here with the environment GitLab and GitHub set, against a real
// registry on loopback (basic auth, as a CI registry is) and the real engine with buildx: the GitLab
// template's jobs (test/ci/gitlab-job-runner.ts) and the composite action's run steps
// (test/ci/github-action-runner.ts) are read from the YAML files themselves. What cannot run here:
// GitLab's docker:dind service (this machine's engine stands in), and the action's `uses:` step
// (github/codeql-action/upload-sarif), whose inputs are checked instead.
import test from 'ava';
import { execa } from 'execa';
import { createHash, randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { chmod, cp, mkdir, mkdtemp, readFile, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { generateKey } from '../../src/keys/generate-key.js';
import { repoRoot } from '../helpers/cli.js';
import { BUSYBOX_IMAGE, ensureBusyboxImage } from '../helpers/images.js';
import { startRegistry, type TestRegistry } from '../helpers/registry.js';
import { runCompositeAction } from './github-action-runner.js';
import { runGitlabJob } from './gitlab-job-runner.js';

const TEMPLATE = join(repoRoot, 'ci/gitlab/eic-build.gitlab-ci.yml');
const USER = 'gitlab-ci-token';
const PASSWORD = randomBytes(12).toString('hex');

let registry: TestRegistry;
let work: string;
let baseEnv: NodeJS.ProcessEnv;
let armoredKey: string;
let keyLines: string[];
let leakyTag: string;

/** Secrets that must never show in a job log. */
const leaked = (text: string) => keyLines.some((line) => text.includes(line)) || text.includes(PASSWORD);

test.before(async () => {
  await ensureBusyboxImage();
  const htpasswd = (await execa('htpasswd', ['-nbB', USER, PASSWORD])).stdout.trim();
  registry = await startRegistry({ htpasswd: `${htpasswd}\n` });
  work = await mkdtemp(join(tmpdir(), 'eic-build-ci-test-'));
  const key = await generateKey({ name: 'eic-build CI test key' });
  armoredKey = key.armoredSecretKey;
  keyLines = armoredKey
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l.length >= 40 && !l.startsWith('-----'));
  // The job's own docker config (logins land there), with this machine's buildx plugin if it lives in a user config.
  const dockerConfig = join(work, 'docker-config');
  await mkdir(join(dockerConfig, 'cli-plugins'), { recursive: true });
  const userPlugin = process.env.DOCKER_CONFIG ? join(process.env.DOCKER_CONFIG, 'cli-plugins/docker-buildx') : undefined;
  if (userPlugin && existsSync(userPlugin)) await symlink(userPlugin, join(dockerConfig, 'cli-plugins/docker-buildx'));
  // The job image has eic-build installed (as the image Dockerfile.frontend builds): this checkout's source.
  const bin = join(work, 'bin');
  await mkdir(bin);
  await writeFile(
    join(bin, 'eic-build'),
    `#!/bin/sh\nexec "${process.execPath}" --import "${join(repoRoot, 'node_modules/tsx/dist/loader.mjs')}" "${join(repoRoot, 'src/cli.ts')}" "$@"\n`,
  );
  await chmod(join(bin, 'eic-build'), 0o755);
  baseEnv = { PATH: `${bin}:${process.env.PATH ?? ''}`, HOME: process.env.HOME ?? '/root', DOCKER_CONFIG: dockerConfig, CI: 'true', LANG: 'C.UTF-8' };

  // An image from elsewhere that leaks the key, pushed past eic-build: what the scan jobs must catch.
  const leakyContext = join(work, 'leaky');
  await mkdir(leakyContext);
  await writeFile(join(leakyContext, 'key.asc'), armoredKey, { mode: 0o600 });
  await writeFile(join(leakyContext, 'Dockerfile'), `FROM ${BUSYBOX_IMAGE}\nCOPY key.asc /root/.gnupg/leaked.asc\n`);
  leakyTag = `${registry.host}/group/leaky:it`;
  await execa('/usr/bin/docker', ['login', '--username', USER, '--password-stdin', registry.host], { input: PASSWORD, env: { ...process.env, DOCKER_CONFIG: dockerConfig } });
  await execa('/usr/bin/docker', ['build', '-q', '-t', leakyTag, leakyContext], { env: { ...process.env, DOCKER_BUILDKIT: '1', DOCKER_CONFIG: dockerConfig } });
  await execa('/usr/bin/docker', ['push', leakyTag], { env: { ...process.env, DOCKER_CONFIG: dockerConfig } });
  await execa('/usr/bin/docker', ['rmi', leakyTag], { reject: false });
});

test.after.always(async () => {
  // The jobs' images (built, pulled) are named after the loopback registry: only this file's.
  if (registry) {
    const images = (await execa('/usr/bin/docker', ['images', '--format', '{{.Repository}}:{{.Tag}}'], { reject: false })).stdout.split('\n');
    for (const image of images.filter((name) => name.startsWith(`${registry.host}/`))) await execa('/usr/bin/docker', ['rmi', image], { reject: false });
  }
  await registry?.stop();
  if (work) await rm(work, { recursive: true, force: true });
});

/**
 * The action's own checkout ($GITHUB_ACTION_PATH), as a runner has it: this repository's action.yml,
 * package.json, bin/ and templates/, its node_modules, and a dist/ compiled now from the current src/.
 * Compiled into this copy, never into the repository's dist/: other test files build images from that
 * dist/ at the same time (Dockerfile.frontend), and tsc rewriting it under them can hand them half a file.
 */
let actionCheckout: Promise<string> | undefined;
function actionFile(): Promise<string> {
  actionCheckout ??= (async () => {
    const dir = join(work, 'action-checkout');
    await mkdir(dir);
    for (const part of ['action.yml', 'package.json', 'bin', 'templates']) await cp(join(repoRoot, part), join(dir, part), { recursive: true });
    await symlink(join(repoRoot, 'node_modules'), join(dir, 'node_modules'));
    await execa('npx', ['tsc', '-p', 'tsconfig.build.json', '--outDir', join(dir, 'dist')], { cwd: repoRoot });
    return join(dir, 'action.yml');
  })();
  return actionCheckout;
}

/** A project as a CI checkout holds it: a Dockerfile whose build uses the key as a secret. */
async function checkout(name: string): Promise<string> {
  const dir = join(work, name);
  await mkdir(dir, { recursive: true });
  await writeFile(
    join(dir, 'Dockerfile'),
    `FROM ${BUSYBOX_IMAGE}\nRUN --mount=type=secret,id=spack-signing-key,required=true grep -c "BEGIN PGP PRIVATE KEY BLOCK" /run/secrets/spack-signing-key > /signed\n`,
  );
  return dir;
}

async function servedDigest(repository: string, tag: string): Promise<string> {
  const response = await fetch(`${registry.url}/v2/${repository}/manifests/${tag}`, {
    headers: {
      authorization: `Basic ${Buffer.from(`${USER}:${PASSWORD}`).toString('base64')}`,
      accept: 'application/vnd.docker.distribution.manifest.v2+json, application/vnd.oci.image.manifest.v1+json',
    },
  });
  if (response.status !== 200) return `status ${response.status}`;
  return `sha256:${createHash('sha256')
    .update(Buffer.from(await response.arrayBuffer()))
    .digest('hex')}`;
}

function gitlabEnv(project: string): NodeJS.ProcessEnv {
  return {
    ...baseEnv,
    GITLAB_CI: 'true',
    CI_SERVER: 'yes',
    CI_PIPELINE_SOURCE: 'push',
    CI_PROJECT_PATH: 'group/project',
    CI_PROJECT_DIR: project,
    CI_COMMIT_REF_SLUG: 'main',
    CI_COMMIT_SHORT_SHA: 'a1b2c3d4',
    CI_REGISTRY: registry.host,
    CI_REGISTRY_IMAGE: `${registry.host}/group/project`,
    CI_REGISTRY_USER: USER,
    CI_REGISTRY_PASSWORD: PASSWORD,
    // The masked CI/CD variable.
    SPACK_SIGNING_KEY: armoredKey,
  };
}

test.serial('[integration] GitLab template: the build job builds through buildx, scans, pushes to $CI_REGISTRY_IMAGE and keeps the metadata', async (t) => {
  t.timeout(6 * 60_000);
  const project = await checkout('gitlab-project');
  const job = await runGitlabJob(TEMPLATE, 'eic-build-build', { env: gitlabEnv(project), workdir: project });
  const log = `${job.stdout}\n${job.stderr}`;
  t.is(job.exitCode, 0, log);
  t.regex(job.stderr, /verdict {2}clean/);
  t.regex(job.stderr, /eic-build: builder: buildx \S+, builder 'default' \(docker\)/, 'built through buildx');
  t.false(leaked(log), 'neither the key nor the registry password in the job log');
  const metadataFile = job.artifacts[0]!;
  t.is(metadataFile, join(project, 'eic-build-metadata.json'));
  const metadata = JSON.parse(await readFile(metadataFile, 'utf8')) as Record<string, string>;
  t.is(metadata['image.name'], `${registry.host}/group/project:main`);
  t.is(metadata['containerimage.digest'], await servedDigest('group/project', 'main'));
});

test.serial('[integration] GitLab template: the scan job passes the clean image and keeps the JSON report', async (t) => {
  t.timeout(4 * 60_000);
  const project = await checkout('gitlab-project');
  const job = await runGitlabJob(TEMPLATE, 'eic-build-scan', { env: gitlabEnv(project), workdir: project });
  t.is(job.exitCode, 0, `${job.stdout}\n${job.stderr}`);
  const report = JSON.parse(await readFile(job.artifacts[0]!, 'utf8')) as { leaked: boolean; target: string };
  t.is(job.artifacts[0], join(project, 'eic-build-scan.json'));
  t.like(report, { leaked: false, target: `docker-daemon:${registry.host}/group/project:main` });
});

test.serial('[integration] GitLab template: the scan job fails the pipeline on a leaked key and still keeps the report', async (t) => {
  t.timeout(4 * 60_000);
  const project = await checkout('gitlab-leaky');
  const job = await runGitlabJob(TEMPLATE, 'eic-build-scan', { env: gitlabEnv(project), workdir: project, projectVariables: { EIC_BUILD_TAG: leakyTag } });
  t.is(job.exitCode, 1, `${job.stdout}\n${job.stderr}`);
  t.regex(job.stderr, /LEAK: \d+ finding\(s\)/);
  const report = JSON.parse(await readFile(job.artifacts[0]!, 'utf8')) as { leaked: boolean; findings: { path?: string }[] };
  t.true(report.leaked);
  t.true(JSON.stringify(report.findings).includes('root/.gnupg/leaked.asc'));
  t.false(leaked(`${job.stdout}\n${job.stderr}\n${JSON.stringify(report)}`), 'the report censors the key');
});

function githubEnv(workspace: string): NodeJS.ProcessEnv {
  return {
    ...baseEnv,
    GITHUB_ACTIONS: 'true',
    GITHUB_WORKSPACE: workspace,
    GITHUB_REPOSITORY: 'org/project',
    GITHUB_SHA: 'a1b2c3d4e5',
    GITHUB_REF: 'refs/heads/main',
    RUNNER_OS: 'Linux',
  };
}

test.serial('[integration] GitHub action, command build: installs from its checkout, builds, pushes, then SARIF of the pushed image for code scanning', async (t) => {
  t.timeout(6 * 60_000);
  const workspace = await checkout('github-workspace');
  const tag = `${registry.host}/org/project:gh`;
  const steps = await runCompositeAction(await actionFile(), { inputs: { command: 'build', tags: tag, 'signing-key': armoredKey }, env: githubEnv(workspace), workdir: workspace });
  const byName = Object.fromEntries(steps.map((s) => [s.name, s]));
  const install = byName['Install eic-build']!;
  t.is(install.exitCode, 0, install.stderr);
  const build = byName['Build, scan, push']!;
  t.is(build.exitCode, 0, `${build.stdout}\n${build.stderr}`);
  t.false(leaked(`${build.stdout}\n${build.stderr}`));
  const scan = byName['Scan']!;
  t.is(scan.exitCode, 0, `${scan.stdout}\n${scan.stderr}`);
  const upload = byName['Upload SARIF to code scanning']!;
  t.is(upload.uses, 'github/codeql-action/upload-sarif@v3');
  const sarifPath = join(workspace, upload.with!.sarif_file!);
  const sarif = JSON.parse(await readFile(sarifPath, 'utf8')) as { version: string; runs: { results: unknown[]; tool: { driver: { name: string } } }[] };
  t.is(sarif.version, '2.1.0');
  t.deepEqual(sarif.runs[0]!.results, []);
  t.true(await servedDigest('org/project', 'gh').then((d) => d.startsWith('sha256:')));
});

test.serial('[integration] GitHub action, command scan: a leaking image fails the step, the SARIF with the finding is still uploaded', async (t) => {
  t.timeout(4 * 60_000);
  const workspace = await checkout('github-scan');
  const steps = await runCompositeAction(await actionFile(), {
    inputs: { command: 'scan', image: leakyTag, 'signing-key': armoredKey },
    env: githubEnv(workspace),
    workdir: workspace,
  });
  const byName = Object.fromEntries(steps.map((s) => [s.name, s]));
  t.false(byName['Build, scan, push']!.ran);
  const scan = byName['Scan']!;
  t.is(scan.exitCode, 1, `${scan.stdout}\n${scan.stderr}`);
  const upload = byName['Upload SARIF to code scanning']!;
  t.is(upload.uses, 'github/codeql-action/upload-sarif@v3', 'always(): the upload follows the failed scan');
  const sarif = JSON.parse(await readFile(join(workspace, upload.with!.sarif_file!), 'utf8')) as { runs: { results: { level?: string }[] }[] };
  t.true(sarif.runs[0]!.results.length > 0);
  t.false(leaked(JSON.stringify(sarif)));
});
