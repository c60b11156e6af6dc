import Docker from 'dockerode';
import { execa } from 'execa';
import { ensureBaseImage } from '../../src/docker/base-image.js';
import { requireIntegration } from './unit-only.js';

/** The test suite's shared Debian image with GnuPG (made once per machine by debootstrap). */
export const DEBIAN_GNUPG_IMAGE = 'eic-build-test/bookworm-gnupg:1';
/** A tiny busybox image for tests that only need a shell. */
export const BUSYBOX_IMAGE = 'eic-build-test/busybox:1';

export async function ensureDebianGnupgImage(docker = new Docker()): Promise<string> {
  requireIntegration('Docker (the debootstrap base image)');
  await ensureBaseImage({ kind: 'debootstrap', name: DEBIAN_GNUPG_IMAGE, packages: ['gnupg', 'ca-certificates'] }, docker);
  return DEBIAN_GNUPG_IMAGE;
}

export async function ensureBusyboxImage(docker = new Docker()): Promise<string> {
  requireIntegration('Docker (the busybox base image)');
  await ensureBaseImage({ kind: 'busybox', name: BUSYBOX_IMAGE }, docker);
  return BUSYBOX_IMAGE;
}

/**
 * `docker load` a fixture archive written with `repoTags: [tag]` (writeFixture), and make sure the
 * engine reports loading it under that tag: loaded under the shared default fixture name instead,
 * another test file's load could move the name between the load and the test's own tag.
 */
export async function loadFixtureArchive(archive: string, tag: string): Promise<void> {
  requireIntegration('Docker (docker load)');
  const loaded = await execa('/usr/bin/docker', ['load', '-i', archive]);
  if (!loaded.stdout.includes(`Loaded image: ${tag}`)) throw new Error(`docker load of ${archive} did not report ${tag}:\n${loaded.stdout}`);
}
