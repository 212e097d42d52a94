// A server restart under an open page: the status goes `reconnecting`, then `connected`,
// and a change made meanwhile is on the page. The test runs its own Hearth (the release
// binary, HEARTH_BIN) with the machine's Redis, so sessions and history outlive the restart.
import { test, expect } from '@playwright/test';
import { spawn } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { createFamily, openLive } from './helpers.mjs';

const root = resolve(process.cwd(), '..');

function freePort() {
  return new Promise((done) => {
    const s = createServer().listen(0, '127.0.0.1', () => {
      const { port } = s.address();
      s.close(() => done(port));
    });
  });
}

async function healthy(url) {
  const deadline = Date.now() + 30_000;
  while (Date.now() < deadline) {
    try {
      if ((await fetch(`${url}/healthz`)).ok) return;
    } catch {}
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`Hearth at ${url} did not start`);
}

async function hearth() {
  const port = await freePort();
  const dir = mkdtempSync(join(tmpdir(), 'hearth-e2e-'));
  const url = `http://127.0.0.1:${port}`;
  const env = {
    ...process.env,
    DATABASE_URL: `sqlite://${dir}/hearth.db`,
    LEPTOS_SITE_ADDR: `127.0.0.1:${port}`,
    REDIS_URL: process.env.HEARTH_TEST_REDIS ?? 'redis://127.0.0.1:6379',
  };
  let child;
  const server = {
    url,
    async start() {
      child = spawn(process.env.HEARTH_BIN ?? join(root, 'target/release/hearth'), [], {
        cwd: root, env, stdio: 'ignore',
      });
      await healthy(url);
    },
    async stop() {
      if (child.exitCode !== null || child.signalCode !== null) return;
      const exited = new Promise((r) => child.once('exit', r));
      child.kill('SIGTERM');
      await exited;
    },
  };
  await server.start();
  return server;
}

test('restarting the server: reconnecting, then connected, and nothing is missed', async ({ browser }) => {
  const server = await hearth();
  const context = await browser.newContext({ baseURL: server.url });
  const page = await context.newPage();
  try {
    await createFamily(page, 'Rita', 'Restarters');
    await openLive(page);
    const status = page.getByTestId('connection-status');

    await server.stop();
    await expect(status).toHaveText('reconnecting');
    await server.start();
    // A change lands before the page is back (its backoff is still running).
    const { categories } = await (await page.request.get('/api/categories')).json();
    const groceries = categories.find((c) => c.name === 'Groceries');
    const made = await page.request.post('/api/expenses', {
      data: { category_id: groceries.id, amount_minor: 4200, note: 'while away' },
    });
    expect(made.status()).toBe(201);

    await expect(status).toHaveText('connected', { timeout: 20_000 });
    await expect(page.getByTestId('expense-list')).toContainText('while away');
    await expect(page.getByTestId('budget-total')).toHaveAttribute('data-spent-minor', '4200');
  } finally {
    await context.close().catch(() => {});
    await server.stop().catch(() => {});
  }
});
