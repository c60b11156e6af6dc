import { balanceSexp, GNUPG_KEY_SEXP_START, openSexp, PRIVATE_BLOCK_BEGIN, PUTTY_PRIVATE_LINES, redact, type SexpBalance } from '../redact.js';

/**
 * Redact output one line at a time (as execa splits a client's output). redact() sees one line, so
 * private key material printed over many lines (`RUN cat key.asc` or a GnuPG key file in a build
 * log) is followed here: after a line that opens an armored/PEM private key block, every line is
 * censored up to its END line; after one that opens a GnuPG key S-expression, up to its balancing
 * parenthesis; after a PuTTY `Private-Lines: N` header, the N lines that follow. Unterminated, the
 * rest of the output stays censored (fail closed).
 *
 * BuildKit interleaves the output of steps that run at once, each line prefixed with its step
 * (`#5 0.123 ...`), so what is open is followed per step: another step's `)` or its lines must
 * not end, or count towards, the censoring of this step's key. Lines without a prefix are one stream.
 */
/** What is being censored: up to an END line, the end of an open S-expression, or a count of lines. */
type Open = { kind: 'block'; end: string } | { kind: 'sexp'; balance: SexpBalance } | { kind: 'lines'; left: number };

const STEP_PREFIX = /^#(\d+)\s/;

export function createLineRedactor(): (line: string) => string {
  const openByStep = new Map<string, Open>();
  return (line) => {
    const step = STEP_PREFIX.exec(line)?.[1] ?? '';
    const open = openByStep.get(step);
    const censored = line.endsWith('\n') ? '[REDACTED]\n' : '[REDACTED]';
    if (open?.kind === 'block') {
      const at = line.indexOf(open.end);
      if (at < 0) return censored;
      return redactLine(step, line.slice(at));
    }
    if (open?.kind === 'lines') {
      if (--open.left === 0) openByStep.delete(step);
      return censored;
    }
    if (open?.kind === 'sexp') {
      const end = balanceSexp(line, 0, open.balance);
      if (end < 0) return censored;
      return redactLine(step, line.slice(end));
    }
    return redactLine(step, line);
  };

  function redactLine(step: string, line: string): string {
    const opened = openedBy(line);
    if (opened) openByStep.set(step, opened);
    else openByStep.delete(step);
    const shown = redact(line);
    // redact() censors an unclosed S-expression to the end, newline included: keep the line a line.
    return line.endsWith('\n') && !shown.endsWith('\n') ? `${shown}\n` : shown;
  }
}

/** Private key material that starts on this line and does not end on it (undefined: none). */
function openedBy(line: string): Open | undefined {
  for (const begin of line.matchAll(PRIVATE_BLOCK_BEGIN)) {
    const end = `-----END ${begin[1]}-----`;
    if (!line.includes(end, begin.index)) return { kind: 'block', end };
  }
  // A PuTTY key's private part: the base64 lines after its `Private-Lines: N` header.
  const putty = [...line.matchAll(PUTTY_PRIVATE_LINES)].pop();
  if (putty && Number(putty[1]) > 0) return { kind: 'lines', left: Number(putty[1]) };
  let from = 0;
  for (const start of line.matchAll(GNUPG_KEY_SEXP_START)) {
    if (start.index < from) continue;
    const balance = openSexp();
    const end = balanceSexp(line, start.index, balance);
    if (end < 0) return { kind: 'sexp', balance };
    from = end;
  }
  return undefined;
}
