// The installable app: manifest and installability (CDP), the service worker in control,
// /budget opening offline with the last budget, an offline expense reaching another member
// once, the update offer after a new build, and sign-out forgetting the user's data.
import { test, expect, chromium } from '@playwright/test';
import { cpSync, mkdtempSync, readdirSync, rmSync, appendFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import {
  addExpense, controlled, createFamily, inviteCode, joinFamily, open, openLive,
} from './helpers.mjs';
import { hearth, showServerLogsOnFailure } from './servers.mjs';

showServerLogsOnFailure(test);

const root = resolve(process.cwd(), '..');

test('the manifest has no errors and Chromium finds nothing against installing', async () => {
  // A persistent profile: an incognito context is never installable.
  const profile = mkdtempSync(join(tmpdir(), 'hearth-profile-'));
  const config = test.info().project.use;
  const context = await chromium.launchPersistentContext(profile, {
    ...config.launchOptions,
    baseURL: config.baseURL,
  });
  try {
    const page = context.pages()[0] ?? (await context.newPage());
    await open(page, '/login');
    await controlled(page);
    const cdp = await context.newCDPSession(page);
    const manifest = await cdp.send('Page.getAppManifest');
    expect(manifest.url).toMatch(/\/manifest\.webmanifest$/);
    expect(manifest.errors).toEqual([]);
    const parsed = JSON.parse(manifest.data);
    expect(parsed.display).toBe('standalone');
    expect(parsed.icons.map((i) => `${i.sizes} ${i.purpose}`)).toEqual(
      ['192x192 any', '512x512 any', '512x512 maskable']);
    const { installabilityErrors } = await cdp.send('Page.getInstallabilityErrors');
    expect(installabilityErrors).toEqual([]);
    // Every page links the manifest, the theme colour and the touch icon.
    await expect(page.locator('link[rel="manifest"]')).toHaveAttribute('href', '/manifest.webmanifest');
    await expect(page.locator('meta[name="theme-color"]')).toHaveAttribute('content', '#b4532a');
    await expect(page.locator('link[rel="apple-touch-icon"]')).toHaveCount(1);
  } finally {
    await context.close();
    rmSync(profile, { recursive: true, force: true });
  }
});

test('after a reload the page comes from the service worker', async ({ page }) => {
  await open(page, '/login');
  await controlled(page);
  const response = await page.reload();
  expect(response.fromServiceWorker()).toBe(true);
  const sw = await page.evaluate(async () => {
    const names = await caches.keys();
    const shell = names.find((n) => n.startsWith('hearth-shell-'));
    const cached = (await (await caches.open(shell)).keys()).map((r) => new URL(r.url).pathname);
    return { names, cached };
  });
  // The precache list is the build's own files (hashed names), not a typed list.
  expect(sw.cached.some((p) => /^\/pkg\/hearth\.[^/]+\.wasm$/.test(p))).toBe(true);
  expect(sw.cached.some((p) => /^\/pkg\/hearth\.[^/]+\.css$/.test(p))).toBe(true);
  // The split build's chunks and their loader too, so every part opens offline.
  expect(sw.cached.some((p) => /^\/pkg\/split_performance_[^/]+\.wasm$/.test(p))).toBe(true);
  expect(sw.cached.some((p) => /^\/pkg\/__wasm_split\.[^/]+\.js$/.test(p))).toBe(true);
  expect(sw.cached).toContain('/offline');
});

test('/budget opens offline with the last budget and says offline', async ({ browser }) => {
  const server = await hearth();
  const context = await browser.newContext({ baseURL: server.url });
  const page = await context.newPage();
  try {
    await createFamily(page, 'Olga', 'Offliners');
    await openLive(page);
    await controlled(page);
    await addExpense(page, 'Groceries', '12.34', 'before the outage');
    await expect(page.getByTestId('budget-total')).toHaveAttribute('data-spent-minor', '1234');
    // The total shows the expense at once; the server's answer comes a moment later. Only a
    // page asked for after that answer is sure to hold it (a page cached a moment before the
    // write is still that moment's page).
    await expect(page.locator('[data-testid="expense"][data-pending="true"]')).toHaveCount(0);
    await page.reload(); // the worker keeps this copy of the page
    await expect(page.getByTestId('connection-status')).toHaveText('connected');

    await server.stop();
    await context.setOffline(true);
    await page.reload();
    await page.waitForSelector('body[data-hydrated="true"]');
    await expect(page.getByTestId('budget-total')).toHaveAttribute('data-spent-minor', '1234');
    await expect(page.getByTestId('expense-list')).toContainText('before the outage');
    await expect(page.getByTestId('connection-status')).toHaveText('offline');
    // A page never opened before gets the offline page.
    await page.goto('/family?never-opened');
    await expect(page.getByTestId('offline-page')).toContainText('You are offline');
  } finally {
    await context.close().catch(() => {});
    await server.stop().catch(() => {});
  }
});

test('an expense added offline reaches another member once, after coming back', async ({ browser }) => {
  const owner = await browser.newContext();
  const member = await browser.newContext();
  try {
    const a = await owner.newPage();
    await createFamily(a, 'Omar', 'Outboxers');
    const code = await inviteCode(a);
    const b = await member.newPage();
    await joinFamily(b, 'Mia', code);
    await openLive(b);
    await openLive(a);
    await controlled(a);
    await expect(a.getByTestId('connection-status')).toHaveText('connected');

    await owner.setOffline(true);
    await expect(a.getByTestId('connection-status')).toHaveText('offline');
    await addExpense(a, 'Groceries', '7.00', 'bought offline');
    await expect(a.getByTestId('expense-list')).toContainText('waiting for the network');
    await b.waitForTimeout(1000);
    await expect(b.getByText('bought offline')).toHaveCount(0);

    await owner.setOffline(false);
    await expect(b.getByTestId('expense-list')).toContainText('bought offline');
    await expect(a.getByTestId('expense-list')).not.toContainText('waiting for the network');
    await b.waitForTimeout(1500);
    await expect(b.getByTestId('expense-list').getByText('bought offline')).toHaveCount(1);
    const { expenses } = await (await b.request.get('/api/expenses')).json();
    expect(expenses.filter((e) => e.note === 'bought offline')).toHaveLength(1);
  } finally {
    await owner.close().catch(() => {});
    await member.close().catch(() => {});
  }
});

test('a new build is offered as an update and the reload brings its assets', async ({ browser }) => {
  // A copy of the built site this test may change, as a deploy would.
  const site = mkdtempSync(join(tmpdir(), 'hearth-site-'));
  cpSync(join(root, 'target/site'), site, { recursive: true });
  const server = await hearth({ LEPTOS_SITE_ROOT: site });
  const context = await browser.newContext({ baseURL: server.url });
  const page = await context.newPage();
  try {
    await open(page, '/login');
    await controlled(page);
    await expect(page.getByTestId('update-ready')).toHaveCount(0);
    const marker = () => page.evaluate(
      () => getComputedStyle(document.body, '::after').getPropertyValue('content'));
    expect(await marker()).not.toContain('new build');

    await server.stop();
    const pkg = join(site, 'pkg');
    for (const name of readdirSync(pkg)) {
      if (/\.css\.(br|gz|zst)$/.test(name)) rmSync(join(pkg, name));
    }
    const css = readdirSync(pkg).find((n) => n.endsWith('.css'));
    appendFileSync(join(pkg, css), '\nbody::after { content: "new build"; }\n');
    await server.start();

    await page.reload();
    await page.waitForSelector('body[data-hydrated="true"]');
    const offer = page.getByTestId('update-ready');
    await expect(offer).toContainText('A new version of Hearth is ready', { timeout: 20_000 });
    expect(await marker()).not.toContain('new build'); // still the old worker's assets
    await Promise.all([
      page.waitForEvent('load'),
      offer.getByRole('button', { name: 'Reload' }).click(),
    ]);
    await page.waitForSelector('body[data-hydrated="true"]');
    expect(await marker()).toContain('new build');
    const shells = await page.evaluate(
      async () => (await caches.keys()).filter((n) => n.startsWith('hearth-shell-')));
    expect(shells).toHaveLength(1); // the old version's cache is gone
  } finally {
    await context.close().catch(() => {});
    await server.stop().catch(() => {});
    rmSync(site, { recursive: true, force: true });
  }
});

test('signing out clears the cached pages, the API answers and the outbox', async ({ page }) => {
  await createFamily(page, 'Sven', 'Signouts');
  await openLive(page);
  await controlled(page);
  await page.reload(); // a signed-in page and API answers in the caches
  await page.waitForSelector('body[data-hydrated="true"]');
  const kept = await page.evaluate(async () => {
    const db = await new Promise((ok, fail) => {
      const r = indexedDB.open('hearth', 1);
      r.onupgradeneeded = () => r.result.createObjectStore('outbox', { keyPath: 'id' });
      r.onsuccess = () => ok(r.result);
      r.onerror = () => fail(r.error);
    });
    await new Promise((ok) => {
      const tx = db.transaction('outbox', 'readwrite');
      tx.objectStore('outbox').put({ id: 'left-behind', body: '{}', at: Date.now() });
      tx.oncomplete = ok;
    });
    db.close();
    return caches.keys();
  });
  expect(kept).toContain('hearth-pages');

  await page.getByRole('button', { name: 'Sign out' }).click();
  await page.waitForURL('**/login');
  await expect.poll(() => page.evaluate(() => caches.keys())).not.toContain('hearth-pages');
  const after = await page.evaluate(async () => {
    const db = await new Promise((ok) => {
      const r = indexedDB.open('hearth', 1);
      r.onsuccess = () => ok(r.result);
    });
    const count = await new Promise((ok) => {
      const r = db.transaction('outbox').objectStore('outbox').count();
      r.onsuccess = () => ok(r.result);
    });
    db.close();
    return { names: await caches.keys(), count };
  });
  expect(after.names).not.toContain('hearth-api');
  expect(after.count).toBe(0);
});
