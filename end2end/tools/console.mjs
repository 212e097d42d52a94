// Loads a page in Chromium and prints its console and uncaught errors (a WebAssembly panic's
// whole stack included), then whether it hydrated: the first thing to run when a page does
// not hydrate. Usage (a Hearth running; the cookie only for signed-in pages):
//   node end2end/tools/console.mjs http://127.0.0.1:3000/budget 'hearth_session=…'
import { chromium } from '@playwright/test';
const [url, cookie = ''] = process.argv.slice(2);
const browser = await chromium.launch({ executablePath: process.env.CHROME_PATH || '/usr/bin/chromium', args: ['--no-sandbox'] });
const context = await browser.newContext();
if (cookie) { const [name, ...v] = cookie.split('='); await context.addCookies([{ name, value: v.join('='), url }]); }
const page = await context.newPage();
await page.addInitScript(() => { Error.stackTraceLimit = 200; });
page.on('console', (m) => console.log('console', m.type(), m.text().slice(0, 200000)));
page.on('pageerror', (e) => console.log('pageerror', String(e).slice(0, 2000)));
await page.goto(url);
await page.waitForTimeout(4000);
console.log('hydrated:', await page.evaluate(() => document.body.dataset.hydrated));
await browser.close();
