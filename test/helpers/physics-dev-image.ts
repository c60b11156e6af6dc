import { execa } from 'execa';
import { existsSync } from 'node:fs';
import { mkdtemp, rm, writeFile, copyFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { imageExists } from '../../src/docker/base-image.js';
import { ensureDebianGnupgImage } from './images.js';
import Docker from 'dockerode';
import { repoRoot } from './cli.js';
import { requireIntegration } from './unit-only.js';

// The "Must show" image of provenance triage (issue 10): Debian 12 as a physics developer has it —
// compilers, python3-* with the packages that ship test and example keys, -dev libraries, openssh-server,
// Go sources — plus a Spack tree. Made once per machine (several minutes) and kept by name.

const DOCKER = '/usr/bin/docker';

/** Packages named to apt-get (dependencies bring the image to several hundred). */
export const PHYSICS_DEV_PACKAGES = [
  // compilers and build tools
  'gcc',
  'g++',
  'gfortran',
  'make',
  'cmake',
  'ninja-build',
  'pkg-config',
  'autoconf',
  'automake',
  'libtool',
  'patch',
  'patchelf',
  'git',
  'ca-certificates',
  'curl',
  'gnupg',
  'file',
  'xz-utils',
  'bzip2',
  'unzip',
  'gdb',
  'valgrind',
  'ccache',
  'bison',
  'flex',
  'swig',
  // python
  'python3',
  'python3-dev',
  'python3-venv',
  'python3-pip',
  'python3-numpy',
  'python3-scipy',
  'python3-matplotlib',
  'python3-yaml',
  'python3-pytest',
  'python3-h5py',
  'python3-sympy',
  'python3-requests',
  'python3-cryptography',
  'python3-paramiko',
  'python3-jupyter-core',
  'python3-twisted',
  'python3-tornado',
  'python3-distributed',
  'python3-aiohttp',
  'python3-setuptools',
  'python3-wheel',
  'cython3',
  // -dev libraries
  'libxmlsec1-dev',
  'libmbedtls-dev',
  'libssl-dev',
  'libcurl4-openssl-dev',
  'libgnutls28-dev',
  'libkrb5-dev',
  'libboost-dev',
  'libeigen3-dev',
  'libgsl-dev',
  'libfftw3-dev',
  'libhdf5-dev',
  'libopenmpi-dev',
  'libyaml-cpp-dev',
  'libtbb-dev',
  'libxerces-c-dev',
  'libgl-dev',
  'libglu1-mesa-dev',
  'libx11-dev',
  'libxmu-dev',
  'libxpm-dev',
  'libxft-dev',
  'libpcre3-dev',
  'libzstd-dev',
  'liblz4-dev',
  'libxxhash-dev',
  'zlib1g-dev',
  'libbz2-dev',
  'liblzma-dev',
  'libsqlite3-dev',
  'libxml2-dev',
  'libtiff-dev',
  'libpng-dev',
  'libjpeg-dev',
  'libfreetype-dev',
  'libfmt-dev',
  'libspdlog-dev',
  'nlohmann-json3-dev',
  'libgtest-dev',
  'libgmp-dev',
  'libmpfr-dev',
  'libpq-dev',
  'libmariadb-dev',
  'libnss3-dev',
  'libreadline-dev',
  'libncurses-dev',
  'libffi-dev',
  'libblas-dev',
  'liblapack-dev',
  'libopenblas-dev',
  // perl SSL modules, ssh, Go
  'libio-socket-ssl-perl',
  'libnet-ssleay-perl',
  'openssh-server',
  'openssh-client',
  'golang-go',
  'golang-1.19-src',
];

/** Debian 12 with the packages and a Spack tree at /opt/spack in its own layer (cached by name). */
export const PHYSICS_DEV_IMAGE = 'eic-build-test/bookworm-physics-dev:1';
/** The same, with the SSH host keys removed in the step that installs openssh-server (the documented fix). */
export const PHYSICS_DEV_NO_HOST_KEYS_IMAGE = 'eic-build-test/bookworm-physics-dev-no-host-keys:1';
/** Spack's kit image (../shared/spack-kit/make-base-image.sh); its /opt/spack is copied when present. */
export const SPACK_KIT_IMAGE = 'eic-build-kit/spack:1.1.0';
/** Spack's release tarball, unpacked to /opt/spack when the kit image is absent. */
export const SPACK_KIT_TARBALL = process.env.EIC_BUILD_SPACK_KIT_TARBALL ?? join(repoRoot, '../shared/spack-kit/spack-v1.1.0.tar.gz');

/**
 * Make PHYSICS_DEV_IMAGE (or, with `hostKeys: false`, PHYSICS_DEV_NO_HOST_KEYS_IMAGE) unless the
 * engine has it; returns its name. The packages go in with apt-get
 * in a build step on the shared debootstrap image (debootstrap --include cannot configure this many:
 * libnet-ssleay-perl fails its configure pass), so their postinst scripts run as on any Debian
 * system: Python modules are byte-compiled, openssh-server makes its host keys.
 */
export async function ensurePhysicsDevImage(options: { hostKeys?: boolean } = {}, docker = new Docker()): Promise<string> {
  requireIntegration('Docker (the physics dev image)');
  const hostKeys = options.hostKeys !== false;
  const name = hostKeys ? PHYSICS_DEV_IMAGE : PHYSICS_DEV_NO_HOST_KEYS_IMAGE;
  if (await imageExists(docker, name)) return name;
  const base = await ensureDebianGnupgImage(docker);
  const context = await mkdtemp(join(tmpdir(), 'eic-build-physics-dev-'));
  try {
    const install = [
      `FROM ${base}`,
      'RUN apt-get update \\',
      `  && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends ${PHYSICS_DEV_PACKAGES.join(' ')} \\`,
      `  && rm -rf /var/lib/apt/lists/* /var/cache/apt/archives/*.deb${hostKeys ? '' : ' /etc/ssh/ssh_host_*'}`,
    ];
    let spack: string[];
    if (await imageExists(docker, SPACK_KIT_IMAGE)) {
      install.unshift(`FROM ${SPACK_KIT_IMAGE} AS spack`);
      spack = ['COPY --from=spack /opt/spack /opt/spack'];
    } else if (existsSync(SPACK_KIT_TARBALL)) {
      await copyFile(SPACK_KIT_TARBALL, join(context, 'spack.tar.gz'));
      // ADD unpacks a local tarball; its top directory is spack/.
      spack = ['ADD spack.tar.gz /opt/'];
    } else {
      throw new Error(`neither ${SPACK_KIT_IMAGE} nor ${SPACK_KIT_TARBALL} exists: make the Spack kit (../shared/spack-kit/make-base-image.sh)`);
    }
    await writeFile(join(context, 'Dockerfile'), `${[...install, ...spack].join('\n')}\n`);
    // Host networking: the build step reaches the machine's apt mirror as the host does.
    const built = await execa(DOCKER, ['build', '-q', '--network', 'host', '-t', name, context], { env: { DOCKER_BUILDKIT: '1' }, reject: false, all: true });
    if (built.exitCode !== 0) throw new Error(`building ${name} failed:\n${String(built.all).slice(-4000)}`);
  } finally {
    await rm(context, { recursive: true, force: true });
  }
  return name;
}
