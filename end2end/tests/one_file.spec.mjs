// The release binary is the whole server: copied alone into an empty folder and started
// there, it serves the site built into it (hashed assets, their brotli forms, the manifest),
// so /budget hydrates, is styled and installs its service worker; the folder it unpacks the
// site into goes when it stops.
import { test, expect } from '@playwright/test';
import { chmodSync, copyFileSync, mkdtempSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { controlled, createFamily, watchPanics } from './helpers.mjs';
import { hearth, releaseBinary, showServerLogsOnFailure } from './servers.mjs';

showServerLogsOnFailure(test);

test('the binary alone in an empty folder serves a hydrated, styled, installable app', async ({ browser }) => {
  const alone = mkdtempSync(join(tmpdir(), 'hearth-alone-'));
  const bin = join(alone, 'hearth');
  copyFileSync(releaseBinary(), bin);
  chmodSync(bin, 0o755);
  expect(readdirSync(alone)).toEqual(['hearth']);
  // Its own temporary directory, to see the unpacked site come and go.
  const temp = mkdtempSync(join(tmpdir(), 'hearth-alone-tmp-'));
  const server = await hearth({ LEPTOS_SITE_ROOT: undefined, TMPDIR: temp }, { bin, cwd: alone });
  expect(readdirSync(temp).filter((f) => f.startsWith('hearth-site-'))).toHaveLength(1);

  const context = await browser.newContext({ baseURL: server.url });
  try {
    const page = await context.newPage();
    const panics = watchPanics(page);
    await createFamily(page, 'Alone', 'One File');
    await page.waitForSelector('body[data-hydrated="true"]');
    await expect(page.getByTestId('expense-form')).toBeVisible();

    // Styled: the stylesheet arrived and applies (the body's margin, the cards' corners).
    expect(await page.evaluate(() => getComputedStyle(document.body).margin)).toBe('0px');
    const css = await page.locator('link[rel="stylesheet"]').first().getAttribute('href');
    const styled = await page.request.get(css, { headers: { 'accept-encoding': 'br' } });
    expect(styled.status()).toBe(200);
    expect(styled.headers()['cache-control']).toBe('public, max-age=31536000, immutable');

    // The WebAssembly the page loaded comes brotli-compressed, cached for good.
    const wasm = await page.evaluate(() => performance.getEntriesByType('resource')
      .map((e) => e.name).find((n) => /\/pkg\/hearth\.[^/]+\.wasm$/.test(n)));
    expect(wasm).toBeTruthy();
    const module = await page.request.get(wasm, { headers: { 'accept-encoding': 'br, gzip' } });
    expect(module.status()).toBe(200);
    expect(module.headers()['content-encoding']).toBe('br');
    expect(module.headers()['content-type']).toBe('application/wasm');
    expect(module.headers()['cache-control']).toBe('public, max-age=31536000, immutable');

    // The service worker installs and takes control; the manifest and icons are there.
    await controlled(page);
    for (const path of ['/manifest.webmanifest', '/sw.js', '/icon-192.png', '/favicon.svg']) {
      expect((await page.request.get(path)).status(), path).toBe(200);
    }
    expect(panics).toEqual([]);
  } finally {
    await context.close();
    await server.stop();
  }
  expect(readdirSync(temp), 'the unpacked site is removed when the server stops').toEqual([]);
});
