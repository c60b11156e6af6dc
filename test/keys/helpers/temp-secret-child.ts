// Child process for temp-secret-file.test.ts: creates a temporary secret file, reports its path
// on stdout, then ends the way argv[2] says (so the parent can check nothing is left behind).
import { writeTempSecretFile } from '../../../src/keys/temp-secret-file.js';

const mode = process.argv[2] ?? 'wait';
const file = await writeTempSecretFile('not-a-real-secret-but-treated-as-one', 'signing-key.asc');
process.stdout.write(`${JSON.stringify({ path: file.path, dir: file.dir })}\n`);

switch (mode) {
  case 'wait':
    // Keep the event loop alive until the parent signals us.
    setInterval(() => undefined, 1000);
    break;
  case 'throw':
    setTimeout(() => {
      throw new Error('boom: uncaught error after creating the secret file');
    }, 10);
    break;
  case 'reject':
    await Promise.reject(new Error('boom: unhandled rejection after creating the secret file'));
    break;
  case 'exit':
    process.exit(7);
    break;
  case 'normal':
    break;
  default:
    throw new Error(`unknown mode ${mode}`);
}
