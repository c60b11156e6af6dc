import type { CliIo } from '../cli-io.js';
import { EicBuildError } from '../errors.js';

/** `eic-build scan`: being written (placeholder so the dispatcher compiles). */
export async function scanCommand(_argv: string[], _io: CliIo): Promise<number> {
  throw new EicBuildError('internal', 'eic-build scan is not available in this version');
}
