import { createHash } from 'node:crypto';
import { Transform, type TransformCallback } from 'node:stream';
import { EicBuildError } from '../errors.js';

const ALGORITHMS: Record<string, { node: string; hexLength: number }> = {
  sha256: { node: 'sha256', hexLength: 64 },
  sha512: { node: 'sha512', hexLength: 128 },
};

/** `sha256:<hex>` of some bytes. */
export function sha256Digest(bytes: Uint8Array | string): string {
  return `sha256:${createHash('sha256').update(bytes).digest('hex')}`;
}

/** Split and validate `ALGORITHM:HEX`; throws for algorithms eic-build cannot check. */
export function parseDigest(digest: string): { algorithm: string; hex: string } {
  const match = /^([a-z0-9]+):([a-f0-9]+)$/.exec(digest);
  const spec = match ? ALGORITHMS[match[1]!] : undefined;
  if (!match || !spec || match[2]!.length !== spec.hexLength) {
    throw new EicBuildError('input-corrupt', `'${digest}' is not a sha256 or sha512 digest`, {
      hint: 'digests look like sha256:<64 lowercase hex digits>',
    });
  }
  return { algorithm: match[1]!, hex: match[2]! };
}

/** An incremental hash for the algorithm `expected` names; `digest()` gives `ALGORITHM:HEX`. */
export function createDigestHash(expected: string): { update: (bytes: Uint8Array) => void; digest: () => string } {
  const { algorithm } = parseDigest(expected);
  const hash = createHash(ALGORITHMS[algorithm]!.node);
  return { update: (bytes) => void hash.update(bytes), digest: () => `${algorithm}:${hash.digest('hex')}` };
}

/** Digest of bytes with the algorithm that `expected` names. */
export function digestLike(expected: string, bytes: Uint8Array): string {
  const hash = createDigestHash(expected);
  hash.update(bytes);
  return hash.digest();
}

const SERVED_OTHER_BYTES = 'the registry served different bytes than the digest names: the entry was changed or corrupted';

/** The error for content that does not hash to the digest it was asked for by; `hint` says why that happens for this content. */
export function digestMismatch(what: string, actual: string, expected: string, hint = SERVED_OTHER_BYTES): EicBuildError {
  return new EicBuildError('digest-mismatch', `${what}: content hashes to ${actual}, expected ${expected}`, { hint });
}

/** A pass-through stream that fails at the end when the bytes do not hash to `expected`. */
export function digestVerifier(expected: string, what: string): Transform {
  const hash = createDigestHash(expected);
  return new Transform({
    transform(chunk: Buffer, _enc, callback: TransformCallback) {
      hash.update(chunk);
      callback(null, chunk);
    },
    flush(callback: TransformCallback) {
      const actual = hash.digest();
      callback(actual === expected ? null : digestMismatch(what, actual, expected));
    },
  });
}
