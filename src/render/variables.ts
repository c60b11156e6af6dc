import { positionOf, type RenderProblem } from './problems.js';

/** Where a variable's value came from (for messages). */
export type VariableSource = 'cli' | 'env' | 'config' | 'generated';

/** A variable the template may use, with its value if one is known. */
export interface VariableValue {
  value: string;
  source: VariableSource;
}

/** What a template may reference: the allowed names, and the values known for them. */
export interface VariableScope {
  allowed: ReadonlySet<string>;
  values: ReadonlyMap<string, VariableValue>;
}

/** The result of expanding one template: text, names used, and every problem found. */
export interface ExpandResult {
  text: string;
  used: string[];
  problems: RenderProblem[];
}

// `$$` is a literal `$` (so `$${X}` reaches the Dockerfile as `${X}`, for shell and ARG expansion);
// `${NAME}` and `${NAME:-default}` are eic-build variables; a bare `$NAME` is left to the shell.
const TOKEN = /\$\$|\$\{([^}\n]*)\}?/g;
const NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;

/**
 * Expand `${NAME}` / `${NAME:-default}` in a template. Pure. An unknown name, a name outside the
 * allowed list, an unset or empty value without default, or a malformed reference is a problem;
 * all of them are collected, none is replaced by a blank.
 */
export function expandTemplate(file: string, template: string, scope: VariableScope): ExpandResult {
  const problems: RenderProblem[] = [];
  const used = new Set<string>();
  const text = template.replace(TOKEN, (match: string, body: string | undefined, offset: number) => {
    if (match === '$$') return '$';
    const at = positionOf(template, offset);
    const problem = (message: string) => {
      problems.push({ file, line: at.line, column: at.column, message });
      return match;
    };
    if (!match.endsWith('}')) return problem(`unterminated variable reference '${match}': close it with '}' (write '$$' for a literal '$')`);
    const inner = body ?? '';
    const sep = inner.indexOf(':-');
    const name = sep === -1 ? inner : inner.slice(0, sep);
    const fallback = sep === -1 ? undefined : inner.slice(sep + 2);
    if (!NAME.test(name)) {
      return problem(`malformed variable reference '${match}': use \${NAME} or \${NAME:-default} (write '$$' for a literal '$', e.g. '$\${HOME}')`);
    }
    if (fallback !== undefined && fallback.includes('$')) return problem(`default of \${${name}} contains '$': nested references are not supported`);
    used.add(name);
    if (!scope.allowed.has(name)) {
      return problem(
        `variable ${name} is not in the allowed list: add it to 'variables.allowed' in eic-build.yaml, or write '$\${${name}}' if it is meant for the shell or a Dockerfile ARG`,
      );
    }
    const known = scope.values.get(name);
    if (known !== undefined && (known.value !== '' || known.source === 'generated')) return known.value;
    if (fallback !== undefined) return fallback;
    return problem(
      known === undefined
        ? `variable ${name} is not set: export ${name}, pass --var ${name}=VALUE, or give it a value in eic-build.yaml`
        : `variable ${name} is empty (from ${known.source}): give it a value or write \${${name}:-default}`,
    );
  });
  return { text, used: [...used].sort(), problems };
}
