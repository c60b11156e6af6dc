// `--tags GLOB`: which tags of a repository an audit reads. Pure.
import { EicBuildError } from '../errors.js';

const TAG_GLOB = /^[\w.*?[\]!-]{1,128}$/;

/** A glob as a whole-string regular expression: `*` any run, `?` one character, `[abc]`/`[!a-z]` a class. */
export function globToRegExp(glob: string): RegExp {
  if (!TAG_GLOB.test(glob) || /\[[^\]]*$/.test(glob)) {
    throw new EicBuildError('usage', `--tags '${glob}' is not a tag glob`, {
      hint: "use tag characters (letters, digits, '_', '.', '-') with * ? and [..], e.g. --tags 'nightly-*' --tags 'v1.?.*'",
    });
  }
  let source = '';
  for (let i = 0; i < glob.length; i++) {
    const c = glob[i]!;
    if (c === '*') source += '.*';
    else if (c === '?') source += '.';
    else if (c === '[') {
      const end = glob.indexOf(']', i + 1);
      let body = glob.slice(i + 1, end);
      if (body.startsWith('!')) body = `^${body.slice(1)}`;
      source += `[${body.replace(/\\/g, '\\\\')}]`;
      i = end;
    } else source += c.replace(/[.\-\]]/g, '\\$&');
  }
  return new RegExp(`^${source}$`);
}

/** A predicate for tags matching any of `globs` (every tag when there are none). */
export function compileTagFilter(globs: readonly string[]): (tag: string) => boolean {
  if (globs.length === 0) return () => true;
  const patterns = globs.map(globToRegExp);
  return (tag) => patterns.some((pattern) => pattern.test(tag));
}
