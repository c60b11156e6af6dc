import test from 'ava';
import { setTimeout as sleep } from 'node:timers/promises';
import { createProgressReporter, formatPlainLine, formatTtyLine, startAuditProgress, type AuditCounts } from '../../src/progress/index.js';

const MiB = 1024 * 1024;
const counts: AuditCounts = { tagsDone: 3, tagsTotal: 10, blobsDone: 4, blobsTotal: 9, blobsFromState: 2, bytesDone: 10 * MiB, bytesTotal: 40 * MiB, totalsFinal: false };

function collect() {
  const out: string[] = [];
  return { out, write: (text: string) => void out.push(text) };
}

test('growing totals: shown as N+, no percentage, no ETA and a spinner until they are final', (t) => {
  const state = { label: 'audit', unit: 'bytes' as const, done: 10 * MiB, total: 40 * MiB, items: { noun: 'blobs', done: 4, total: 9 }, elapsedMs: 5000 };
  t.is(formatPlainLine({ ...state, growing: true }), 'audit: 10 MiB/40 MiB+, 4/9+ blobs, 5s elapsed');
  t.is(formatPlainLine(state), 'audit: 25%, 10 MiB/40 MiB, 4/9 blobs, 5s elapsed, about 15s left');
  t.notRegex(formatTtyLine({ ...state, growing: true }, 200), /%/);
  t.regex(formatTtyLine(state, 200), /^audit \[#{5}\.{15}\] {2}25% /);
});

/** The next line written after now (renders come from the reporter's timer; no timing margin to get wrong). */
async function nextLine(sink: { out: string[] }): Promise<string> {
  const seen = sink.out.length;
  while (sink.out.length === seen) await sleep(5);
  return sink.out[seen]!;
}

test('audit progress in plain mode: tags resolved, blobs done/known, bytes, then ETA once every tag is resolved; a summary at the end', async (t) => {
  const sink = collect();
  let clock = 0;
  const auditing = startAuditProgress(createProgressReporter({ mode: 'plain', write: sink.write, intervalMs: 20, now: () => clock }));
  t.is(sink.out[0], 'eic-build: audit…\n');
  auditing.onProgress(counts);
  clock = 5000;
  t.is(await nextLine(sink), 'eic-build: audit: 10 MiB/40 MiB+, 4/9+ blobs, 5s elapsed, tags 3/10 resolved, 2 blobs from --state\n');
  auditing.onProgress({ ...counts, tagsDone: 10, totalsFinal: true });
  t.is(await nextLine(sink), 'eic-build: audit: 25%, 10 MiB/40 MiB, 4/9 blobs, 5s elapsed, tags 10/10 resolved, 2 blobs from --state, about 15s left\n');
  auditing.onProgress({ ...counts, tagsDone: 10, blobsDone: 9, bytesDone: 40 * MiB, totalsFinal: true });
  auditing.finish(true);
  t.regex(sink.out.at(-1)!, /^eic-build: audit: tags 10\/10, blobs 9\/9 \(2 from --state\), 40 MiB downloaded in \d+s\n$/);
  t.true(
    sink.out.every((line) => line.endsWith('\n') && !line.includes('\r')),
    'plain lines only, no redraws',
  );
});

test('audit progress: a live line on a terminal; nothing when quiet; no summary when the audit failed', async (t) => {
  const live = collect();
  const tty = startAuditProgress(createProgressReporter({ mode: 'tty', write: live.write, columns: 120 }));
  tty.onProgress(counts);
  await nextLine(live);
  tty.finish(false);
  t.true(live.out[0]!.startsWith('\r\x1b[K'));
  t.regex(live.out.join(''), /\r\x1b\[Kaudit \[[|/\\-]\] 10 MiB\/40 MiB\+, 4\/9\+ blobs/);
  t.false(live.out.join('').includes('\n'), 'a failed audit leaves no summary line');
  const quiet = collect();
  const none = startAuditProgress(createProgressReporter({ mode: 'quiet', write: quiet.write }));
  none.onProgress(counts);
  none.finish(true);
  t.deepEqual(quiet.out, []);
});
