// Preloaded (--import) into a bench child: sums the main thread's garbage-collection pauses and
// writes them to the file named by EIC_BUILD_BENCH_GC_FILE at exit (stdout stays the child's JSON).
import { writeFileSync } from 'node:fs';
import { PerformanceObserver } from 'node:perf_hooks';

let ms = 0;
let count = 0;
new PerformanceObserver((list) => {
  for (const entry of list.getEntries()) {
    ms += entry.duration;
    count++;
  }
}).observe({ entryTypes: ['gc'] });
process.on('exit', () => {
  if (process.env.EIC_BUILD_BENCH_GC_FILE) writeFileSync(process.env.EIC_BUILD_BENCH_GC_FILE, JSON.stringify({ gcSeconds: ms / 1000, gcCount: count }));
});
