/** One `FROM … [AS name]` stage of a Dockerfile and the stages it reads from. */
export interface DockerfileStage {
  index: number;
  /** `AS` name, lowercased as BuildKit does; undefined for unnamed stages. */
  name: string | undefined;
  /** The `FROM` argument (an image or an earlier stage). */
  base: string;
  /** Indexes of earlier stages this one reads (FROM, COPY --from, RUN --mount from=). */
  dependsOn: number[];
}

/** Join backslash continuations and drop comments, keeping one logical instruction per entry. */
function logicalLines(text: string): string[] {
  const lines: string[] = [];
  let current = '';
  for (const raw of text.split(/\r?\n/)) {
    const line = raw.trimEnd();
    if (!current && /^\s*#/.test(line)) continue;
    if (line.endsWith('\\')) {
      current += line.slice(0, -1) + ' ';
      continue;
    }
    current += line;
    if (current.trim()) lines.push(current.trim());
    current = '';
  }
  if (current.trim()) lines.push(current.trim());
  return lines;
}

/**
 * Pure: the stages of a Dockerfile with their dependencies. Used to know which stages a
 * `--cache-to …,mode=max` export would upload, so that each is scanned before anything leaves.
 */
export function parseDockerfileStages(text: string): DockerfileStage[] {
  const stages: DockerfileStage[] = [];
  const byName = new Map<string, number>();
  const resolve = (ref: string): number | undefined => {
    const lower = ref.toLowerCase();
    if (byName.has(lower)) return byName.get(lower);
    if (/^\d+$/.test(ref) && Number(ref) < stages.length) return Number(ref);
    return undefined;
  };
  for (const line of logicalLines(text)) {
    const from = /^FROM\s+(?:--platform=\S+\s+)?(\S+)(?:\s+AS\s+(\S+))?/i.exec(line);
    if (from) {
      const base = from[1]!;
      const name = from[2]?.toLowerCase();
      const dep = resolve(base);
      const stage: DockerfileStage = { index: stages.length, name, base, dependsOn: dep === undefined ? [] : [dep] };
      stages.push(stage);
      if (name) byName.set(name, stage.index);
      continue;
    }
    const current = stages.at(-1);
    if (!current) continue;
    for (const match of line.matchAll(/--from=("?)([^\s",]+)\1/gi)) {
      const dep = resolve(match[2]!);
      if (dep !== undefined && !current.dependsOn.includes(dep)) current.dependsOn.push(dep);
    }
    for (const match of line.matchAll(/--mount=\S*?\bfrom=([^\s,]+)/gi)) {
      const dep = resolve(match[1]!);
      if (dep !== undefined && !current.dependsOn.includes(dep)) current.dependsOn.push(dep);
    }
  }
  return stages;
}

/** Index of the stage `--target` names (or the last stage); undefined when no such stage exists. */
export function targetStageIndex(stages: DockerfileStage[], target: string | undefined): number | undefined {
  if (!stages.length) return undefined;
  if (target === undefined) return stages.length - 1;
  const lower = target.toLowerCase();
  return stages.find((s) => s.name === lower)?.index;
}

/** Every stage the target needs (the target included), in Dockerfile order. */
export function stageClosure(stages: DockerfileStage[], target: number): DockerfileStage[] {
  const needed = new Set<number>();
  const visit = (i: number) => {
    if (needed.has(i)) return;
    needed.add(i);
    for (const dep of stages[i]?.dependsOn ?? []) visit(dep);
  };
  visit(target);
  return stages.filter((s) => needed.has(s.index));
}

/** Pure: `ARG NAME[=default]` lines before the first FROM (the only ARGs a FROM line can use). */
export function parseGlobalArgs(text: string): Record<string, string> {
  const args: Record<string, string> = {};
  for (const line of logicalLines(text)) {
    if (/^FROM\s/i.test(line)) break;
    const arg = /^ARG\s+([A-Za-z_][A-Za-z0-9_]*)(?:=(.*))?$/i.exec(line);
    if (arg) args[arg[1]!] = (arg[2] ?? '').trim().replace(/^"(.*)"$/, '$1');
  }
  return args;
}

/** Pure: expand `$NAME`, `${NAME}` and `${NAME:-default}` as a FROM line does. */
export function expandFromArgs(text: string, args: Record<string, string>): string {
  return text.replace(/\$\{([A-Za-z_][A-Za-z0-9_]*)(?::-([^}]*))?\}|\$([A-Za-z_][A-Za-z0-9_]*)/g, (_m, a: string | undefined, def: string | undefined, b: string | undefined) => {
    const name = (a ?? b)!;
    const value = args[name];
    return value !== undefined && value !== '' ? value : (def ?? '');
  });
}

/**
 * Pure: the external image the target stage finally builds on (following FROM <stage> chains), with
 * build args applied; `scratch` when it starts from nothing; undefined when there is no such stage.
 */
export function externalBaseOf(stages: DockerfileStage[], target: number, args: Record<string, string>): string | undefined {
  let stage = stages[target];
  const seen = new Set<number>();
  while (stage && !seen.has(stage.index)) {
    seen.add(stage.index);
    const base = expandFromArgs(stage.base, args);
    const lower = base.toLowerCase();
    const parent = stages.find((s) => s.index < stage!.index && s.name === lower);
    if (!parent) return base;
    stage = parent;
  }
  return undefined;
}
