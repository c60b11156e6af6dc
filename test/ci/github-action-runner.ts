// Runs the `run:` steps of a composite action.yml the way a GitHub runner does, here: `${{ }}`
// expressions in `if:` and `env:` (the subset the shipped action uses), `bash -eo pipefail`,
// GITHUB_OUTPUT / GITHUB_PATH files, implied success(). `uses:` steps cannot run here: they are
// returned with their inputs evaluated, for the test to check. The YAML run is the shipped file.
import { execa } from 'execa';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { parse } from 'yaml';

interface Step {
  id?: string;
  name?: string;
  if?: string;
  shell?: string;
  env?: Record<string, string>;
  run?: string;
  uses?: string;
  with?: Record<string, string>;
}

type Value = string | boolean;

/** What one step did. */
export interface StepRun {
  name: string;
  ran: boolean;
  exitCode?: number;
  stdout?: string;
  stderr?: string;
  uses?: string;
  with?: Record<string, string>;
}

interface Context {
  inputs: Record<string, string>;
  steps: Record<string, { outputs: Record<string, string>; outcome: string }>;
  actionPath: string;
  failed: boolean;
}

function tokenize(text: string): string[] {
  const tokens = text.match(/'(?:[^']|'')*'|==|!=|&&|\|\||[A-Za-z_][\w.-]*(?:\(\))?|\S/g);
  return tokens ?? [];
}

/** Evaluate a GitHub expression (no surrounding `${{ }}`): literals, contexts, ==, !=, &&, ||, always(), success(). */
export function evaluate(text: string, context: Context): Value {
  const tokens = tokenize(text);
  let i = 0;
  const primary = (): Value => {
    const token = tokens[i++];
    if (token === undefined) throw new Error(`unexpected end of expression: ${text}`);
    if (token === '(') {
      const inner = or();
      if (tokens[i++] !== ')') throw new Error(`missing ) in: ${text}`);
      return inner;
    }
    if (token.startsWith("'")) return token.slice(1, -1).replace(/''/g, "'");
    if (token === 'true' || token === 'false') return token === 'true';
    if (token === 'always()') return true;
    if (token === 'success()') return !context.failed;
    if (token === 'failure()') return context.failed;
    const [root, ...path] = token.split('.');
    if (root === 'inputs') return context.inputs[path.join('.')] ?? '';
    if (root === 'github' && path[0] === 'action_path') return context.actionPath;
    if (root === 'steps') {
      const step = context.steps[path[0]!];
      if (!step) return '';
      if (path[1] === 'outputs') return step.outputs[path.slice(2).join('.')] ?? '';
      if (path[1] === 'outcome') return step.outcome;
    }
    throw new Error(`unsupported expression token '${token}' in: ${text}`);
  };
  const truthy = (v: Value) => v !== false && v !== '';
  const comparison = (): Value => {
    let left = primary();
    while (tokens[i] === '==' || tokens[i] === '!=') {
      const op = tokens[i++];
      const right = primary();
      left = op === '==' ? left === right : left !== right;
    }
    return left;
  };
  const and = (): Value => {
    let left = comparison();
    while (tokens[i] === '&&') {
      i++;
      const right = comparison();
      left = truthy(left) ? right : left;
    }
    return left;
  };
  // A declaration, so that primary's parentheses can recurse into it.
  function or(): Value {
    let left = and();
    while (tokens[i] === '||') {
      i++;
      const right = and();
      left = truthy(left) ? left : right;
    }
    return left;
  }
  const value = or();
  if (i !== tokens.length) throw new Error(`trailing tokens in expression: ${text}`);
  return value;
}

function substitute(text: string, context: Context): string {
  return text.replace(/\$\{\{\s*([\s\S]*?)\s*\}\}/g, (_m, expression: string) => {
    const value = evaluate(expression, context);
    return typeof value === 'boolean' ? String(value) : value;
  });
}

/** Run action.yml's steps with `inputs` and a runner-like environment; stops nothing on failure (as GitHub: later steps see failure()). */
export async function runCompositeAction(actionFile: string, options: { inputs: Record<string, string>; env: NodeJS.ProcessEnv; workdir: string }): Promise<StepRun[]> {
  const action = parse(await readFile(actionFile, 'utf8')) as { inputs: Record<string, { default?: string }>; runs: { using: string; steps: Step[] } };
  if (action.runs.using !== 'composite') throw new Error('not a composite action');
  const inputs = Object.fromEntries(Object.entries(action.inputs).map(([name, spec]) => [name, options.inputs[name] ?? spec.default ?? '']));
  const context: Context = { inputs, steps: {}, actionPath: join(actionFile, '..'), failed: false };
  const runnerTemp = join(options.workdir, 'runner-temp');
  await mkdir(runnerTemp, { recursive: true });
  const paths: string[] = [];
  const runs: StepRun[] = [];
  for (const [n, step] of action.runs.steps.entries()) {
    const name = step.name ?? step.id ?? `step ${n}`;
    const condition = step.if ?? 'success()';
    // A condition without a status function implies success(), as on GitHub.
    const implied = /\b(always|success|failure|cancelled)\(\)/.test(condition) ? condition : `success() && (${condition})`;
    const shouldRun = evaluate(implied, context);
    if (shouldRun === false || shouldRun === '') {
      runs.push({ name, ran: false });
      if (step.id) context.steps[step.id] = { outputs: {}, outcome: 'skipped' };
      continue;
    }
    if (step.uses) {
      runs.push({ name, ran: false, uses: step.uses, with: Object.fromEntries(Object.entries(step.with ?? {}).map(([k, v]) => [k, substitute(String(v), context)])) });
      continue;
    }
    if (step.shell !== 'bash') throw new Error(`step '${name}': only shell: bash is supported here`);
    const outputFile = join(runnerTemp, `output-${n}`);
    const pathFile = join(runnerTemp, `path-${n}`);
    await writeFile(outputFile, '');
    await writeFile(pathFile, '');
    const env: NodeJS.ProcessEnv = {
      ...options.env,
      ...Object.fromEntries(Object.entries(step.env ?? {}).map(([k, v]) => [k, substitute(String(v), context)])),
      GITHUB_ACTION_PATH: context.actionPath,
      GITHUB_OUTPUT: outputFile,
      GITHUB_PATH: pathFile,
      RUNNER_TEMP: runnerTemp,
      PATH: [...paths, options.env.PATH ?? ''].join(':'),
    };
    const script = join(runnerTemp, `step-${n}.sh`);
    await writeFile(script, substitute(step.run ?? '', context));
    // GitHub's `shell: bash`: bash --noprofile --norc -eo pipefail {0}
    const result = await execa('bash', ['--noprofile', '--norc', '-eo', 'pipefail', script], { cwd: options.workdir, env, extendEnv: false, reject: false });
    const outputs: Record<string, string> = {};
    for (const line of (await readFile(outputFile, 'utf8')).split('\n')) {
      const eq = line.indexOf('=');
      if (eq > 0) outputs[line.slice(0, eq)] = line.slice(eq + 1);
    }
    for (const line of (await readFile(pathFile, 'utf8')).split('\n')) if (line) paths.unshift(line);
    const ok = result.exitCode === 0;
    if (!ok) context.failed = true;
    if (step.id) context.steps[step.id] = { outputs, outcome: ok ? 'success' : 'failure' };
    runs.push({ name, ran: true, exitCode: result.exitCode ?? 1, stdout: String(result.stdout), stderr: String(result.stderr) });
  }
  return runs;
}
