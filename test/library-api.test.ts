// The library entry (package.json "main": src/index.ts compiled) exports every function the docs
// tell users to call, and the commands' parsers the build pipeline takes its options from.
import test from 'ava';
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import * as api from '../src/index.js';
import { repoRoot } from './helpers/cli.js';

/** Names the docs show as library calls: "Library: `name(`" and "import { a, b } from 'eic-build'". */
async function documentedNames(): Promise<Map<string, string>> {
  const files = ['README.md', ...(await readdir(join(repoRoot, 'docs'), { recursive: true })).filter((f) => f.endsWith('.md')).map((f) => join('docs', f))];
  const names = new Map<string, string>();
  for (const file of files) {
    const text = await readFile(join(repoRoot, file), 'utf8');
    for (const match of text.matchAll(/Library: `([A-Za-z]\w*)\(/g)) names.set(match[1]!, file);
    for (const match of text.matchAll(/import \{([^}]*)\} from 'eic-build'/g)) {
      for (const name of match[1]!.split(',').map((n) => n.trim().replace(/^type /, ''))) if (name) names.set(name, file);
    }
  }
  return names;
}

test('every library call the docs name is exported by the package entry', async (t) => {
  const names = await documentedNames();
  t.true(names.size >= 5, `docs name ${names.size} library calls`);
  const exported = api as Record<string, unknown>;
  const missing = [...names].filter(([name]) => typeof exported[name] !== 'function').map(([name, file]) => `${name} (${file})`);
  t.deepEqual(missing, []);
});

test('the entry exports the build pipeline with its argv parser, and the CLI main', (t) => {
  for (const name of ['main', 'parseBuildOptions', 'runBuildPipeline', 'defaultPipelineDeps', 'scanTarget', 'runAudit', 'generateKey']) {
    t.is(typeof (api as Record<string, unknown>)[name], 'function', name);
  }
});
