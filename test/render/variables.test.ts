import test from 'ava';
import { expandTemplate, type VariableScope, type VariableValue } from '../../src/render/index.js';

function scope(values: Record<string, string>, extraAllowed: string[] = []): VariableScope {
  return {
    allowed: new Set([...Object.keys(values), ...extraAllowed]),
    values: new Map(Object.entries(values).map(([name, value]): [string, VariableValue] => [name, { value, source: 'env' }])),
  };
}

test('expands ${NAME} and ${NAME:-default}, keeps $$ as a literal $ and leaves bare $name alone', (t) => {
  const result = expandTemplate('t.in', 'a=${A} b=${B:-fallback} c=$${HOME} d=$d e=${E:-}', scope({ A: '1' }, ['B', 'E']));
  t.deepEqual(result.problems, []);
  t.is(result.text, 'a=1 b=fallback c=${HOME} d=$d e=');
  t.deepEqual(result.used, ['A', 'B', 'E']);
});

test('a set value wins over the default; an empty value falls back to the default', (t) => {
  t.is(expandTemplate('t', '${A:-x}', scope({ A: 'set' })).text, 'set');
  t.is(expandTemplate('t', '${A:-x}', scope({ A: '' })).text, 'x');
});

test('every problem is reported at once with file, line and column; nothing becomes blank', (t) => {
  const template = 'line one ${UNSET}\n  ${NOT_ALLOWED} and ${EMPTY}\n${bad name} ${A:-$x} ${OPEN';
  const result = expandTemplate('mirrors.yaml.in', template, scope({ EMPTY: '' }, ['UNSET']));
  const found = result.problems.map((p) => `${p.file}:${p.line}:${p.column}`);
  t.deepEqual(found, ['mirrors.yaml.in:1:10', 'mirrors.yaml.in:2:3', 'mirrors.yaml.in:2:22', 'mirrors.yaml.in:3:1', 'mirrors.yaml.in:3:13', 'mirrors.yaml.in:3:22']);
  t.regex(result.problems[0]!.message, /UNSET is not set: export UNSET, pass --var UNSET=VALUE/);
  t.regex(result.problems[1]!.message, /NOT_ALLOWED is not in the allowed list/);
  t.regex(result.problems[2]!.message, /EMPTY is empty/);
  t.regex(result.problems[3]!.message, /malformed variable reference/);
  t.regex(result.problems[4]!.message, /nested references are not supported/);
  t.regex(result.problems[5]!.message, /unterminated/);
  t.true(result.text.includes('${UNSET}'), 'problem spots are left as they were, never blanked');
});
