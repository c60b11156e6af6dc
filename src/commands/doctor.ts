import type { CliIo } from '../cli-io.js';
import { EicBuildError } from '../errors.js';

/** `eic-build doctor`: being written (placeholder so the dispatcher compiles). */
export async function doctorCommand(_argv: string[], _io: CliIo): Promise<number> {
  throw new EicBuildError('internal', 'eic-build doctor is not available in this version');
}
