import { resolve } from 'node:path';
import type { CliIo } from '../cli-io.js';
import { parseCommandArgs } from '../cli-args.js';
import { EicBuildError } from '../errors.js';
import { exportPublicKey } from '../keys/export-public-key.js';
import { formatKeyInspection, formatKeyInspectionJson } from '../keys/format-key-inspection.js';
import { generateKey, KEY_ALGORITHMS, type KeyAlgorithm } from '../keys/generate-key.js';
import { inspectKey, keySourceOf } from '../keys/inspect-key.js';
import { blockingFindings, DEFAULT_ROTATION_DAYS } from '../keys/key-checks.js';
import { formatDuration, parseDuration } from '../keys/parse-duration.js';
import { printablePublicKey } from '../keys/printable-public-key.js';
import { writeFileAtomic, writeKeyFiles } from '../keys/write-key-files.js';

const USAGE = `usage: eic-build key <subcommand> [options]

subcommands:
  generate       make a new signing key (armored secret key file, mode 0600, plus FILE.pub.asc)
  inspect        show a key's fingerprint, algorithm, age, expiry, protection, signing subkeys; run the checks
  export-public  print (or write) the armored public key of a key

Run 'eic-build key <subcommand> --help' for its options.
`;

const GENERATE_USAGE = `usage: eic-build key generate [--name N] [--email E] [--algorithm ed25519|rsa4096]
                            [--expires DURATION] [--output FILE] [--force]

Writes an unprotected ASCII-armored secret key to FILE (mode 0600; default ./spack-signing-key.asc)
and its public key next to it (FILE.pub.asc), then prints the fingerprint and the public key path.
The secret key is never printed. Store the file's contents in the CI secret SPACK_SIGNING_KEY, then
delete the file.

options:
  --name N          user ID name (default "Spack buildcache signing key")
  --email E         user ID email (default: none)
  --algorithm A     ed25519 (default, fast) or rsa4096 (the RSA-4096 of the gpg recipe)
  --expires D       0 or never (default), or 90d, 12w, 6m, 2y
  --output FILE     where to write the secret key (default ./spack-signing-key.asc)
  --force           overwrite FILE and FILE.pub.asc if they exist
`;

const INSPECT_USAGE = `usage: eic-build key inspect [FILE | --env VAR] [--format text|json] [--rotation-days N] [--strict]

Shows fingerprint, key ID, algorithm and size, creation date and age, expiry, whether secret
material is present and passphrase-protected, signing-capable (sub)keys, user IDs and keygrips,
then runs the key checks. Without FILE or --env, reads $SPACK_SIGNING_KEY. A protected key is
decrypted (in memory) with $SPACK_SIGNING_KEY_PASSPHRASE when set.
Exit status: 0 when the key is usable, 2 when a check fails (warnings too with --strict).

options:
  --env VAR          read the key from environment variable VAR (armored, or base64 of armored)
  --format F         text (default) or json
  --rotation-days N  warn when the key is older than N days (default ${DEFAULT_ROTATION_DAYS})
  --strict           treat warnings as failures
`;

const EXPORT_USAGE = `usage: eic-build key export-public [FILE | --env VAR] [--output FILE]

Prints the ASCII-armored public key of a secret (or public) key: what the runtime stage trusts.
Without FILE or --env, reads $SPACK_SIGNING_KEY.

options:
  --env VAR      read the key from environment variable VAR
  --output FILE  write the public key to FILE instead of standard output
`;

function str(value: unknown): string | undefined {
  return typeof value === 'string' ? value : undefined;
}

function sourceOptions(command: string, positionals: string[], envVar: string | undefined): { file?: string; envVar?: string } {
  if (positionals.length > 1) {
    throw new EicBuildError('usage', `eic-build key ${command}: give one key file, got ${positionals.length} arguments`, { hint: `run 'eic-build key ${command} --help'` });
  }
  const file = positionals[0];
  if (file !== undefined && envVar !== undefined) {
    throw new EicBuildError('usage', `eic-build key ${command}: give a key FILE or --env VAR, not both`, { hint: `run 'eic-build key ${command} --help'` });
  }
  const source = keySourceOf({ ...(file !== undefined ? { file } : {}), ...(envVar !== undefined ? { envVar } : {}) });
  return source?.kind === 'file' ? { file: source.path } : source?.kind === 'env' ? { envVar: source.variable } : {};
}

/** Parse --rotation-days: a positive whole number of days. */
export function parseRotationDays(text: string | undefined): number | undefined {
  if (text === undefined) return undefined;
  const days = Number(text);
  if (!/^\d+$/.test(text.trim()) || !Number.isSafeInteger(days) || days <= 0) {
    throw new EicBuildError('usage', `--rotation-days '${text}' is not a positive whole number of days`, { hint: 'e.g. --rotation-days 180' });
  }
  return days;
}

async function generate(argv: string[], io: CliIo): Promise<number> {
  const { values, positionals } = parseCommandArgs('key generate', argv, {
    name: { type: 'string' },
    email: { type: 'string' },
    algorithm: { type: 'string' },
    expires: { type: 'string' },
    output: { type: 'string', short: 'o' },
    force: { type: 'boolean' },
    help: { type: 'boolean', short: 'h' },
  });
  if (values.help) {
    io.out(GENERATE_USAGE);
    return 0;
  }
  if (positionals.length > 0) {
    throw new EicBuildError('usage', `eic-build key generate takes no arguments, got '${positionals[0]}'`, { hint: 'the key file is given with --output FILE' });
  }
  const algorithm = str(values.algorithm) ?? 'ed25519';
  if (!KEY_ALGORITHMS.includes(algorithm as KeyAlgorithm)) {
    throw new EicBuildError('usage', `--algorithm '${algorithm}' is not supported`, { hint: `use one of: ${KEY_ALGORITHMS.join(', ')}` });
  }
  const name = str(values.name);
  if (name !== undefined && name.trim() === '') throw new EicBuildError('usage', '--name is empty', { hint: 'give a name, or leave --name out' });
  const email = str(values.email);
  if (email !== undefined && !/^[^\s@<>]+@[^\s@<>]+$/.test(email)) {
    throw new EicBuildError('usage', `--email '${email}' is not an email address`, { hint: 'e.g. --email builds@example.org' });
  }
  const expiresInSeconds = parseDuration(str(values.expires) ?? '0');
  const output = resolve(str(values.output) ?? 'spack-signing-key.asc');
  if (algorithm === 'rsa4096') io.err('generating an RSA-4096 key (this takes a few seconds)...\n');
  const key = await generateKey({
    algorithm: algorithm as KeyAlgorithm,
    expiresInSeconds,
    ...(name !== undefined ? { name } : {}),
    ...(email !== undefined ? { email } : {}),
  });
  const { secretPath, publicPath } = await writeKeyFiles(key, { output, force: values.force === true });
  io.out(
    `fingerprint: ${key.fingerprint}\n` +
      `user ID:     ${key.userId}\n` +
      `algorithm:   ${key.algorithm}, expires: ${formatDuration(expiresInSeconds)}\n` +
      `secret key:  ${secretPath} (mode 0600)\n` +
      `public key:  ${publicPath}\n`,
  );
  io.err(`next: store the contents of ${secretPath} in the CI secret SPACK_SIGNING_KEY, then delete the file (shred -u ${secretPath}).\n`);
  return 0;
}

async function inspect(argv: string[], io: CliIo): Promise<number> {
  const { values, positionals } = parseCommandArgs('key inspect', argv, {
    env: { type: 'string' },
    format: { type: 'string' },
    'rotation-days': { type: 'string' },
    strict: { type: 'boolean' },
    help: { type: 'boolean', short: 'h' },
  });
  if (values.help) {
    io.out(INSPECT_USAGE);
    return 0;
  }
  const format = str(values.format) ?? 'text';
  if (format !== 'text' && format !== 'json') {
    throw new EicBuildError('usage', `--format '${format}' is not supported`, { hint: 'use --format text or --format json' });
  }
  const rotationDays = parseRotationDays(str(values['rotation-days']));
  const inspection = await inspectKey({
    ...sourceOptions('inspect', positionals, str(values.env)),
    env: io.env,
    ...(rotationDays !== undefined ? { rotationDays } : {}),
  });
  io.out(format === 'json' ? formatKeyInspectionJson(inspection) : formatKeyInspection(inspection));
  const blocking = blockingFindings(inspection.findings, values.strict === true);
  if (blocking.length > 0) {
    io.err(`error: the key from ${inspection.inputName} failed ${blocking.length} check(s): ${blocking.map((finding) => finding.id).join(', ')}\n`);
    return 2;
  }
  return 0;
}

async function exportPublic(argv: string[], io: CliIo): Promise<number> {
  const { values, positionals } = parseCommandArgs('key export-public', argv, {
    env: { type: 'string' },
    output: { type: 'string', short: 'o' },
    help: { type: 'boolean', short: 'h' },
  });
  if (values.help) {
    io.out(EXPORT_USAGE);
    return 0;
  }
  const exported = await exportPublicKey({ ...sourceOptions('export-public', positionals, str(values.env)), env: io.env });
  const output = str(values.output);
  if (output === undefined) {
    io.out(printablePublicKey(exported.armoredPublicKey));
    return 0;
  }
  await writeFileAtomic(resolve(output), exported.armoredPublicKey, 0o644);
  io.err(`wrote the public key ${exported.fingerprints.join(', ')} to ${output}\n`);
  return 0;
}

/** `eic-build key`: generate, inspect and export signing keys. */
export async function keyCommand(argv: string[], io: CliIo): Promise<number> {
  const [sub, ...rest] = argv;
  switch (sub) {
    case 'generate':
      return generate(rest, io);
    case 'inspect':
      return inspect(rest, io);
    case 'export-public':
      return exportPublic(rest, io);
    case undefined:
      io.err(USAGE);
      return 2;
    case '--help':
    case '-h':
    case 'help':
      io.out(USAGE);
      return 0;
    default:
      throw new EicBuildError('usage', `unknown subcommand 'key ${sub}'`, { hint: "run 'eic-build key --help' for the subcommands" });
  }
}
