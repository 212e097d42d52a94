// Traces one load of a page in Chromium with 4x CPU throttling (RATE=n for another) and lists
// the main thread's tasks over 15 ms: duration, and how much of it was V8 compiling WebAssembly
// functions on their first call (wasm.CompileLazy). See BENCHMARKS.md (Lighthouse).
// Usage (a Hearth running, a session cookie):
//   node end2end/tools/hydration-trace.mjs http://127.0.0.1:3000/budget 'hearth_session=…'
import { inTask, traceLoad } from './trace.mjs';

const [url, cookie = ''] = process.argv.slice(2);
if (!url) throw new Error('usage: hydration-trace.mjs URL [name=value cookie]');
// RATE stands a slow phase of the VM in on a fast day (as CPU_SLOWDOWN in bench/lighthouse.sh).
const { all, mine, t0 } = await traceLoad(url, cookie, Number(process.env.RATE || 4), [
  'devtools.timeline', 'disabled-by-default-devtools.timeline', 'v8', 'v8.wasm',
]);
let blocking = 0;
// The code files the page fetched, in the same timeline: which task follows which chunk.
const fetched = all
  .filter((e) => e.name === 'ResourceSendRequest' && /\/pkg\//.test(e.args?.data?.url || ''))
  .map((e) => ({ at: e.ts, line: `${((e.ts - t0) / 1000).toFixed(0).padStart(6)} ms  fetch ${e.args.data.url.replace(/^.*\/pkg\//, '').replace(/\.[\w-]{22}\./, '.')}` }));
const lines = [...fetched];
for (const task of mine.filter((e) => e.name === 'RunTask' && e.dur > 15_000)) {
  const lazy = inTask(mine, task).filter((e) => e.name === 'wasm.CompileLazy');
  const lazyMs = lazy.reduce((sum, e) => sum + e.dur, 0) / 1000;
  const ms = task.dur / 1000;
  if (lazy.length) blocking += Math.max(0, ms - 50);
  lines.push({
    at: task.ts,
    line: `${((task.ts - t0) / 1000).toFixed(0).padStart(6)} ms  task ${ms.toFixed(0).padStart(4)} ms` +
      (lazy.length ? `  compiling ${lazyMs.toFixed(0)} ms (${lazy.length} functions)` : ''),
  });
}
for (const { line } of lines.sort((a, b) => a.at - b.at)) console.log(line);
console.log(`blocking time (over 50 ms) of the tasks that ran WebAssembly: ${blocking.toFixed(0)} ms`);
