// Child process for exit-cleanup.test.ts: registers an exit action that writes argv[3] (with the signal
// it got) and a directory to remove, reports ready, then ends the way argv[2] says.
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { removeOnExit, runOnExit } from '../../src/exit-cleanup.js';

const [mode = 'wait', marker = '', dir = ''] = process.argv.slice(2);
mkdirSync(dir, { recursive: true });
removeOnExit(dir, 'test');
const release = runOnExit((signal) => writeFileSync(marker, `${signal ?? 'exit'} dir-exists=${String(existsSync(dir))}`));
if (mode === 'released') release();
process.stdout.write('ready\n');
if (mode === 'throw')
  setTimeout(() => {
    throw new Error('boom');
  }, 10);
else setInterval(() => undefined, 1000);
