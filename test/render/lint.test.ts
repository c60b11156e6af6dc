import test from 'ava';
import { readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { BUNDLED_CONFIG, DEFAULT_LAYOUT, LINT_RULES, lintDockerfile, isSecretLikeName, type LintContext, type LintRuleId } from '../../src/render/index.js';
import { renderBundled } from './inputs.js';

const project = await renderBundled();
const good = project.files.dockerfile;
const context: LintContext = { layout: DEFAULT_LAYOUT, stageKinds: BUNDLED_CONFIG.stages, mirrors: project.mirrors, transition: false };

function replaceFirst(text: string, from: string, to: string): string {
  if (!text.includes(from)) throw new Error(`mutation target not found: ${from}`);
  return text.replace(from, to);
}
function replaceLast(text: string, from: string, to: string): string {
  const at = text.lastIndexOf(from);
  if (at === -1) throw new Error(`mutation target not found: ${from}`);
  return text.slice(0, at) + to + text.slice(at + from.length);
}
/** Insert whole instructions right after a stage's FROM line. */
function afterFrom(text: string, stage: string, lines: string): string {
  return replaceFirst(text, ` AS ${stage}\n`, ` AS ${stage}\n${lines}\n`);
}
function withoutLine(text: string, containing: string): string {
  const lines = text.split('\n');
  const index = lines.findIndex((line) => line.includes(containing));
  if (index === -1) throw new Error(`mutation target not found: ${containing}`);
  lines.splice(index, 1);
  return lines.join('\n');
}

/** For every rule, at least one template that breaks it (the bundled Dockerfile, mutated). */
const breaking: { rule: LintRuleId; why: string; mutate: (text: string) => string }[] = [
  { rule: 'signing-secret-required', why: 'secret mount without required=true', mutate: (d) => replaceFirst(d, 'id=spack-signing-key,required=true', 'id=spack-signing-key') },
  { rule: 'signing-secret-only-mount', why: 'ENV pointing at the key', mutate: (d) => afterFrom(d, 'builder', 'ENV SIGNER_FILE=/run/secrets/spack-signing-key') },
  {
    rule: 'signing-secret-only-mount',
    why: 'step reads the key without mounting it',
    mutate: (d) => afterFrom(d, 'runtime', 'RUN set -eu -o pipefail; gpg --import /run/secrets/spack-signing-key'),
  },
  {
    rule: 'signing-secret-only-where-signing',
    why: 'runtime step mounts the key',
    mutate: (d) =>
      replaceLast(
        d,
        '--mount=type=tmpfs,target=/run/eic-build-gnupg \\\n',
        '--mount=type=tmpfs,target=/run/eic-build-gnupg \\\n    --mount=type=secret,id=spack-signing-key,required=true \\\n',
      ),
  },
  {
    rule: 'signing-secret-only-where-signing',
    why: 'a step that holds the key without signing',
    mutate: (d) => afterFrom(d, 'builder', 'RUN --mount=type=secret,id=spack-signing-key,required=true set -eu; wc -c /run/secrets/spack-signing-key'),
  },
  {
    rule: 'signing-gnupghome-tmpfs',
    why: 'GnuPG home on a cache mount',
    mutate: (d) =>
      replaceFirst(
        d,
        '--mount=type=tmpfs,target=/run/eic-build-gnupg \\\n    --mount=type=secret,id=spack-signing-key',
        '--mount=type=cache,target=/run/eic-build-gnupg \\\n    --mount=type=secret,id=spack-signing-key',
      ),
  },
  {
    rule: 'signing-gnupghome-tmpfs',
    why: 'SPACK_GNUPGHOME in the image',
    mutate: (d) => replaceFirst(d, 'export SPACK_GNUPGHOME=/run/eic-build-gnupg/spack', 'export SPACK_GNUPGHOME=/opt/spack/opt/spack/gpg'),
  },
  { rule: 'spack-gnupghome-only', why: 'ENV SPACK_GNUPGHOME', mutate: (d) => afterFrom(d, 'builder', 'ENV SPACK_GNUPGHOME=/opt/gpg') },
  {
    rule: 'spack-gnupghome-only',
    why: 'plain GNUPGHOME (Spack ignores it)',
    mutate: (d) =>
      replaceFirst(d, 'export SPACK_GNUPGHOME=/run/eic-build-gnupg/spack; \\', 'export SPACK_GNUPGHOME=/run/eic-build-gnupg/spack; export GNUPGHOME=/run/eic-build-gnupg/g; \\'),
  },
  { rule: 'signing-single-secret-key', why: 'no secret key count', mutate: (d) => d.replaceAll('--list-secret-keys', '--list-keys') },
  { rule: 'signing-kills-agent', why: 'no trap', mutate: (d) => withoutLine(d, "trap 'gpgconf") },
  {
    rule: 'signing-kills-agent',
    why: 'agent killed only on success',
    mutate: (d) => replaceFirst(withoutLine(d, "trap 'gpgconf"), '--unsigned-only', '--unsigned-only; gpgconf --homedir "$SPACK_GNUPGHOME" --kill gpg-agent'),
  },
  {
    rule: 'trust-public-only',
    why: 'trusting the secret key file',
    mutate: (d) => replaceFirst(d, 'spack gpg trust /run/eic-build/spack-signer-public.asc', 'spack gpg trust /run/secrets/spack-signing-key'),
  },
  { rule: 'no-secret-words-in-arg-env', why: 'ARG named like a key', mutate: (d) => afterFrom(d, 'builder', 'ARG SIGNING_KEY_ID=none') },
  { rule: 'no-secret-words-in-arg-env', why: 'ENV named like a token', mutate: (d) => afterFrom(d, 'runtime', 'ENV MIRROR_TOKEN=none') },
  {
    rule: 'runtime-no-check-signature',
    why: '--no-check-signature in runtime',
    mutate: (d) => replaceLast(d, 'install --use-buildcache only', 'install --use-buildcache only --no-check-signature'),
  },
  { rule: 'runtime-verify-before-install', why: 'no verification', mutate: (d) => withoutLine(d, 'buildcache verify') },
  { rule: 'runtime-verify-before-install', why: 'fallback to unsigned', mutate: (d) => replaceFirst(d, '/mirrors/eic-build-cache;', '/mirrors/eic-build-cache || true;') },
  {
    rule: 'runtime-installs-verified-copy',
    why: 'verify without --copy-to',
    mutate: (d) => replaceFirst(d, ' --copy-to /var/tmp/eic-build-verified/mirrors/eic-build-cache;', ';'),
  },
  {
    rule: 'runtime-installs-verified-copy',
    why: 'install without the verified scope',
    mutate: (d) => replaceFirst(d, 'spack -C /var/tmp/eic-build-verified/scope --env /opt/spack-environment install', 'spack --env /opt/spack-environment install'),
  },
  {
    rule: 'runtime-installs-verified-copy',
    why: 'a second install without the scope',
    mutate: (d) => replaceFirst(d, 'install --use-buildcache only ; \\\n', 'install --use-buildcache only ; \\\n    spack --env /opt/spack-environment install zlib; \\\n'),
  },
  {
    rule: 'runtime-installs-verified-copy',
    why: 'another -C scope that could add mirrors',
    mutate: (d) =>
      replaceFirst(
        d,
        'spack -C /var/tmp/eic-build-verified/scope --env /opt/spack-environment install',
        'spack -C /var/tmp/eic-build-verified/scope -C /opt/extra --env /opt/spack-environment install',
      ),
  },
  {
    rule: 'runtime-installs-verified-copy',
    why: 'a copy outside the verified root',
    mutate: (d) => replaceFirst(d, '--copy-to /var/tmp/eic-build-verified/mirrors/eic-build-cache;', '--copy-to /tmp/eic-build-cache;'),
  },
  { rule: 'runtime-installs-verified-copy', why: 'scope with mirrors: (merges) instead of mirrors:: (replaces)', mutate: (d) => replaceFirst(d, "'mirrors::'", "'mirrors:'") },
  { rule: 'runtime-installs-verified-copy', why: 'no check of the mirrors Spack would read', mutate: (d) => withoutLine(d, 'config get mirrors') },
  { rule: 'runtime-installs-verified-copy', why: 'copies left for the layer', mutate: (d) => replaceLast(d, '; \\\n    rm -rf /var/tmp/eic-build-verified\n', '\n') },
  {
    rule: 'runtime-after-builder',
    why: 'runtime step without the builder stamp (BuildKit would prune the builder)',
    mutate: (d) => replaceFirst(d, '    --mount=type=bind,from=builder-done,source=/var/lib/eic-build/builder-done,target=/run/eic-build/builder-done \\\n', ''),
  },
  { rule: 'runtime-after-builder', why: 'builder step that never writes the stamp', mutate: (d) => replaceFirst(d, '} > /var/lib/eic-build/builder-done;', '} > /dev/null;') },
  {
    rule: 'runtime-after-builder',
    why: 'builder-done made from another stage than the builder',
    mutate: (d) => replaceFirst(d, 'ARG EIC_BUILD_BUILDER_STAGE=builder\n', 'ARG EIC_BUILD_BUILDER_STAGE=builder-skipped\n'),
  },
  { rule: 'runtime-after-builder', why: 'no builder-done stage at all', mutate: (d) => replaceFirst(d, 'FROM ${EIC_BUILD_BUILDER_STAGE} AS builder-done\n', '') },
  { rule: 'public-key-input', why: 'no fingerprint ARG in runtime', mutate: (d) => replaceLast(d, 'ARG SPACK_SIGNER_FINGERPRINT\n', '') },
  {
    rule: 'public-key-input',
    why: 'public key not from the public stage',
    mutate: (d) =>
      replaceLast(
        d,
        '--mount=type=bind,from=spack-signer-public,source=/spack-signer-public.asc,target=/run/eic-build/spack-signer-public.asc',
        '--mount=type=bind,source=.eic-build/spack-signer-public.asc,target=/run/eic-build/spack-signer-public.asc',
      ),
  },
  { rule: 'strict-shell', why: 'bash step without pipefail', mutate: (d) => replaceLast(d, 'set -eu -o pipefail;', 'set -eu;') },
  { rule: 'strict-shell', why: 'step without set -e', mutate: (d) => afterFrom(d, 'runtime', 'RUN echo hello') },
  { rule: 'registry-credentials-secret', why: 'ARG with a credential', mutate: (d) => afterFrom(d, 'builder', 'ARG CI_REGISTRY_PASSWORD') },
  { rule: 'registry-credentials-secret', why: 'credential used without its secret mount', mutate: (d) => replaceLast(d, '--mount=type=secret,id=CI_REGISTRY_PASSWORD \\\n', '') },
  { rule: 'mirrors-secret-mount', why: 'COPY mirrors.yaml', mutate: (d) => afterFrom(d, 'runtime', 'COPY mirrors.yaml /opt/spack/etc/spack/mirrors.yaml') },
  {
    rule: 'mirrors-secret-mount',
    why: 'install without the mirrors secret',
    mutate: (d) => replaceLast(d, '--mount=type=secret,id=mirrors,target=/opt/spack/etc/spack/mirrors.yaml,required=true \\\n', ''),
  },
  {
    rule: 'oci-autopush-signed-by-eic-build',
    why: 'autopush without eic-build sign',
    mutate: (d) =>
      replaceFirst(
        d,
        "; \\\n    /opt/eic-build/usr/local/bin/eic-build buildcache sign 'oci://127.0.0.1:5000/eic/containers/spack-v2025.06.1' --id-variable CI_REGISTRY_USER --secret-variable CI_REGISTRY_PASSWORD --signing-key /run/secrets/spack-signing-key --unsigned-only",
        '',
      ),
  },
  {
    rule: 'no-key-material-copy',
    why: 'COPY of a GnuPG private key directory',
    mutate: (d) => afterFrom(d, 'runtime', 'COPY gnupg/private-keys-v1.d /root/.gnupg/private-keys-v1.d'),
  },
];

test('the bundled rendered Dockerfile passes every rule', (t) => {
  t.deepEqual(lintDockerfile(good, context), []);
});

test('every lint rule has a breaking template below', (t) => {
  const covered = new Set(breaking.map((entry) => entry.rule));
  t.deepEqual(
    LINT_RULES.map((rule) => rule.id).filter((id) => !covered.has(id)),
    [],
  );
});

for (const entry of breaking) {
  test(`lint ${entry.rule}: ${entry.why}`, (t) => {
    const broken = entry.mutate(good);
    t.not(broken, good);
    const findings = lintDockerfile(broken, context);
    const hit = findings.find((finding) => finding.rule === entry.rule);
    t.truthy(hit, `expected ${entry.rule}, got ${JSON.stringify(findings)}`);
    t.true(hit!.line > 0);
  });
}

test('rules are data: stable kebab-case ids, title, severity, docs, each documented in docs/render.md', async (t) => {
  const docs = await readFile(fileURLToPath(new URL('../../docs/render.md', import.meta.url)), 'utf8');
  const ids = new Set<string>();
  for (const rule of LINT_RULES) {
    t.regex(rule.id, /^[a-z]+(?:-[a-z]+)*$/);
    t.false(ids.has(rule.id));
    ids.add(rule.id);
    t.true(rule.title.length > 0 && rule.docs.length > 0);
    t.true(docs.includes(`\`${rule.id}\``), `docs/render.md must document ${rule.id}`);
  }
});

test('transition mode allows the explicit verify fallback, and only then', (t) => {
  const fallback = replaceFirst(good, '/mirrors/eic-build-cache;', '/mirrors/eic-build-cache || echo unverified;');
  t.true(lintDockerfile(fallback, context).some((f) => f.rule === 'runtime-verify-before-install'));
  t.false(lintDockerfile(fallback, { ...context, transition: true }).some((f) => f.rule === 'runtime-verify-before-install'));
});

test('builder stages may keep --no-check-signature; POSIX stages accept set -eu', (t) => {
  t.true(good.includes('install --no-check-signature'));
  t.deepEqual(
    lintDockerfile(good, context).filter((f) => f.rule === 'runtime-no-check-signature'),
    [],
  );
  // Without SHELL the stage runs /bin/sh: `set -eu` is enough there, but not in the bash runtime stage.
  const posixBuilder = replaceFirst(replaceFirst(good, 'SHELL ["/bin/bash", "-c"]\n', ''), 'set -eu -o pipefail;', 'set -eu;');
  t.deepEqual(
    lintDockerfile(posixBuilder, context).filter((f) => f.rule === 'strict-shell'),
    [],
  );
  const bashRuntime = replaceLast(good, 'set -eu -o pipefail;', 'set -eu;');
  t.is(lintDockerfile(bashRuntime, context).filter((f) => f.rule === 'strict-shell').length, 1);
});

test('isSecretLikeName follows BuildKit SecretsUsedInArgOrEnv (words, public allowed)', (t) => {
  for (const name of ['SPACK_SIGNING_KEY', 'GITHUB_TOKEN', 'AUTH', 'my_password', 'AWS_SECRET_ACCESS', 'credentials']) t.true(isSecretLikeName(name), name);
  for (const name of ['SPACK_SIGNER_FINGERPRINT', 'PUBLIC_KEY', 'KEYRING_DIR', 'MONKEY', 'BUILDER_IMAGE']) t.false(isSecretLikeName(name), name);
});
