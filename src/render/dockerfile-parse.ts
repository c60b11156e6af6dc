/** One Dockerfile instruction, continuation lines joined, with where it starts. */
export interface DockerfileInstruction {
  /** Upper-case keyword: RUN, FROM, ARG… */
  keyword: string;
  /** Everything after the keyword, continuation lines joined with a space (comments inside dropped). */
  args: string;
  /** `--name=value` flags before the command (RUN --mount=…, COPY --from=…), in order. */
  flags: { name: string; value: string }[];
  /** The command after the flags. */
  command: string;
  /** 1-based line of the keyword. */
  line: number;
  /** Index of the stage this instruction belongs to (-1 before the first FROM). */
  stage: number;
}

/** A build stage: its FROM line, name, base. */
export interface DockerfileStage {
  index: number;
  name: string | undefined;
  base: string;
  line: number;
}

/** A parsed Dockerfile: parser directives, stages, instructions. */
export interface ParsedDockerfile {
  directives: { name: string; value: string; line: number }[];
  stages: DockerfileStage[];
  instructions: DockerfileInstruction[];
}

const DIRECTIVE = /^#\s*([a-zA-Z]+)\s*=\s*(.*?)\s*$/;

/** Parse Dockerfile text (default `\` escape) into stages and instructions. Pure and forgiving. */
export function parseDockerfile(text: string): ParsedDockerfile {
  const lines = text.split('\n');
  const directives: ParsedDockerfile['directives'] = [];
  let i = 0;
  for (; i < lines.length; i += 1) {
    const match = DIRECTIVE.exec(lines[i] ?? '');
    if (!match) break;
    directives.push({ name: match[1]!.toLowerCase(), value: match[2]!, line: i + 1 });
  }
  const stages: DockerfileStage[] = [];
  const instructions: DockerfileInstruction[] = [];
  while (i < lines.length) {
    const raw = lines[i] ?? '';
    const trimmed = raw.trim();
    if (trimmed === '' || trimmed.startsWith('#')) {
      i += 1;
      continue;
    }
    const startLine = i + 1;
    let joined = '';
    for (;;) {
      const current = (lines[i] ?? '').trim();
      i += 1;
      if (current.startsWith('#') && joined !== '') {
        if (i >= lines.length) break;
        continue;
      }
      if (current.endsWith('\\')) {
        joined += `${current.slice(0, -1).trimEnd()} `;
        if (i >= lines.length) break;
        continue;
      }
      joined += current;
      break;
    }
    const match = /^(\S+)\s*([\s\S]*)$/.exec(joined.trim());
    if (!match) continue;
    const keyword = match[1]!.toUpperCase();
    const args = match[2]!.trim();
    const { flags, rest } = splitFlags(args);
    if (keyword === 'FROM') {
      const parts = rest.split(/\s+/);
      const asIndex = parts.findIndex((part) => part.toUpperCase() === 'AS');
      stages.push({ index: stages.length, name: asIndex === -1 ? undefined : parts[asIndex + 1], base: parts[0] ?? '', line: startLine });
    }
    instructions.push({ keyword, args, flags, command: rest, line: startLine, stage: stages.length - 1 });
  }
  return { directives, stages, instructions };
}

function splitFlags(args: string): { flags: { name: string; value: string }[]; rest: string } {
  const flags: { name: string; value: string }[] = [];
  let rest = args;
  for (;;) {
    const match = /^--([a-zA-Z-]+)(?:=(\S*))?\s*/.exec(rest);
    if (!match) break;
    flags.push({ name: match[1]!, value: match[2] ?? '' });
    rest = rest.slice(match[0].length);
  }
  return { flags, rest };
}

/** `type=secret,id=x,required=true` → a map (keys lower-case; `required` alone means true). */
export function parseMountFlag(value: string): Map<string, string> {
  const out = new Map<string, string>();
  for (const part of value.split(',')) {
    if (part === '') continue;
    const eq = part.indexOf('=');
    if (eq === -1) out.set(part.toLowerCase(), 'true');
    else out.set(part.slice(0, eq).toLowerCase(), part.slice(eq + 1));
  }
  if (out.has('dst') && !out.has('target')) out.set('target', out.get('dst')!);
  if (out.has('destination') && !out.has('target')) out.set('target', out.get('destination')!);
  if (out.has('src') && !out.has('source')) out.set('source', out.get('src')!);
  return out;
}

/** The mounts of a RUN instruction, parsed. */
export function mountsOf(instruction: DockerfileInstruction): Map<string, string>[] {
  return instruction.flags.filter((flag) => flag.name === 'mount').map((flag) => parseMountFlag(flag.value));
}
