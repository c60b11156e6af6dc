// Which layer paths are package database files worth keeping for triage. Pure.
import type { RecordFileKind } from './types.js';

const DPKG_INFO = 'var/lib/dpkg/info/';

/** The record kind of a layer path, or null for every other file (the common case: one cheap test). */
export function recordFileKind(path: string): RecordFileKind | null {
  if (path.endsWith('.md5sums')) return path.startsWith(DPKG_INFO) && !path.slice(DPKG_INFO.length).includes('/') ? 'dpkg-md5sums' : null;
  if (path === 'var/lib/dpkg/status') return 'dpkg-status';
  if (path.endsWith('.dist-info/RECORD')) return 'python-record';
  if (path.endsWith('lib/spack/spack/__init__.py')) return 'spack-version';
  return null;
}
