// Lists one load's main-thread tasks over MIN ms (default 8) with the trace events that took
// most of each (layout, a script, a timer, fetch()'s requestResource, wasm.CompileLazy...),
// unthrottled unless a rate is given: what Lighthouse's long tasks are made of. See
// BENCHMARKS.md ("WASM and assets", twenty-first session).
// Usage (a Hearth running, a session cookie):
//   [MIN=8] node end2end/tools/tasks.mjs http://127.0.0.1:3000/budget 'hearth_session=…' [rate]
import { inTask, traceLoad } from './trace.mjs';

const [url, cookie = '', rate = '1'] = process.argv.slice(2);
if (!url) throw new Error('usage: tasks.mjs URL [name=value cookie] [rate]');
const { mine, t0 } = await traceLoad(url, cookie, Number(rate), [
  'devtools.timeline', 'disabled-by-default-devtools.timeline', 'v8', 'v8.wasm', 'blink', 'loading',
]);
const min = Number(process.env.MIN || 8) * 1000;
for (const task of mine.filter((e) => e.name === 'RunTask' && e.dur > min)) {
  const inside = inTask(mine, task);
  const agg = new Map();
  for (const e of inside) {
    // A script's events by file and function; the rest by name.
    const script = e.name === 'EvaluateScript' || e.name === 'FunctionCall';
    const data = e.args?.data || {};
    const key = script ? `${e.name} ${(data.url || '').split('/').pop().slice(0, 30)} ${data.functionName || ''}` : e.name;
    agg.set(key, (agg.get(key) || 0) + e.dur);
  }
  const top = [...agg].sort((a, b) => b[1] - a[1]).slice(0, 6).map(([k, d]) => `${k} ${(d / 1000).toFixed(1)}`).join(' | ');
  console.log(`${((task.ts - t0) / 1000).toFixed(0).padStart(6)} ms ${(task.dur / 1000).toFixed(1).padStart(6)} ms  ${top}`);
}
