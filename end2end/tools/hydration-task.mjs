// The hydration task of one page load, with the time V8 spent in it compiling WebAssembly
// functions on their first call. On Hearth's pages and the hydration floor's page the
// script yields a task (a timer) between instantiating the module and hydrating, so the
// hydration task is the first timer task. Used by bench/hydration-floor.sh; JSFLAGS as in
// trace.mjs. Usage: node end2end/tools/hydration-task.mjs URL ['name=value' cookie] [rate, 4]
import { inTask, traceLoad } from './trace.mjs';

const [url, cookie = '', rate = '4'] = process.argv.slice(2);
if (!url) throw new Error('usage: hydration-task.mjs URL [cookie] [rate]');
const { mine } = await traceLoad(url, cookie, Number(rate), [
  'devtools.timeline', 'disabled-by-default-devtools.timeline', 'v8.wasm',
]);
const within = (task, name) => inTask(mine, task).filter((e) => e.name === name);
// The first timer task of 10 ms or more (later ones are the page's own work after hydration).
// Now and then a trace misses the timer's own event: then the first such task running a script.
const first = (name) =>
  mine.filter((e) => e.name === 'RunTask' && e.dur >= 10_000 && within(e, name).length > 0)
    .sort((a, b) => a.ts - b.ts);
const timers = first('TimerFire').length ? first('TimerFire') : first('v8.callFunction');
if (!timers.length) throw new Error('no timer task in the trace');
const lazy = within(timers[0], 'wasm.CompileLazy');
const compiling = lazy.reduce((sum, e) => sum + e.dur, 0);
console.log(
  `hydration task ${(timers[0].dur / 1000).toFixed(1)} ms, compiling ${(compiling / 1000).toFixed(1)} ms (${lazy.length} functions)`,
);
