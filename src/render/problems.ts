import { EicBuildError, type ErrorCode } from '../errors.js';

/** One thing wrong with an input, located so a person can jump to it. */
export interface RenderProblem {
  file: string;
  line: number;
  column: number;
  message: string;
}

/** `file:line:column: message`, the format editors and CI logs link. */
export function formatProblem(problem: RenderProblem): string {
  return `${problem.file}:${problem.line}:${problem.column}: ${problem.message}`;
}

/** Line and column (1-based) of a character offset in a text. */
export function positionOf(text: string, offset: number): { line: number; column: number } {
  let line = 1;
  let lineStart = 0;
  for (let i = 0; i < offset && i < text.length; i += 1) {
    if (text[i] === '\n') {
      line += 1;
      lineStart = i + 1;
    }
  }
  return { line, column: offset - lineStart + 1 };
}

/** Throw every problem at once (sorted by place), or nothing when there are none. */
export function throwProblems(code: ErrorCode, what: string, problems: RenderProblem[], hint: string): void {
  if (problems.length === 0) return;
  const sorted = [...problems].sort((a, b) => a.file.localeCompare(b.file) || a.line - b.line || a.column - b.column);
  const lines = sorted.map((problem) => `  ${formatProblem(problem)}`).join('\n');
  throw new EicBuildError(code, `${what}: ${problems.length} problem${problems.length === 1 ? '' : 's'}\n${lines}`, { hint });
}
