/**
 * Positive controls: each Dockerfile below leaks a key generated here by real gpg (or ssh-keygen) in one
 * of the ways keys really end up in images. Every image is built by the real engine with BuildKit, saved
 * with `docker save`, and scanned both from the archive and straight from the engine (`docker-daemon:`);
 * both must give the same findings.
 */
import test, { type ExecutionContext } from 'ava';
import { execa } from 'execa';
import { generateKeyPairSync } from 'node:crypto';
import { cp, mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { ensureBusyboxImage, ensureDebianGnupgImage } from '../helpers/images.js';
import {
  DOCKER,
  buildImage,
  comparableFindings,
  generateGpgKey,
  hexUpper,
  makeTempDir,
  parseColons,
  removeImages,
  scanJson,
  stopAgent,
  type BuiltImage,
  type GpgKey,
  type ImageSpec,
  type JsonFinding,
  type JsonReport,
} from './harness.js';

let dir = '';
let cleanup: () => Promise<void> = async () => undefined;
let debian = '';
let busybox = '';
let key: GpgKey;
let other: GpgKey;
let protectedKey: GpgKey | undefined;
let protectedKeyPromise: Promise<GpgKey> | undefined;
/** The RSA key takes seconds to make: only the test that uses it waits for it. */
function getProtectedKey(): Promise<GpgKey> {
  protectedKeyPromise ??= generateGpgKey(dir, 'prot', { algo: 'rsa3072', passphrase: PASSPHRASE }).then((k) => (protectedKey = k));
  return protectedKeyPromise;
}
const PASSPHRASE = 'correct horse battery';
const built: Promise<BuiltImage>[] = [];

test.before(async () => {
  ({ dir, cleanup } = await makeTempDir('scan-pos'));
  [debian, busybox] = await Promise.all([ensureDebianGnupgImage(), ensureBusyboxImage()]);
  [key, other] = await Promise.all([generateGpgKey(dir, 'leak'), generateGpgKey(dir, 'othr')]);
});

test.after.always(async () => {
  const images = await Promise.all(built.map((p) => p.catch(() => undefined)));
  await removeImages(images);
  await protectedKeyPromise?.catch(() => undefined);
  await Promise.all([key, other, protectedKey].filter((k): k is GpgKey => k !== undefined).map(stopAgent));
  await cleanup();
});

/** Build an image once per file run, however many tests use it. */
const memo = new Map<string, Promise<BuiltImage>>();
function image(name: string, make: () => Promise<Omit<ImageSpec, 'name'>>): Promise<BuiltImage> {
  let promise = memo.get(name);
  if (!promise) {
    promise = make().then((spec) => buildImage(dir, { name, ...spec }));
    promise.catch(() => undefined);
    memo.set(name, promise);
    built.push(promise);
  }
  return promise;
}

/** Scan the `docker save` archive and the engine's copy; both must leak (exit 1) with the same findings. */
async function scanBoth(t: ExecutionContext, img: BuiltImage, extra: string[]): Promise<JsonReport> {
  const [fromArchive, fromDaemon] = await Promise.all([scanJson(`docker-archive:${img.archive}`, extra), scanJson(`docker-daemon:${img.tag}`, extra)]);
  t.is(fromArchive.exitCode, 1, `docker-archive exit code; stderr: ${fromArchive.stderr}`);
  t.is(fromDaemon.exitCode, 1, `docker-daemon exit code; stderr: ${fromDaemon.stderr}`);
  t.true(fromArchive.report.leaked);
  t.true(fromDaemon.report.leaked);
  t.deepEqual(comparableFindings(fromDaemon.report), comparableFindings(fromArchive.report), 'daemon and archive findings differ');
  t.is(fromArchive.report.stats.layers, img.diffIds.length);
  return fromArchive.report;
}

function describe(findings: JsonFinding[]): string {
  return JSON.stringify(
    findings.map((f) => ({ detector: f.detector, kind: f.kind, source: f.source, layer: f.layer?.index, path: f.path, nestedPath: f.nestedPath, field: f.field })),
  );
}

function covers(t: ExecutionContext, actual: string[], expected: string[], what: string) {
  const have = new Set(hexUpper(actual));
  for (const value of hexUpper(expected)) t.true(have.has(value), `${what}: ${value} missing from ${JSON.stringify(actual)}`);
}

const armoredImage = () =>
  image('armored', async () => ({
    dockerfile: `FROM ${busybox}\nCOPY key.asc /key.asc\n`,
    context: { 'key.asc': { from: key.files.secretAsc } },
  }));

test('[integration] 1. an armored secret key COPYed into a layer is found, with fingerprints and the COPY that added it', async (t) => {
  const img = await armoredImage();
  const report = await scanBoth(t, img, ['--public-key', key.files.publicAsc]);
  const hits = report.findings.filter((f) => f.path === 'key.asc');
  t.true(hits.length >= 1, `no finding for key.asc; findings: ${describe(report.findings)}`);
  t.is(hits.length, report.findings.length, `findings outside key.asc: ${describe(report.findings)}`);
  const finding = hits[0]!;
  t.is(finding.source, 'layer');
  t.deepEqual(finding.layer, { index: 1, digest: img.diffIds[1]! });
  t.true(finding.visibleInFinalImage);
  t.true(finding.matchesPublicKey);
  t.is(finding.nestedPath, null);
  covers(
    t,
    hits.flatMap((f) => f.fingerprints),
    key.fingerprints,
    'fingerprints',
  );
  t.regex(finding.createdBy ?? '', /COPY/);
});

test("[integration] 1b. matchesPublicKey is false for somebody else's public key, and there is no match without --public-key", async (t) => {
  const img = await armoredImage();
  const [withOther, without] = await Promise.all([scanJson(`docker-archive:${img.archive}`, ['--public-key', other.files.publicAsc]), scanJson(`docker-archive:${img.archive}`)]);
  for (const { exitCode, report } of [withOther, without]) {
    t.is(exitCode, 1);
    t.true(report.findings.length >= 1);
    t.true(
      report.findings.every((f) => !f.matchesPublicKey),
      describe(report.findings),
    );
  }
  // Which key leaked is known without any public key: the fingerprints come from the secret packets.
  covers(
    t,
    without.report.findings.flatMap((f) => f.fingerprints),
    [key.fingerprints[0]!],
    'fingerprints',
  );
});

test('[integration] 1c. armored keys in other shapes: a path longer than 100 bytes (PAX), CRLF line ends, JSON-escaped in a config file', async (t) => {
  const longDir = `opt/${'very-long-directory-name-'.repeat(6)}keys`;
  const img = await image('armored-shapes', async () => ({
    dockerfile: [`FROM ${busybox}`, `COPY key.asc /${longDir}/signing.asc`, 'COPY key-crlf.asc /etc/key-crlf.asc', 'COPY settings.json /etc/app/settings.json', ''].join('\n'),
    context: {
      'key.asc': { from: key.files.secretAsc },
      'key-crlf.asc': key.armoredSecret.replace(/\r?\n/g, '\r\n'),
      'settings.json': JSON.stringify({ signing: { key: key.armoredSecret } }),
    },
  }));
  const report = await scanBoth(t, img, ['--public-key', key.files.publicAsc]);
  for (const path of [`${longDir}/signing.asc`, 'etc/key-crlf.asc', 'etc/app/settings.json']) {
    const hit = report.findings.find((f) => f.path === path);
    t.truthy(hit, `no finding for ${path}: ${describe(report.findings)}`);
    if (hit) {
      t.true(hit.matchesPublicKey, path);
      covers(t, hit.fingerprints, [key.fingerprints[0]!], `fingerprints of ${path}`);
    }
  }
});

test('[integration] 2. `gpg --import` in a RUN leaves private-keys-v1.d/<keygrip>.key files: found with the keygrips gpg reports', async (t) => {
  const img = await image('gnupg-home', async () => ({
    dockerfile: [
      `FROM ${debian}`,
      // A bind mount keeps the armored file itself out of the layer: only GnuPG's own files land.
      'RUN --mount=type=bind,source=key.asc,target=/tmp/key.asc gpg --batch --import /tmp/key.asc && gpgconf --kill gpg-agent',
      '',
    ].join('\n'),
    context: { 'key.asc': { from: key.files.secretAsc } },
  }));
  const listed = await execa(DOCKER, ['run', '--rm', '--network=none', img.tag, 'gpg', '--batch', '--with-colons', '--with-keygrip', '-K']);
  const grips = parseColons(listed.stdout).keygrips;
  t.deepEqual([...grips].sort(), [...key.keygrips].sort(), 'gpg in the image reports the keygrips of the imported key');

  const report = await scanBoth(t, img, ['--public-key', key.files.publicAsc]);
  for (const grip of grips) {
    const path = `root/.gnupg/private-keys-v1.d/${grip}.key`;
    const hit = report.findings.find((f) => f.path === path);
    if (!hit) {
      t.fail(`no finding for ${path}; findings: ${describe(report.findings)}`);
      continue;
    }
    t.deepEqual(hexUpper(hit.keygrips), [grip]);
    t.true(hit.matchesPublicKey, `${path} should match --public-key`);
    t.true(hit.visibleInFinalImage);
    t.is(hit.layer?.index, img.diffIds.length - 1);
    t.is(hit.layer?.digest, img.diffIds.at(-1));
    t.regex(hit.createdBy ?? '', /gpg --batch --import/);
  }
  // pubring.kbx and trustdb.gpg are in the same layer and hold no secret: no finding in the import layer
  // outside private-keys-v1.d. (The base layer is negative control b's business.)
  const importLayer = img.diffIds.length - 1;
  const elsewhere = report.findings.filter((f) => f.layer?.index === importLayer && !f.path?.startsWith('root/.gnupg/private-keys-v1.d/'));
  t.deepEqual(elsewhere, [], describe(elsewhere));
});

test("[integration] 3. the seed's mistake: the key comes in by secret mount but is imported into Spack's GnuPG home ($SPACK_ROOT/opt/spack/gpg); a protected RSA key is found there", async (t) => {
  const protectedKey = await getProtectedKey();
  const img = await image('spack-home', async () => {
    await writeFile(join(dir, 'passphrase'), PASSPHRASE, { mode: 0o600 });
    return {
      // The secret mount itself is right; the GnuPG home it imports into is not on a tmpfs, so it stays.
      dockerfile: [
        `FROM ${debian}`,
        'ENV SPACK_ROOT=/opt/spack',
        // A secret is not part of BuildKit's cache key: the fingerprint build arg is (as in eic-build's own builds).
        'ARG SPACK_SIGNER_FINGERPRINT',
        'RUN --mount=type=secret,id=signing_key,required=true --mount=type=secret,id=signing_pass,required=true \\',
        '    mkdir -p -m 700 $SPACK_ROOT/opt/spack/gpg && \\',
        '    gpg --homedir $SPACK_ROOT/opt/spack/gpg --batch --pinentry-mode loopback --passphrase-file /run/secrets/signing_pass --import /run/secrets/signing_key && \\',
        '    gpgconf --homedir $SPACK_ROOT/opt/spack/gpg --kill gpg-agent',
        '',
      ].join('\n'),
      secrets: { signing_key: protectedKey.files.secretAsc, signing_pass: join(dir, 'passphrase') },
      buildArgsFromEnv: { SPACK_SIGNER_FINGERPRINT: protectedKey.fingerprints[0]! },
    };
  });
  // Two --public-key files: the match is by the one that belongs to the leaked key.
  const report = await scanBoth(t, img, ['--public-key', other.files.publicAsc, '--public-key', protectedKey.files.publicAsc]);
  for (const grip of protectedKey.keygrips) {
    const path = `opt/spack/opt/spack/gpg/private-keys-v1.d/${grip}.key`;
    const hit = report.findings.find((f) => f.path === path);
    if (!hit) {
      t.fail(`no finding for ${path}; findings: ${describe(report.findings)}`);
      continue;
    }
    t.deepEqual(hexUpper(hit.keygrips), [grip]);
    t.true(hit.matchesPublicKey);
    t.true(hit.visibleInFinalImage);
  }
  // The secret mounts themselves left nothing: every finding of the step's layer is a GnuPG key file.
  const importLayer = img.diffIds.length - 1;
  const elsewhere = report.findings.filter((f) => f.layer?.index === importLayer && !f.path?.startsWith('opt/spack/opt/spack/gpg/private-keys-v1.d/'));
  t.deepEqual(elsewhere, [], describe(elsewhere));
});

test('[integration] 4. a key added and deleted in a later RUN (whiteout) is found, not visible, and names the layer that hid it', async (t) => {
  const img = await image('whiteout', async () => ({
    dockerfile: [`FROM ${busybox}`, 'COPY key.asc /root/signing.asc', 'RUN rm /root/signing.asc', ''].join('\n'),
    context: { 'key.asc': { from: key.files.secretAsc } },
  }));
  t.is(img.diffIds.length, 3);
  const report = await scanBoth(t, img, ['--public-key', key.files.publicAsc]);
  const hit = report.findings.find((f) => f.path === 'root/signing.asc');
  if (!hit) return t.fail(`no finding for root/signing.asc; findings: ${describe(report.findings)}`);
  t.deepEqual(hit.layer, { index: 1, digest: img.diffIds[1]! });
  t.false(hit.visibleInFinalImage);
  t.true(hit.matchesPublicKey);
  t.deepEqual(hit.hiddenBy, { index: 2, digest: img.diffIds[2]!, how: 'whiteout' }, 'names the layer that hid it');
});

test('[integration] 4b. a key directory removed and re-created (opaque directory) is found and not visible', async (t) => {
  const img = await image('opaque', async () => ({
    dockerfile: [`FROM ${busybox}`, 'COPY keys/ /srv/keys/', 'RUN rm -rf /srv/keys && mkdir /srv/keys && echo public only > /srv/keys/README', ''].join('\n'),
    context: { 'keys/signing.asc': { from: key.files.secretAsc } },
  }));
  const report = await scanBoth(t, img, []);
  const hit = report.findings.find((f) => f.path === 'srv/keys/signing.asc');
  if (!hit) return t.fail(`no finding for srv/keys/signing.asc; findings: ${describe(report.findings)}`);
  t.is(hit.layer?.index, 1);
  t.false(hit.visibleInFinalImage);
  t.deepEqual(hit.hiddenBy, { index: 2, digest: img.diffIds[2]!, how: 'opaque-directory' }, 'names the layer that hid it');
});

test('[integration] 4d. a key file overwritten by a later layer is found in its layer, not visible, hidden by the overwrite', async (t) => {
  const img = await image('overwrite', async () => ({
    dockerfile: [`FROM ${busybox}`, 'COPY key.asc /etc/signing.asc', 'RUN echo rotated > /etc/signing.asc', ''].join('\n'),
    context: { 'key.asc': { from: key.files.secretAsc } },
  }));
  const report = await scanBoth(t, img, ['--public-key', key.files.publicAsc]);
  const hit = report.findings.find((f) => f.path === 'etc/signing.asc');
  if (!hit) return t.fail(`no finding for etc/signing.asc; findings: ${describe(report.findings)}`);
  t.is(hit.layer?.index, 1);
  t.false(hit.visibleInFinalImage);
  t.deepEqual(hit.hiddenBy, { index: 2, digest: img.diffIds[2]!, how: 'overwritten' });
});

// A hard link shares its target's content: deleting the first name leaves the key at the link.
test('[integration] 4c. a key whose file is deleted but still hard-linked elsewhere is visible in the final image', async (t) => {
  const img = await image('hardlink', async () => ({
    dockerfile: [
      `FROM ${busybox}`,
      'RUN --mount=type=bind,source=key.asc,target=/m/key.asc mkdir /srv && cp /m/key.asc /srv/a.asc && ln /srv/a.asc /srv/b.asc && ln -s /srv/b.asc /srv/c.asc',
      'RUN rm /srv/a.asc',
      '',
    ].join('\n'),
    context: { 'key.asc': { from: key.files.secretAsc } },
  }));
  // The control really keeps the key: the engine still serves it through the link.
  const kept = await execa(DOCKER, ['run', '--rm', '--network=none', img.tag, 'cat', '/srv/b.asc']);
  t.is(kept.stdout.trim(), key.armoredSecret.trim());
  const report = await scanBoth(t, img, ['--public-key', key.files.publicAsc]);
  t.true(report.findings.length >= 1, 'findings');
  t.true(
    report.findings.some((f) => f.visibleInFinalImage),
    `the key is in the final image (srv/b.asc), but every finding says hidden: ${describe(report.findings)}`,
  );
  t.true(JSON.stringify(report.findings).includes('srv/b.asc'), 'a finding names the hard link srv/b.asc that keeps the key');
});

test('[integration] 5a. a key passed as --build-arg is found in history created_by (source config, field set)', async (t) => {
  const img = await image('build-arg', async () => ({
    dockerfile: [`FROM ${busybox}`, 'ARG SIGNING_KEY', 'RUN test -n "$SIGNING_KEY" && echo built > /built', ''].join('\n'),
    buildArgsFromEnv: { SIGNING_KEY: key.armoredSecret },
  }));
  const report = await scanBoth(t, img, ['--public-key', key.files.publicAsc]);
  t.true(report.findings.length >= 1);
  for (const finding of report.findings) {
    t.is(finding.source, 'config', describe([finding]));
    t.regex(finding.field ?? '', /^history\[\d+\]\.created_by$/);
    t.true(finding.matchesPublicKey);
  }
  covers(
    t,
    report.findings.flatMap((f) => f.fingerprints),
    [key.fingerprints[0]!],
    'fingerprints',
  );
});

test('[integration] 5b. a key in ENV is found in the config Env (source config, field set)', async (t) => {
  const img = await image('env', async () => ({
    dockerfile: [`FROM ${busybox}`, 'ARG SIGNING_KEY', 'ENV GPG_PRIVATE_KEY="$SIGNING_KEY"', ''].join('\n'),
    buildArgsFromEnv: { SIGNING_KEY: key.armoredSecret },
  }));
  const inspected = JSON.parse((await execa(DOCKER, ['image', 'inspect', img.tag])).stdout)[0].Config.Env as string[];
  t.true(
    inspected.some((e) => e.startsWith('GPG_PRIVATE_KEY=-----BEGIN PGP PRIVATE KEY BLOCK-----')),
    'the control really has the key in Env',
  );
  const report = await scanBoth(t, img, ['--public-key', key.files.publicAsc]);
  const env = report.findings.filter((f) => f.source === 'config' && /Env/.test(f.field ?? ''));
  t.true(env.length >= 1, `no Env finding: ${describe(report.findings)}`);
  t.true(env.every((f) => f.matchesPublicKey));
  t.true(
    report.findings.every((f) => f.source === 'config' && (f.field ?? '') !== ''),
    describe(report.findings),
  );
});

test('[integration] 5c. base64-encoded keys in ENV (armored) and in a LABEL (binary export) are decoded and found', async (t) => {
  const img = await image('base64', async () => ({
    dockerfile: [`FROM ${busybox}`, 'ARG KEY_B64', 'ARG KEY_BIN_B64', 'ENV SIGNING_KEY_B64=$KEY_B64', 'LABEL org.example.signing-key=$KEY_BIN_B64', ''].join('\n'),
    buildArgsFromEnv: {
      KEY_B64: Buffer.from(key.armoredSecret).toString('base64'),
      KEY_BIN_B64: key.binarySecret.toString('base64'),
    },
  }));
  const report = await scanBoth(t, img, ['--public-key', key.files.publicAsc]);
  const env = report.findings.filter((f) => f.source === 'config' && /Env/.test(f.field ?? ''));
  const label = report.findings.filter((f) => f.source === 'config' && /Labels/.test(f.field ?? ''));
  t.true(env.length >= 1, `no Env finding: ${describe(report.findings)}`);
  t.true(label.length >= 1, `no Labels finding: ${describe(report.findings)}`);
  t.true([...env, ...label].every((f) => f.matchesPublicKey));
  // One finding per secret packet (primary, subkey) or one per armored block: together they name the whole key.
  covers(
    t,
    env.flatMap((f) => f.fingerprints),
    key.fingerprints,
    'fingerprints of the Env findings',
  );
  covers(
    t,
    label.flatMap((f) => f.fingerprints),
    key.fingerprints,
    'fingerprints of the Labels findings',
  );
});

test('[integration] 6. a binary (unarmored) secret-key export appended to an executable is found', async (t) => {
  const img = await image('binary-append', async () => ({
    dockerfile: [
      `FROM ${busybox}`,
      'RUN --mount=type=bind,source=key.gpg,target=/tmp/key.gpg mkdir -p /usr/local/bin && cat /bin/busybox /tmp/key.gpg > /usr/local/bin/tool && chmod 755 /usr/local/bin/tool',
      '',
    ].join('\n'),
    context: { 'key.gpg': { from: key.files.secretGpg } },
  }));
  const report = await scanBoth(t, img, ['--public-key', key.files.publicAsc]);
  const hits = report.findings.filter((f) => f.path === 'usr/local/bin/tool');
  t.true(hits.length >= 1, `no finding for usr/local/bin/tool; findings: ${describe(report.findings)}`);
  t.is(hits.length, report.findings.length, `unexpected findings (bin/busybox is in the base layer): ${describe(report.findings)}`);
  t.true(hits.every((f) => f.matchesPublicKey && f.visibleInFinalImage && f.layer?.index === 1));
  covers(
    t,
    hits.flatMap((f) => f.fingerprints),
    key.fingerprints,
    'fingerprints',
  );
});

test('[integration] 7. keys inside a tar.gz inside a layer (and a tar inside that) are found with their nested path', async (t) => {
  const img = await image('nested', async () => {
    const src = join(dir, 'nested-src');
    await mkdir(join(src, 'gnupg/private-keys-v1.d'), { recursive: true });
    await mkdir(join(src, 'old-src'), { recursive: true });
    // A backup of a real GnuPG home (the key files gpg wrote) plus the exported key.
    await cp(join(key.homedir, 'private-keys-v1.d'), join(src, 'gnupg/private-keys-v1.d'), { recursive: true });
    await writeFile(join(src, 'gnupg/signing-key.asc'), key.armoredSecret);
    await writeFile(join(src, 'old-src/signing.gpg'), key.binarySecret);
    await mkdir(join(src, 'old'));
    await execa('tar', ['-cf', join(src, 'old/keys.tar'), '-C', join(src, 'old-src'), 'signing.gpg']);
    await execa('tar', ['-czf', join(dir, 'backup.tar.gz'), '-C', src, 'gnupg', 'old']);
    return {
      dockerfile: [`FROM ${busybox}`, 'COPY backup.tar.gz /var/backups/gnupg-backup.tar.gz', ''].join('\n'),
      context: { 'backup.tar.gz': { from: join(dir, 'backup.tar.gz') } },
    };
  });
  const report = await scanBoth(t, img, ['--public-key', key.files.publicAsc]);
  t.true(report.findings.length >= 1, 'findings');
  for (const f of report.findings) t.is(f.path, 'var/backups/gnupg-backup.tar.gz', describe([f]));
  const armored = report.findings.find((f) => (f.nestedPath ?? '').includes('gnupg/signing-key.asc'));
  t.truthy(armored, `no finding with nestedPath gnupg/signing-key.asc: ${describe(report.findings)}`);
  for (const grip of key.keygrips) {
    const hit = report.findings.find((f) => (f.nestedPath ?? '').includes(`gnupg/private-keys-v1.d/${grip}.key`));
    t.truthy(hit, `no finding for nested private-keys-v1.d/${grip}.key: ${describe(report.findings)}`);
    if (hit) t.deepEqual(hexUpper(hit.keygrips), [grip]);
  }
  const deep = report.findings.find((f) => /old\/keys\.tar.*signing\.gpg/.test(f.nestedPath ?? ''));
  t.truthy(deep, `no finding for old/keys.tar -> signing.gpg: ${describe(report.findings)}`);
  t.true(report.findings.every((f) => f.matchesPublicKey));
  // Each key once, at the file inside: the raw bytes of the (uncompressed) inner tars repeat the
  // members verbatim, and that is not reported again at gnupg-backup.tar or old/keys.tar.
  const containers = report.findings.filter((f) => f.nestedPath === 'gnupg-backup.tar' || /(^|\/)old\/keys\.tar$/.test(f.nestedPath ?? ''));
  t.deepEqual(containers, [], `container-level duplicates: ${describe(containers)}`);
  const places = report.findings.map((f) => `${f.nestedPath} @${String(f.offset)}`);
  t.is(new Set(places).size, places.length, `a location reported twice: ${places.join('\n')}`);
});

test('[integration] 8. OpenSSH and PEM private keys are found as other private key material; their public halves are not', async (t) => {
  const img = await image('ssh-pem', async () => {
    const sshDir = join(dir, 'ssh');
    await mkdir(sshDir, { mode: 0o700 });
    await execa('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-C', '', '-f', join(sshDir, 'id_ed25519')]);
    const ec = generateKeyPairSync('ec', { namedCurve: 'P-256', privateKeyEncoding: { type: 'pkcs8', format: 'pem' }, publicKeyEncoding: { type: 'spki', format: 'pem' } });
    const rsa = generateKeyPairSync('rsa', { modulusLength: 2048, privateKeyEncoding: { type: 'pkcs1', format: 'pem' }, publicKeyEncoding: { type: 'spki', format: 'pem' } });
    return {
      dockerfile: [
        `FROM ${busybox}`,
        'COPY id_ed25519 id_ed25519.pub /root/.ssh/',
        'COPY server.key server.pub /etc/ssl/private/',
        'COPY legacy-rsa.pem /etc/legacy-rsa.pem',
        '',
      ].join('\n'),
      context: {
        id_ed25519: { from: join(sshDir, 'id_ed25519') },
        'id_ed25519.pub': { from: join(sshDir, 'id_ed25519.pub') },
        'server.key': ec.privateKey,
        'server.pub': ec.publicKey,
        'legacy-rsa.pem': rsa.privateKey,
      },
    };
  });
  const report = await scanBoth(t, img, ['--public-key', key.files.publicAsc]);
  const paths = report.findings.map((f) => f.path).sort();
  for (const path of ['etc/legacy-rsa.pem', 'etc/ssl/private/server.key', 'root/.ssh/id_ed25519']) {
    t.true(paths.includes(path), `no finding for ${path}: ${describe(report.findings)}`);
  }
  t.deepEqual(
    paths.filter((p) => p?.endsWith('.pub')),
    [],
    'public halves are not findings',
  );
  t.true(
    report.findings.every((f) => !f.matchesPublicKey),
    'an SSH/PEM key is not the OpenPGP signing key',
  );
});
