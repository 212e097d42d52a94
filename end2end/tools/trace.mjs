// One page load in Chromium, traced: shared by hydration-trace.mjs and tasks.mjs.
import { chromium } from '@playwright/test';

/**
 * Loads `url` (with the `name=value` session cookie, if any) at a CPU throttling `rate`,
 * waits for hydration and three quiet seconds, and returns every trace event (`all`), the
 * complete events of the page's main thread (`mine`, the thread that ran the most tasks) and
 * the first one's time (`t0`, microseconds).
 */
export async function traceLoad(url, cookie, rate, categories) {
  // JSFLAGS passes V8 flags, e.g. `--no-wasm-lazy-compilation` (every function compiled off
  // the main thread while the module downloads) to measure a task without first-call compiling.
  const v8 = process.env.JSFLAGS ? [`--js-flags=${process.env.JSFLAGS}`] : [];
  const browser = await chromium.launch({
    executablePath: process.env.CHROME_PATH || '/usr/bin/chromium',
    args: ['--no-sandbox', '--disable-gpu', '--disable-quic', ...v8],
  });
  const context = await browser.newContext();
  if (cookie) {
    const [name, ...value] = cookie.split('=');
    await context.addCookies([{ name, value: value.join('='), url }]);
  }
  const page = await context.newPage();
  const cdp = await context.newCDPSession(page);
  await cdp.send('Emulation.setCPUThrottlingRate', { rate });
  await browser.startTracing(page, { categories });
  await page.goto(url);
  await page.waitForSelector('body[data-hydrated="true"]', { timeout: 30_000 });
  await page.waitForTimeout(3000);
  const trace = JSON.parse((await browser.stopTracing()).toString());
  await browser.close();
  const all = trace.traceEvents || trace;
  const events = all.filter((e) => e.ph === 'X');
  const busiest = {};
  for (const e of events) {
    if (e.name === 'RunTask') busiest[`${e.pid}:${e.tid}`] = (busiest[`${e.pid}:${e.tid}`] || 0) + e.dur;
  }
  const main = Object.entries(busiest).sort((a, b) => b[1] - a[1])[0][0];
  const mine = events.filter((e) => `${e.pid}:${e.tid}` === main);
  return { all, mine, t0: Math.min(...mine.map((e) => e.ts)) };
}

/** The events of `events` that ran inside `task` (a `RunTask`), the task itself left out. */
export function inTask(events, task) {
  return events.filter((e) => e !== task && e.ts >= task.ts && e.ts + (e.dur || 0) <= task.ts + task.dur);
}
