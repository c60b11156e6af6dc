// The unit-only guard: with EIC_BUILD_UNIT_ONLY=1 (set by `npm run test:unit`), any attempt to run an
// external tool or reach the Docker engine fails with an error that names the rule, so a test that
// needs them and lacks `[integration]` in its title cannot drift into the unit suite unnoticed.
// Without the variable this module does nothing.
//
// Plain JavaScript on purpose: ava loads it into each test worker (package.json `ava.nodeArguments`)
// and, once active, it puts itself into NODE_OPTIONS so every Node child (the CLI run from source)
// carries it too; NODE_OPTIONS imports run before `--import tsx`, so this file cannot be TypeScript.
//
// Three layers, because tests reach tools three ways:
//  - child_process in this process: a spawn of an external tool (by name or from a system directory)
//    throws; a fake tool a test wrote to a temp directory still runs;
//  - non-Node grandchildren (`sh -c 'docker save …'`, a bash script): a PATH directory of stand-ins
//    named like the tools, each printing the rule and exiting 97;
//  - the Docker engine's socket (dockerode speaks HTTP to it, no process): a connect fails.
import childProcess from 'node:child_process';
import { chmodSync, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { syncBuiltinESMExports } from 'node:module';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { basename, delimiter, dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const repoRoot = fileURLToPath(new URL('../..', import.meta.url));

/**
 * The external tools: everything `.ci/setup-system.sh` installs (read from its `command -v` lines, so
 * the list cannot drift from it), their companions the script does not probe for, and Spack.
 * A unit test may run Node and Debian's essential tools (sh, bash, coreutils, tar, gzip, perl, iconv,
 * dpkg-deb, script): every Debian or Ubuntu machine has them, and nothing has to install them.
 */
export function externalTools(setupScript = readFileSync(join(repoRoot, '.ci/setup-system.sh'), 'utf8')) {
  const probed = [...setupScript.matchAll(/command -v (?:\/usr\/bin\/)?([\w.+-]+)/g)].map((m) => m[1]);
  const companions = ['dockerd', 'docker-buildx', 'buildctl', 'buildkitd', 'containerd', 'gpg2', 'gpg-agent', 'gpgconf', 'gpg-connect-agent', 'gpgsm', 'dirmngr', 'spack', 'igzip', 'unzstd', 'pzstd', 'zstdcat', 'unxz', 'xzcat', 'bunzip2', 'bzcat'];
  return [...new Set([...probed, ...companions])].sort();
}

/** The message every layer uses. */
export function unitOnlyMessage(what) {
  return (
    `unit-only run (EIC_BUILD_UNIT_ONLY=1, npm run test:unit): a test reached ${what}. ` +
    `A test that needs Docker, gpg, a registry, skopeo, Spack or another tool .ci/setup-system.sh installs ` +
    `must have "[integration]" in its title (README, "Run the tests").`
  );
}

const SYSTEM_DIRS = ['/usr/bin', '/bin', '/usr/sbin', '/sbin', '/usr/local/bin', '/usr/local/sbin'];

function isUnitOnly() {
  return process.env.EIC_BUILD_UNIT_ONLY === '1';
}

function install() {
  const tools = new Set(externalTools());

  // A tool named bare (found on PATH) or taken from a system directory is the real one.
  const realTool = (file) => {
    if (typeof file !== 'string') return undefined;
    const name = basename(file);
    if (!tools.has(name)) return undefined;
    if (!file.includes('/') || SYSTEM_DIRS.includes(dirname(file))) return name;
    return undefined;
  };
  const check = (file) => {
    const tool = realTool(file);
    if (tool) throw new Error(unitOnlyMessage(`the external tool '${tool}'`));
  };
  const firstWord = (command) => (typeof command === 'string' ? command.trim().split(/\s+/)[0] : undefined);

  for (const name of ['spawn', 'spawnSync', 'execFile', 'execFileSync']) {
    const original = childProcess[name];
    childProcess[name] = function guarded(file, ...rest) {
      check(file);
      return original.call(this, file, ...rest);
    };
  }
  for (const name of ['exec', 'execSync']) {
    const original = childProcess[name];
    childProcess[name] = function guarded(command, ...rest) {
      check(firstWord(command));
      return original.call(this, command, ...rest);
    };
  }
  syncBuiltinESMExports();

  // Stand-ins for grandchildren that are not Node (a shell pipeline, a bash script); made once, by the
  // test worker, and inherited through PATH. A stand-in also notes its name in the directory: a pipeline
  // (`zip … | cat`) hides its exit status, so the worker fails at exit when any stand-in ran.
  const shimPrefix = join(tmpdir(), 'eic-build-unit-only-');
  if (!(process.env.PATH ?? '').split(delimiter).some((dir) => dir.startsWith(shimPrefix))) {
    const shims = mkdtempSync(shimPrefix);
    const ran = join(shims, 'ran.log');
    for (const tool of tools) {
      const file = join(shims, tool);
      const message = unitOnlyMessage(`the external tool '${tool}'`).replaceAll("'", "'\\''");
      writeFileSync(file, `#!/bin/sh\necho '${tool}' >> '${ran}'\necho '${message}' >&2\nexit 97\n`);
      chmodSync(file, 0o755);
    }
    process.env.PATH = `${shims}${delimiter}${process.env.PATH ?? ''}`;
    process.on('exit', () => {
      if (existsSync(ran)) {
        const names = [...new Set(readFileSync(ran, 'utf8').split('\n').filter(Boolean))].join(', ');
        process.stderr.write(`${unitOnlyMessage(`the external tool(s) ${names} from a shell or script`)}\n`);
        process.exitCode = 1;
      }
      rmSync(shims, { recursive: true, force: true });
    });
  }

  // The Docker engine's socket: the default ones and the one DOCKER_HOST names.
  const dockerSockets = new Set(['/var/run/docker.sock', '/run/docker.sock']);
  const host = process.env.DOCKER_HOST ?? '';
  if (host.startsWith('unix://')) dockerSockets.add(host.slice('unix://'.length));
  const connect = net.Socket.prototype.connect;
  net.Socket.prototype.connect = function guardedConnect(...args) {
    // net.createConnection passes its normalized arguments as one array.
    const first = Array.isArray(args[0]) ? args[0][0] : args[0];
    const path = typeof first === 'string' ? first : first && typeof first === 'object' ? first.path : undefined;
    if (typeof path === 'string' && dockerSockets.has(path)) {
      const error = new Error(unitOnlyMessage(`the Docker engine (${path})`));
      process.nextTick(() => this.destroy(error));
      return this;
    }
    return connect.apply(this, args);
  };

  // igzip and zstd are optional accelerators the scanner probes for (EIC_BUILD_SCAN_DECODE_TOOLS): a unit
  // run uses Node's decoders, as on a machine without them; the [integration] decode-tools tests cover them.
  process.env.EIC_BUILD_SCAN_DECODE_TOOLS ??= '0';

  // Node children (the CLI from source) load this guard too.
  const self = `--import=${import.meta.url}`;
  if (!(process.env.NODE_OPTIONS ?? '').includes(self)) {
    process.env.NODE_OPTIONS = `${process.env.NODE_OPTIONS ?? ''} ${self}`.trim();
  }
}

if (isUnitOnly()) install();
