/**
 * Negative controls: images that handle a signing key correctly, or hold only public material, must scan
 * clean (exit 0, no findings) from the `docker save` archive and straight from the engine. Each control
 * also proves it really did the work (the signature verifies, the public key is really imported), so a
 * clean verdict is not the result of an image that never touched the key.
 */
import test, { type ExecutionContext } from 'ava';
import { execa } from 'execa';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { ensureBusyboxImage, ensureDebianGnupgImage } from '../helpers/images.js';
import { randomBytes } from 'node:crypto';
import { DOCKER, buildImage, generateGpgKey, makeTempDir, removeImages, scanJson, stopAgent, type BuiltImage, type GpgKey } from './harness.js';

let dir = '';
let cleanup: () => Promise<void> = async () => undefined;
let debian = '';
let key: GpgKey;
const PAYLOAD = 'spack buildcache index\n';
const built: Promise<BuiltImage>[] = [];

test.before(async () => {
  ({ dir, cleanup } = await makeTempDir('scan-neg'));
  debian = await ensureDebianGnupgImage();
  key = await generateGpgKey(dir, 'sign');
});

test.after.always(async () => {
  const images = await Promise.all(built.map((p) => p.catch(() => undefined)));
  await removeImages(images);
  if (key) await stopAgent(key);
  await cleanup();
});

function track(promise: Promise<BuiltImage>): Promise<BuiltImage> {
  built.push(promise);
  return promise;
}

/** Both sources scan clean: exit 0, leaked false, no findings (notes are allowed). */
async function assertClean(t: ExecutionContext, targets: string[]) {
  const results = await Promise.all(targets.map((target) => scanJson(target, ['--public-key', key.files.publicAsc])));
  results.forEach(({ exitCode, report, stderr }, i) => {
    t.deepEqual(report.findings, [], `${targets[i]} has findings`);
    t.false(report.leaked, targets[i]);
    t.is(exitCode, 0, `${targets[i]}: stderr ${stderr}`);
    t.true(report.stats.layers >= 1);
    t.true(report.stats.bytesScanned > 0);
  });
  return results.map((r) => r.report);
}

test('[integration] a. the correct build (secret mount, GnuPG home on tmpfs, signs a file) scans clean', async (t) => {
  const img = await track(
    buildImage(dir, {
      name: 'secret-mount',
      dockerfile: [
        `FROM ${debian}`,
        'COPY payload.txt /srv/payload.txt',
        'RUN --mount=type=secret,id=signing_key,required=true --mount=type=tmpfs,target=/root/.gnupg \\',
        '    chmod 700 /root/.gnupg && \\',
        '    gpg --batch --import /run/secrets/signing_key && \\',
        `    gpg --batch --pinentry-mode loopback --passphrase '' --local-user ${key.fingerprints[0]} --detach-sign --armor -o /srv/payload.txt.asc /srv/payload.txt && \\`,
        '    gpgconf --kill gpg-agent',
        '',
      ].join('\n'),
      context: { 'payload.txt': PAYLOAD },
      secrets: { signing_key: key.files.secretAsc },
    }),
  );
  // The build really used the key: the signature it left verifies against the public key.
  const signature = await execa(DOCKER, ['run', '--rm', '--network=none', img.tag, 'cat', '/srv/payload.txt.asc']);
  const sigFile = join(dir, 'payload.txt.asc');
  const payloadFile = join(dir, 'payload.txt');
  await writeFile(sigFile, `${signature.stdout}\n`);
  await writeFile(payloadFile, PAYLOAD);
  const verified = await execa('gpg', ['--homedir', key.homedir, '--batch', '--status-fd', '1', '--verify', sigFile, payloadFile]);
  t.regex(verified.stdout, new RegExp(`VALIDSIG ${key.fingerprints[0]}`));

  await assertClean(t, [`docker-archive:${img.archive}`, `docker-daemon:${img.tag}`]);
});

test('[integration] b. the plain Debian + gnupg base image scans clean', async (t) => {
  const archive = join(dir, 'base.tar');
  await execa(DOCKER, ['save', '-o', archive, debian]);
  await assertClean(t, [`docker-archive:${archive}`, `docker-daemon:${debian}`]);
});

test('[integration] c. an image with only PUBLIC keys imported (pubring.kbx, trustdb.gpg, keyrings, a signature) scans clean', async (t) => {
  const signed = await execa(
    'gpg',
    ['--homedir', key.homedir, '--batch', '--pinentry-mode', 'loopback', '--passphrase', '', '--detach-sign', '--armor', '-o', '-', '--local-user', key.fingerprints[0]!],
    { input: PAYLOAD, stripFinalNewline: false },
  );
  const img = await track(
    buildImage(dir, {
      name: 'public-only',
      dockerfile: [
        `FROM ${debian}`,
        'COPY signing-key.asc /usr/share/keyrings/signing-key.asc',
        'COPY payload.txt payload.txt.asc /srv/',
        'RUN gpg --batch --import /usr/share/keyrings/signing-key.asc && \\',
        '    gpg --batch --export > /usr/share/keyrings/signing-key.gpg && \\',
        '    gpg --batch --verify /srv/payload.txt.asc /srv/payload.txt && \\',
        '    gpgconf --kill gpg-agent',
        '',
      ].join('\n'),
      context: { 'signing-key.asc': key.armoredPublic, 'payload.txt': PAYLOAD, 'payload.txt.asc': signed.stdout },
    }),
  );
  // The control really holds the public key in GnuPG's own files.
  const listed = await execa(DOCKER, ['run', '--rm', '--network=none', img.tag, 'sh', '-c', 'gpg --batch --with-colons -k; ls /root/.gnupg']);
  t.regex(listed.stdout, new RegExp(key.fingerprints[0]!));
  t.regex(listed.stdout, /pubring\.kbx/);
  t.regex(listed.stdout, /trustdb\.gpg/);

  await assertClean(t, [`docker-archive:${img.archive}`, `docker-daemon:${img.tag}`]);
});

test('[integration] d. look-alikes are not leaks: bare markers in a script, random bytes, public exports, a signature', async (t) => {
  const busybox = await ensureBusyboxImage();
  const publicBinary = await execa('gpg', ['--homedir', key.homedir, '--batch', '--export', key.fingerprints[0]!], { encoding: 'buffer' });
  const signature = await execa(
    'gpg',
    ['--homedir', key.homedir, '--batch', '--pinentry-mode', 'loopback', '--passphrase', '', '--detach-sign', '-o', '-', '--local-user', key.fingerprints[0]!],
    { input: PAYLOAD, encoding: 'buffer' },
  );
  const img = await track(
    buildImage(dir, {
      name: 'look-alikes',
      dockerfile: [`FROM ${busybox}`, 'COPY . /srv/', ''].join('\n'),
      context: {
        // What a careful CI script looks like: it names the markers to refuse them, holds no key.
        'check-key.sh': [
          '#!/bin/sh',
          'grep -q -- "-----BEGIN PGP PRIVATE KEY BLOCK-----" "$1" && { echo "refusing a private key" >&2; exit 1; }',
          'grep -q -- "-----BEGIN OPENSSH PRIVATE KEY-----" "$1" && exit 1',
          'grep -q -- "-----BEGIN RSA PRIVATE KEY-----" "$1" && exit 1',
          'exit 0',
          '',
        ].join('\n'),
        // Random bytes contain OpenPGP-looking packet headers (0x95, 0x9d, 0xc5 ...) all over.
        'random.bin': randomBytes(4 * 1024 * 1024),
        'signing-key.gpg': Buffer.from(publicBinary.stdout),
        'signing-key.asc': key.armoredPublic,
        'payload.txt': PAYLOAD,
        'payload.txt.sig': Buffer.from(signature.stdout),
      },
    }),
  );
  await assertClean(t, [`docker-archive:${img.archive}`, `docker-daemon:${img.tag}`]);
});
