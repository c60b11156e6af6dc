import type { KeyInspection } from './inspect-key.js';
import { formatAlgorithm, type KeyPartFacts } from './key-facts.js';

const DAY_MS = 86_400_000;

function day(date: Date): string {
  return date.toISOString().slice(0, 10);
}

function ageIn(now: Date, then: Date): string {
  const days = Math.floor((now.getTime() - then.getTime()) / DAY_MS);
  return days === 1 ? '1 day' : `${days} days`;
}

function expiryText(part: KeyPartFacts, now: Date): string {
  if (!part.expires) return 'never';
  const days = Math.ceil((part.expires.getTime() - now.getTime()) / DAY_MS);
  return days <= 0 ? `${day(part.expires)} (EXPIRED)` : `${day(part.expires)} (in ${days} days)`;
}

function usage(part: KeyPartFacts): string {
  const flags = [part.canCertify ? 'certify' : '', part.canSign ? 'sign' : '', part.canEncrypt ? 'encrypt' : ''].filter(Boolean);
  return flags.join(', ') || 'none';
}

const SECRET_TEXT: Record<KeyPartFacts['secret'], string> = {
  present: 'present',
  protected: 'present, passphrase-protected',
  absent: 'absent (public key)',
  stub: 'absent (gnu-dummy stub)',
};

/** `key inspect` for a person. Contains no key material, only facts about it. */
export function formatKeyInspection(inspection: KeyInspection): string {
  const now = inspection.checkedAt;
  const lines: string[] = [`key from ${inspection.inputName}`];
  const facts = inspection.facts;
  if (facts) {
    const p = facts.primary;
    lines.push(
      `  fingerprint:  ${p.fingerprint}`,
      `  key ID:       ${p.keyId}`,
      `  algorithm:    ${formatAlgorithm(p)}`,
      `  created:      ${day(p.created)} (${ageIn(now, p.created)} ago)`,
      `  expires:      ${expiryText(p, now)}`,
      `  secret:       ${SECRET_TEXT[p.secret]}${facts.passphraseProtected && inspection.passphrase === 'accepted' ? ' (decrypted with SPACK_SIGNING_KEY_PASSPHRASE, in memory)' : ''}`,
      `  usage:        ${usage(p)}${p.revoked ? ' (REVOKED)' : ''}`,
    );
    for (const userId of facts.userIds) lines.push(`  user ID:      ${userId}`);
    for (const sub of facts.subkeys) {
      lines.push(
        `  subkey:       ${sub.fingerprint}`,
        `    algorithm ${formatAlgorithm(sub)}, created ${day(sub.created)}, expires ${expiryText(sub, now)}, usage ${usage(sub)}${sub.revoked ? ' (REVOKED)' : ''}, secret ${SECRET_TEXT[sub.secret]}`,
      );
    }
    const signing = [p, ...facts.subkeys].filter((part) => part.canSign && !part.revoked);
    lines.push(`  signing keys: ${signing.length === 0 ? 'none' : signing.map((part) => part.keyId).join(', ')}`);
    if (inspection.identity) lines.push(`  keygrips:     ${inspection.identity.keygrips.join(', ')}`);
    if (inspection.keyCount > 1) lines.push(`  (the input holds ${inspection.keyCount} keys; only the first is shown)`);
  }
  if (inspection.findings.length === 0) {
    lines.push(`checks: all passed (judged for ${inspection.need === 'secret' ? 'signing' : 'public use'})`);
  } else {
    lines.push('checks:');
    for (const finding of inspection.findings) {
      lines.push(`  ${finding.severity}: ${finding.message} [${finding.id}]`, `    fix: ${finding.fix}`);
    }
  }
  return `${lines.join('\n')}\n`;
}

/** `key inspect --format json`: the same facts as data (dates as ISO 8601). */
export function formatKeyInspectionJson(inspection: KeyInspection): string {
  const data = {
    input: inspection.inputName,
    source: inspection.source,
    need: inspection.need,
    checkedAt: inspection.checkedAt.toISOString(),
    keyCount: inspection.keyCount,
    key: inspection.facts
      ? {
          ...inspection.facts,
          ageDays: Math.floor((inspection.checkedAt.getTime() - inspection.facts.primary.created.getTime()) / DAY_MS),
          signingKeys: [inspection.facts.primary, ...inspection.facts.subkeys].filter((part) => part.canSign && !part.revoked).map((part) => part.fingerprint),
        }
      : null,
    identity: inspection.identity ?? null,
    passphrase: inspection.passphrase,
    findings: inspection.findings,
    ok: !inspection.findings.some((finding) => finding.severity === 'error'),
  };
  return `${JSON.stringify(data, null, 2)}\n`;
}
