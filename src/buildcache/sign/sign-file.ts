import { stat } from 'node:fs/promises';
import * as openpgp from 'openpgp';
import { EicBuildError } from '../../errors.js';
import { writeFileAtomically } from '../../io/output-file.js';
import { mapLimit } from '../../registry/pool.js';
import { parseV3Manifest, v3BlobPath } from '../file-layout.js';
import type { MirrorFiles } from '../mirror-files.js';
import { isClearsigned, verifyClearsigned } from '../pgp-verify.js';
import { selectEntries } from '../report.js';
import type { SignOutcome } from './sign-report.js';
import type { UnlockedSigningKey } from './signing-key.js';
import { describeKey } from '../trust.js';
import { detectFileLayout, listFileEntries, type FileEntry } from '../verify/verify-file.js';
import { countingEntries, type EntryProgress } from '../entry-progress.js';

/** Options of signFileMirror. */
export interface SignFileOptions {
  signingKey: UnlockedSigningKey;
  specs?: readonly string[];
  unsignedOnly?: boolean;
  force?: boolean;
  /** Hears of each entry signed (or skipped, or failed). */
  onProgress?: EntryProgress;
}

/** Clearsign a manifest text as Spack does (`gpg --clearsign`; OpenPGP.js output is accepted by Spack 1.1). */
export async function clearsignText(text: string, key: openpgp.PrivateKey): Promise<string> {
  const message = await openpgp.createCleartextMessage({ text });
  return openpgp.sign({ message, signingKeys: key, format: 'armored' });
}

/** Write by rename (same-directory temp), so a reader or a concurrent signer sees the old file or the new one, never half of one; the mode is kept. */
async function writeAtomically(path: string, text: string): Promise<void> {
  await writeFileAtomically(path, text, (await stat(path)).mode & 0o777);
}

async function signOne(files: MirrorFiles, entry: FileEntry, options: SignFileOptions): Promise<SignOutcome> {
  const bytes = await files.read(entry.path);
  if (!bytes) return { kind: 'failed', id: entry.id, detail: `${entry.path} disappeared` };
  const current = bytes.toString('utf8');
  let text = current;
  if (isClearsigned(current)) {
    if (options.unsignedOnly) return { kind: 'skipped', id: entry.id, detail: 'already signed (--unsigned-only)' };
    const mine = await verifyClearsigned(current, [describeKey(options.signingKey.key.toPublic(), 'signing key')]);
    if (mine.kind === 'verified' && !options.force) return { kind: 'skipped', id: entry.id, detail: `already signed by ${options.signingKey.fingerprint} (--force re-signs)` };
    if (mine.kind !== 'verified' && !options.force) {
      return { kind: 'skipped', id: entry.id, detail: 'signed by another key or with a broken signature; --force replaces it' };
    }
    try {
      text = (await openpgp.readCleartextMessage({ cleartextMessage: current })).getText();
    } catch (error) {
      return { kind: 'failed', id: entry.id, detail: `cannot read the clearsigned manifest: ${error instanceof Error ? error.message : String(error)}` };
    }
  }
  // Never vouch for an entry whose blobs are already missing or changed.
  let blobs;
  try {
    blobs = parseV3Manifest(text, entry.path);
  } catch (error) {
    return { kind: 'failed', id: entry.id, detail: error instanceof Error ? error.message : String(error) };
  }
  for (const blob of blobs) {
    const actual = await files.hash(v3BlobPath(blob));
    if (!actual) return { kind: 'failed', id: entry.id, detail: `refusing to sign: blob ${v3BlobPath(blob)} is missing` };
    if (actual.sha256 !== blob.checksum) return { kind: 'failed', id: entry.id, detail: `refusing to sign: blob ${v3BlobPath(blob)} does not match its checksum` };
  }
  await writeAtomically(files.describe(entry.path), await clearsignText(text, options.signingKey.key));
  return { kind: 'signed', id: entry.id, detail: `clearsigned ${entry.path}` };
}

/** Clearsign the spec manifests of a layout-v3 directory mirror in place. */
export async function signFileMirror(files: MirrorFiles, options: SignFileOptions): Promise<SignOutcome[]> {
  const layout = await detectFileLayout(files);
  if (layout !== 'v3') {
    throw new EicBuildError('usage', `${files.describe('')} uses buildcache layout v2 (Spack ≤ 0.23); eic-build signs layout v3 only`, {
      hint: 'push with Spack ≥ 1.0 (layout v3), or let Spack 0.23 sign on push (spack buildcache push --key FPR)',
    });
  }
  const { picked, missing } = selectEntries(await listFileEntries(files, layout), options.specs);
  const outcomes = await mapLimit(
    picked,
    8,
    countingEntries(picked.length, options.onProgress, (entry: FileEntry) => signOne(files, entry, options)),
  );
  for (const selector of missing) outcomes.push({ kind: 'failed', id: selector, detail: 'no such entry in the mirror' });
  return outcomes;
}
