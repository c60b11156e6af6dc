// Runs a job of a GitLab CI template the way a shell runner does, here: `extends:` merged, the
// template's and the job's `variables:` expanded against the CI environment, `before_script` +
// `script` as one bash script with `set -eo pipefail`. The YAML run is the shipped file.
import { execa } from 'execa';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parse } from 'yaml';

interface Job {
  extends?: string | string[];
  variables?: Record<string, string>;
  before_script?: string[];
  script?: string[];
  artifacts?: { when?: string; paths?: string[] };
}

/** `$VAR` / `${VAR}` expanded from `env` (as GitLab expands variables in variables). */
export function expandVariables(value: string, env: NodeJS.ProcessEnv): string {
  return value.replace(/\$(?:\{(\w+)\}|(\w+))/g, (_m, braced: string | undefined, bare: string | undefined) => env[(braced ?? bare)!] ?? '');
}

/** The job as the runner sees it: extends merged (the job's own keys win). */
export async function readJob(templateFile: string, name: string): Promise<{ job: Job; globals: Record<string, string> }> {
  const doc = parse(await readFile(templateFile, 'utf8')) as Record<string, Job> & { variables?: Record<string, string> };
  const resolve = (jobName: string): Job => {
    const job = doc[jobName];
    if (!job) throw new Error(`no job '${jobName}' in ${templateFile}`);
    const parents = job.extends === undefined ? [] : Array.isArray(job.extends) ? job.extends : [job.extends];
    return parents.reduce<Job>((merged, parent) => ({ ...resolve(parent), ...merged, variables: { ...resolve(parent).variables, ...merged.variables } }), { ...job });
  };
  return { job: resolve(name), globals: doc.variables ?? {} };
}

/** Run one job; `projectVariables` are the project's CI/CD variables (they override the template's). */
export async function runGitlabJob(
  templateFile: string,
  name: string,
  options: { env: NodeJS.ProcessEnv; projectVariables?: Record<string, string>; workdir: string },
): Promise<{ exitCode: number; stdout: string; stderr: string; artifacts: string[] }> {
  const { job, globals } = await readJob(templateFile, name);
  const env: NodeJS.ProcessEnv = { ...options.env, CI_PROJECT_DIR: options.workdir, CI_JOB_NAME: name };
  for (const [key, value] of Object.entries({ ...globals, ...job.variables })) {
    if (options.projectVariables?.[key] === undefined) env[key] = expandVariables(String(value), env);
  }
  Object.assign(env, options.projectVariables ?? {});
  const lines = [...(job.before_script ?? []), ...(job.script ?? [])];
  const dir = await mkdtemp(join(tmpdir(), 'eic-build-gitlab-job-'));
  const script = join(dir, 'job.sh');
  await writeFile(script, `set -eo pipefail\n${lines.join('\n')}\n`);
  const result = await execa('bash', [script], { cwd: options.workdir, env, extendEnv: false, reject: false }).finally(() => rm(dir, { recursive: true, force: true }));
  const artifacts = (job.artifacts?.paths ?? []).map((path) => join(options.workdir, expandVariables(path, env)));
  return { exitCode: result.exitCode ?? 1, stdout: String(result.stdout), stderr: String(result.stderr), artifacts };
}
