import type { CliIo } from '../cli-io.js';
import { EicBuildError } from '../errors.js';

/** `eic-build key`: being written (placeholder so the dispatcher compiles). */
export async function keyCommand(_argv: string[], _io: CliIo): Promise<number> {
  throw new EicBuildError('internal', 'eic-build key is not available in this version');
}
