import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { CliIo } from '../cli-io.js';
import { parseCommandArgs } from '../cli-args.js';
import { EicBuildError } from '../errors.js';
import { resolveSigningKey, SIGNING_KEY_VARIABLE } from '../keys/index.js';
import { parsePublicKey, type PublicKeyInput } from '../render/public-key.js';
import { publicKeyContextPath, renderProject, writeRenderedProject } from '../render/project.js';

const HELP = `usage: eic-build render [--config FILE] [--var NAME=VALUE]... [--context DIR] [--output-dir DIR]
                        [--public-key FILE | --signing-key FILE] [--json]

Render the Dockerfile, Spack's mirrors.yaml and the public key file from templates. Variables
(\${NAME}, \${NAME:-default}) come from --var, then the environment, then eic-build.yaml; an unset
or unknown variable is an error (all of them are listed at once, with file:line:column). The
rendered mirrors.yaml is checked against Spack's schema (no literal credentials), the rendered
Dockerfile against eic-build's lint rules (docs/render.md); nothing is written unless all pass.

Without --config the bundled EIC-style templates are rendered from CI_REGISTRY, CI_PROJECT_PATH and
SPACKPACKAGES_VERSION.

options
  --config FILE         project config (eic-build.yaml): templates, stages, variables
  --var NAME=VALUE      set a variable (repeatable; NAME must be allowed)
  --context DIR         the build context the Dockerfile will be built with (default: .)
  --output-dir DIR      where to write Dockerfile, mirrors.yaml, spack-signer-public.asc
                        (default: <context>/.eic-build; must be inside the context)
  --public-key FILE     the armored PUBLIC signing key
  --signing-key FILE    derive the public key from the armored private key in FILE
                        (default: from $SPACK_SIGNING_KEY when set)
  --json                print what was written as JSON (paths, secrets, build-args)
  -h, --help            this help

The build must then pass: --secret id=spack-signing-key (the private key, builder stages),
--secret id=mirrors,src=<output-dir>/mirrors.yaml, one env secret per registry credential
variable, and --build-arg SPACK_SIGNER_FINGERPRINT=<fingerprint> ('eic-build build' does this).
`;

/** `eic-build render`: templates → Dockerfile, mirrors.yaml, public key file. */
export async function renderCommand(argv: string[], io: CliIo): Promise<number> {
  const { values, positionals } = parseCommandArgs(
    'render',
    argv,
    {
      config: { type: 'string' },
      var: { type: 'string', multiple: true },
      context: { type: 'string' },
      'output-dir': { type: 'string' },
      'public-key': { type: 'string' },
      'signing-key': { type: 'string' },
      json: { type: 'boolean' },
      help: { type: 'boolean', short: 'h' },
    },
    true,
  );
  if (values.help) {
    io.out(HELP);
    return 0;
  }
  if (positionals.length > 0)
    throw new EicBuildError('usage', `eic-build render takes no positional arguments (got '${positionals[0]}')`, { hint: "run 'eic-build render --help'." });
  const vars = parseVars(values.var ?? []);
  const publicKey = await readPublicKeyInput(values['public-key'], values['signing-key'], io);
  const context = values.context ?? '.';
  const outputDir = values['output-dir'] ?? join(context, '.eic-build');
  const project = await renderProject({
    ...(values.config ? { configFile: values.config } : {}),
    vars,
    env: io.env,
    publicKey,
    publicKeyContextPath: publicKeyContextPath(context, outputDir),
  });
  const written = await writeRenderedProject(project, outputDir);
  if (values.json) {
    io.out(
      `${JSON.stringify({ written, publicKey: project.publicKey, secrets: project.secrets, buildArgs: project.buildArgs, stages: project.stages, mirrors: project.mirrors, notes: project.notes, warnings: project.warnings }, null, 2)}\n`,
    );
  } else {
    io.out(
      `wrote ${written.dockerfile}\nwrote ${written.mirrorsYaml}\nwrote ${written.publicKeyFile} (public key ${project.publicKey.fingerprint}; build context path ${project.publicKey.contextPath})\n`,
    );
    io.err(`stages: ${project.stages.map((stage) => `${stage.name} (${stage.kind})`).join(', ')}\n`);
    io.err(
      `build with: --build-arg ${project.publicKey.fingerprintArg}=${project.publicKey.fingerprint} ${project.secrets.map((secret) => (secret.kind === 'env' ? `--secret id=${secret.id},env=${secret.env}` : secret.purpose === 'mirrors' ? `--secret id=${secret.id},src=${written.mirrorsYaml}` : `--secret id=${secret.id},src=<private key file>`)).join(' ')}\n`,
    );
  }
  for (const note of project.notes) io.err(`note: ${note}\n`);
  for (const warning of project.warnings) io.err(`warning: ${warning}\n`);
  return 0;
}

function parseVars(pairs: string[]): Record<string, string> {
  const vars: Record<string, string> = {};
  for (const pair of pairs) {
    const eq = pair.indexOf('=');
    if (eq <= 0) throw new EicBuildError('usage', `--var '${pair}' is not NAME=VALUE`, { hint: 'write --var CI_REGISTRY=registry.example.org (no spaces around =).' });
    vars[pair.slice(0, eq)] = pair.slice(eq + 1);
  }
  return vars;
}

async function readPublicKeyInput(publicKeyFile: string | undefined, signingKeyFile: string | undefined, io: CliIo): Promise<PublicKeyInput> {
  if (publicKeyFile && signingKeyFile)
    throw new EicBuildError('usage', '--public-key and --signing-key exclude each other', { hint: 'pass one of them (render only needs the public half).' });
  if (publicKeyFile) return parsePublicKey(await readKeyFile(publicKeyFile, '--public-key'), `--public-key ${publicKeyFile}`);
  if (signingKeyFile || io.env[SIGNING_KEY_VARIABLE]?.trim()) {
    // The key layer reads, checks and registers the secret with the redactor; only its public half is kept.
    const key = await resolveSigningKey({ ...(signingKeyFile ? { signingKeyFile } : {}), env: io.env, warn: (message) => io.err(`${message}\n`) });
    return { armored: key.armoredPublicKey, fingerprint: key.fingerprint };
  }
  throw new EicBuildError('usage', `eic-build render needs the public signing key: none of --public-key, --signing-key, ${SIGNING_KEY_VARIABLE} was given`, {
    hint: `pass --public-key FILE (eic-build key export, or gpg --armor --export FPR > public.asc), or --signing-key FILE, or set ${SIGNING_KEY_VARIABLE}.`,
  });
}

async function readKeyFile(path: string, flag: string): Promise<string> {
  try {
    return await readFile(path, 'utf8');
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    throw new EicBuildError(code === 'ENOENT' ? 'input-not-found' : 'input-unreadable', `${flag} ${path}: cannot read the file (${code ?? 'error'})`, {
      hint: 'check the path and permissions.',
      cause: error,
    });
  }
}
