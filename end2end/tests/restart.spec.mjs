// A server restart under an open page: the status goes `reconnecting`, then `connected`,
// and a change made meanwhile is on the page. The test runs its own Hearth (the release
// binary, HEARTH_BIN) with the machine's Redis, so sessions and history outlive the restart.
import { test, expect } from '@playwright/test';
import { createFamily, openLive } from './helpers.mjs';
import { hearth, showServerLogsOnFailure } from './servers.mjs';

showServerLogsOnFailure(test);

test('restarting the server: reconnecting, then connected, and nothing is missed', async ({ browser }) => {
  const server = await hearth({
    REDIS_URL: process.env.HEARTH_TEST_REDIS ?? 'redis://127.0.0.1:6379',
  });
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
