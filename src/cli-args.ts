import { parseArgs, type ParseArgsConfig } from 'node:util';

/** What parseCommandArgs returns: flag values by name, plus positionals. */
export interface ParsedArgs {
  values: Record<string, string | boolean | (string | boolean)[] | undefined>;
  positionals: string[];
}
import { EicBuildError } from './errors.js';

export type Options = NonNullable<ParseArgsConfig['options']>;

/**
 * node:util parseArgs with eic-build's error style: an unknown or malformed flag becomes a
 * 'usage' error that names the flag and points at --help.
 */
export function parseCommandArgs(command: string, argv: string[], options: Options, allowPositionals = true): ParsedArgs {
  try {
    return parseArgs({ args: argv, options, allowPositionals, strict: true });
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error);
    throw new EicBuildError('usage', `eic-build ${command}: ${message}`, {
      hint: `run 'eic-build ${command} --help' for the accepted options.`,
    });
  }
}
