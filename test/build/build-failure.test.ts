import test from 'ava';
import { assertMirrorsReachable, diagnoseBuildFailure, isLoopbackHost, mirrorHost } from '../../src/build/build-failure.js';
import { EicBuildError } from '../../src/errors.js';

const oci = { name: 'eic-build-cache', url: 'oci+http://127.0.0.1:5123/eic/spack' };
const remote = { name: 'shared', url: 'oci://registry.example.org/eic/spack' };
const file = { name: 'local', url: 'file:///opt/buildcache' };

test('mirror hosts: loopback is 127/8, ::1 and localhost; file mirrors have no host', (t) => {
  t.is(mirrorHost(oci.url), '127.0.0.1:5123');
  t.is(mirrorHost('oci://user@localhost:5000/x'), 'localhost:5000');
  t.is(mirrorHost(file.url), undefined);
  for (const host of ['127.0.0.1:5000', '127.1.2.3', 'localhost', '[::1]:5000', 'LOCALHOST:1']) t.true(isLoopbackHost(host), host);
  for (const host of ['registry.example.org', '10.0.0.1:5000', '128.0.0.1']) t.false(isLoopbackHost(host), host);
});

test('a loopback mirror without --network host is refused before the build, naming the mirror and the fix', (t) => {
  for (const network of [undefined, 'default', 'none'] as const) {
    const error = t.throws(() => assertMirrorsReachable([file, oci, remote], network), { instanceOf: EicBuildError });
    t.is(error?.code, 'usage');
    t.regex(error!.message, /eic-build-cache \(oci\+http:\/\/127\.0\.0\.1:5123\/eic\/spack\) is on loopback/);
    t.regex(String(error!.hint), /--network host/);
  }
  t.notThrows(() => assertMirrorsReachable([oci], 'host'));
  t.notThrows(() => assertMirrorsReachable([file, remote], undefined));
});

// Real lines from the tools (eic-build's registry client, Spack, bash, the rendered steps).
const rows = [
  {
    why: 'verify cannot reach a registry',
    log: '#12 3.1 error: cannot reach http://registry.example.org/v2/eic/spack/tags/list?n=1000: getaddrinfo ENOTFOUND registry.example.org\n',
    mirrors: [oci, remote],
    network: undefined,
    id: 'mirror-unreachable',
    message: /could not reach mirror shared \(oci:\/\/registry\.example\.org\/eic\/spack\): error: cannot reach/,
    hint: /DNS and proxy/,
  },
  {
    why: "Spack's autopush gets connection refused (no host in the line: the only remote mirror is named)",
    log: '#9 52.0 ==> Error: <urlopen error [Errno 111] Connection refused>\n',
    mirrors: [oci],
    network: 'default',
    id: 'mirror-unreachable',
    message: /eic-build-cache \(oci\+http:\/\/127\.0\.0\.1:5123\/eic\/spack\)/,
    hint: /--network host/,
  },
  {
    why: 'a runtime stage without spack.lock',
    log: '#14 2.2 error: --spack-lock /opt/spack-environment/spack.lock: cannot read the lockfile (ENOENT)\n',
    mirrors: [oci],
    network: 'host',
    id: 'spack-lock-missing',
    message: /runtime stage has no \/opt\/spack-environment\/spack\.lock/,
    hint: /concretize/,
  },
  {
    why: 'a base image without Spack',
    log: '#10 0.9 /bin/bash: line 1: spack: command not found\n',
    mirrors: [oci],
    network: 'host',
    id: 'spack-missing',
    message: /no Spack on PATH/,
    hint: /BUILDER_IMAGE and RUNTIME_IMAGE/,
  },
  {
    why: 'a public key file that is not the fingerprint build-arg',
    log: "#10 0.4 eic-build: the public key file has fingerprint AAAA but build-arg SPACK_SIGNER_FINGERPRINT is 'BBBB'\n",
    mirrors: [],
    network: undefined,
    id: 'fingerprint-mismatch',
    message: /fingerprint AAAA but build-arg SPACK_SIGNER_FINGERPRINT is BBBB/,
    hint: /render again/,
  },
] as const;

for (const row of rows) {
  test(`build failure diagnosis: ${row.why}`, (t) => {
    const diagnosis = diagnoseBuildFailure(row.log, { mirrors: row.mirrors, network: row.network });
    t.is(diagnosis?.id, row.id);
    t.regex(diagnosis!.message, row.message);
    t.regex(diagnosis!.hint, row.hint);
  });
}

test('build failure diagnosis: the echoed command of a step is not its output', (t) => {
  // BuildKit prints the failed step's command, which holds the fingerprint check's own message text.
  const echoed = `executor failed running [/bin/bash -c set -eu; if [ "$signer_fpr" != "$SPACK_SIGNER_FINGERPRINT" ]; then echo "eic-build: the public key file has fingerprint $signer_fpr but build-arg SPACK_SIGNER_FINGERPRINT is '$SPACK_SIGNER_FINGERPRINT'" >&2; exit 1; fi; spack gpg trust /run/eic-build/k.asc]\n`;
  t.is(diagnoseBuildFailure(echoed, { mirrors: [oci], network: 'host' }), undefined);
  t.is(diagnoseBuildFailure(`#10 2.067 /bin/bash: line 1: spack: command not found\n${echoed}`, { mirrors: [oci], network: 'host' })?.id, 'spack-missing');
});

test('build failure diagnosis: an unknown failure, or the RUN line that merely names the mirror, is left to the log', (t) => {
  t.is(
    diagnoseBuildFailure('#9 [builder 2/2] RUN eic-build buildcache sign oci+http://127.0.0.1:5123/eic/spack\n#9 ERROR: exit code: 2\n', { mirrors: [oci], network: 'host' }),
    undefined,
  );
  t.is(diagnoseBuildFailure('#9 1.0 Connection refused\n', { mirrors: [file], network: 'host' }), undefined);
});
