// `npm run bench`: runs every benchmark section and prints its figures. Sections live in
// bench/<area>.ts and export `default async function (log: (line: string) => void)`.
import { readdir } from 'node:fs/promises';

const only = process.argv.slice(2);
const dir = new URL('.', import.meta.url);
const sections = (await readdir(dir))
  .filter((name) => name.endsWith('.ts') && name !== 'index.ts' && !name.startsWith('_'))
  .map((name) => name.replace(/\.ts$/, ''))
  .filter((name) => only.length === 0 || only.includes(name))
  .sort();

let failed = false;
for (const section of sections) {
  console.log(`\n## ${section}`);
  try {
    const module = (await import(new URL(`./${section}.ts`, dir).href)) as { default: (log: (line: string) => void) => Promise<void> };
    await module.default((line) => console.log(`  ${line}`));
  } catch (error) {
    failed = true;
    console.log(`  FAILED: ${error instanceof Error ? error.stack : String(error)}`);
  }
}
process.exitCode = failed ? 1 : 0;
