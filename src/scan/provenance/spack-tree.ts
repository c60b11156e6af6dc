// Spack's own tree ships unprotected private test keys (var/spack/gpg.mock/keys/). Spack keeps no
// install record for its own tree, so these are known by path inside the tree and digest. Pure.

/** A test-key file every Spack tree carries, as measured in a release. */
export interface SpackTestKeyFile {
  /** Path relative to the Spack root. */
  path: string;
  sha256: string;
  /** Where the digest was measured. */
  measuredIn: string;
}

/** Measured in ../shared/spack-kit/spack-v1.1.0.tar.gz (upstream tag v1.1.0, commit 2e907202bc). */
export const SPACK_TEST_KEY_FILES: readonly SpackTestKeyFile[] = [
  {
    path: 'var/spack/gpg.mock/keys/package-signing-key',
    sha256: '427a8f3b70b71676472adad0f4237fe0777da28a780a228709b778917e2044bd',
    measuredIn: 'spack v1.1.0',
  },
];

const VERSION_FILE = 'lib/spack/spack/__init__.py';

/** The Spack root of a captured `<root>/lib/spack/spack/__init__.py`, or null. */
export function spackRootOfVersionFile(path: string): string | null {
  if (path === VERSION_FILE) return '';
  return path.endsWith(`/${VERSION_FILE}`) ? path.slice(0, -VERSION_FILE.length - 1) : null;
}

/** `__version__ = "1.1.0"` in Spack's lib/spack/spack/__init__.py. */
export function parseSpackVersion(text: string): string | null {
  return /^__version__\s*=\s*["']([^"']+)["']/m.exec(text)?.[1] ?? null;
}

/** For a layer path: its Spack root and the known test-key file it would be, or null. */
export function spackTestKeyAt(path: string): { root: string; file: SpackTestKeyFile } | null {
  for (const file of SPACK_TEST_KEY_FILES) {
    if (path === file.path) return { root: '', file };
    if (path.endsWith(`/${file.path}`)) return { root: path.slice(0, -file.path.length - 1), file };
  }
  return null;
}
