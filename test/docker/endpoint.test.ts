import test from 'ava';
import { execa } from 'execa';
import { mkdtemp, rm, symlink } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DEFAULT_DOCKER_HOST, dockerodeOptions, endpointFromEnv, parseContextInspect, resolveDockerEndpoint } from '../../src/docker/endpoint.js';
import { ensureBusyboxImage, BUSYBOX_IMAGE } from '../helpers/images.js';
import { runCli } from '../helpers/cli.js';

test('context inspect output → endpoint: host, context name, TLS directory only when the context has material', (t) => {
  const plain = parseContextInspect(
    '{"Name":"default","Endpoints":{"docker":{"Host":"unix:///var/run/docker.sock","SkipTLSVerify":false}},"TLSMaterial":{},"Storage":{"TLSPath":"<IN MEMORY>"}}',
  );
  t.deepEqual(plain, { host: 'unix:///var/run/docker.sock', context: 'default', tlsDir: undefined, skipTlsVerify: false });
  const remote = parseContextInspect(
    '{"Name":"ci","Endpoints":{"docker":{"Host":"tcp://10.0.0.5:2376","SkipTLSVerify":true}},"TLSMaterial":{"docker":["ca.pem","cert.pem","key.pem"]},"Storage":{"TLSPath":"/root/.docker/contexts/tls/abc"}}',
  );
  t.deepEqual(remote, { host: 'tcp://10.0.0.5:2376', context: 'ci', tlsDir: '/root/.docker/contexts/tls/abc/docker', skipTlsVerify: true });
  // DOCKER_HOST with DOCKER_TLS_VERIFY/DOCKER_CERT_PATH, as the CLI reads them
  const env = { DOCKER_HOST: 'tcp://10.0.0.6:2376', DOCKER_TLS_VERIFY: '1', DOCKER_CERT_PATH: '/certs' };
  t.is(parseContextInspect('{"Name":"default","Endpoints":{"docker":{"Host":"tcp://10.0.0.6:2376"}}}', env).tlsDir, '/certs');
  t.deepEqual(parseContextInspect('not json', {}), { host: DEFAULT_DOCKER_HOST, context: 'default', tlsDir: undefined, skipTlsVerify: false });
  t.is(endpointFromEnv({ DOCKER_HOST: 'unix:///run/user/1000/docker.sock' }).host, 'unix:///run/user/1000/docker.sock');
});

test('endpoint → dockerode options for unix, tcp, ssh; an unknown scheme is a docker-unavailable error naming it', (t) => {
  const base = { context: 'default', tlsDir: undefined, skipTlsVerify: false };
  t.deepEqual(dockerodeOptions({ ...base, host: 'unix:///tmp/d.sock' }), { socketPath: '/tmp/d.sock' });
  t.deepEqual(dockerodeOptions({ ...base, host: 'tcp://127.0.0.1:2375' }), { host: '127.0.0.1', port: 2375, protocol: 'http' });
  t.deepEqual(dockerodeOptions({ ...base, host: 'ssh://ci@builder.example:2222' }), { protocol: 'ssh', host: 'builder.example', port: 2222, username: 'ci' });
  t.throws(() => dockerodeOptions({ ...base, host: 'fd://3', context: 'odd' }), { message: /fd:\/\/3 \(context 'odd'\) uses a scheme/ });
});

// A second Docker engine cannot run beside the first here, so the second "engine" is the same one
// behind another socket path (a symlink), and a dead one is a path nothing listens on. Before the
// endpoint was resolved once, dockerode read only DOCKER_HOST and scanned the default engine whatever
// context the docker CLI (and so the build) used.
test('[integration] docker-daemon: scans read the engine of the current docker context, as the CLI does', async (t) => {
  await ensureBusyboxImage();
  const dir = await mkdtemp(join(tmpdir(), 'eic-build-endpoint-'));
  try {
    await symlink('/var/run/docker.sock', join(dir, 'alias.sock'));
    const env: NodeJS.ProcessEnv = { ...process.env, DOCKER_CONFIG: join(dir, 'config') };
    delete env.DOCKER_HOST;
    delete env.DOCKER_CONTEXT;
    await execa('docker', ['context', 'create', 'alias', '--docker', `host=unix://${join(dir, 'alias.sock')}`], { env });
    await execa('docker', ['context', 'create', 'dead', '--docker', `host=unix://${join(dir, 'nothing-listens.sock')}`], { env });

    t.is((await resolveDockerEndpoint({ ...env, DOCKER_CONTEXT: 'alias' })).host, `unix://${join(dir, 'alias.sock')}`);
    const alive = await runCli(['scan', `docker-daemon:${BUSYBOX_IMAGE}`], { env: { ...env, DOCKER_CONTEXT: 'alias' }, extendEnv: false });
    t.is(alive.exitCode, 0, String(alive.stderr));

    await execa('docker', ['context', 'use', 'dead'], { env });
    const dead = await runCli(['scan', `docker-daemon:${BUSYBOX_IMAGE}`], { env, extendEnv: false });
    t.is(dead.exitCode, 2);
    t.regex(String(dead.stderr), /cannot reach the Docker engine at unix:\/\/.*nothing-listens\.sock \(docker context 'dead'\)/);
    t.regex(String(dead.stderr), /DOCKER_CONTEXT/);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});
