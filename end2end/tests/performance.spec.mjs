// The performance monitor: an admin watches figures move while another browser and a script
// send traffic, sees the page loads the browsers reported, and sees the status turn
// `degraded` (with an alert) when Redis stops, and `healthy` again when it returns. The test
// runs its own Hearth on its own redis-server, which it stops and starts.
import { test, expect } from '@playwright/test';
import { createFamily, open, openLive, register } from './helpers.mjs';
import { hearth, showServerLogsOnFailure, ownRedis } from './servers.mjs';

showServerLogsOnFailure(test);

const ADMIN = 'monitor-admin@example.org';

test('the monitor is live: traffic moves the figures, a Redis outage degrades and heals', async ({ browser }) => {
  test.setTimeout(120_000);
  const redis = await ownRedis();
  const server = await hearth({ REDIS_URL: redis.url, ADMIN_EMAILS: ADMIN });
  const adminContext = await browser.newContext({ baseURL: server.url });
  const memberContext = await browser.newContext({ baseURL: server.url });
  try {
    const admin = await adminContext.newPage();
    await register(admin, 'Ada', ADMIN);
    await open(admin, '/admin/performance');
    await expect(admin.getByTestId('connection-status')).toHaveText('connected');
    await expect(admin.getByTestId('perf-status')).toHaveText('healthy');
    const score = Number(await admin.getByTestId('perf-health-score').textContent());
    expect(score).toBeGreaterThanOrEqual(80);
    await expect(admin.getByTestId('perf-ws-connections')).toHaveText('1');

    // A member's browser: a second connection, cacheable reads, and a page-load report.
    const member = await memberContext.newPage();
    await createFamily(member, 'Max', 'Monitored');
    await openLive(member);
    await expect(admin.getByTestId('perf-ws-connections')).toHaveText('2');
    for (let i = 0; i < 40; i++) {
      expect((await member.request.get('/api/budgets')).status()).toBe(200);
    }
    // Live: the next metrics events carry the 40 reads (a miss, then hits).
    const hitRate = admin.getByTestId('perf-cache-hit-rate');
    await expect(hitRate).toHaveText(/^\d+\.\d %$/);
    await expect.poll(async () => parseFloat(await hitRate.textContent())).toBeGreaterThan(80);
    await expect(admin.getByTestId('perf-requests-per-s')).not.toHaveText('0');
    // The member's /budget load reports itself within 5 s of hydration.
    await expect(admin.locator('table[data-page="/budget"]')).toContainText('Largest contentful paint', { timeout: 15_000 });

    // The cache is cleared from the page, and the page says what happened.
    await admin.getByRole('button', { name: 'Clear', exact: true }).click();
    await expect(admin.getByTestId('perf-clear-result')).toContainText('Cleared everything');

    await redis.stop();
    await expect(admin.getByTestId('perf-status')).toHaveText('degraded', { timeout: 15_000 });
    await expect(admin.getByTestId('perf-alerts')).toContainText('Redis down');
    await expect(admin.getByTestId('perf-hints')).toContainText('Redis down');
    // The member's page keeps working on the degraded server.
    expect((await member.request.get('/api/budgets')).status()).toBe(200);

    await redis.start();
    await expect(admin.getByTestId('perf-status')).toHaveText('healthy', { timeout: 30_000 });
    await expect(admin.getByTestId('perf-alerts')).toContainText('Redis outage cleared');
  } finally {
    await adminContext.close().catch(() => {});
    await memberContext.close().catch(() => {});
    await server.stop().catch(() => {});
    await redis.stop().catch(() => {});
  }
});

test('members who are not admins get a clear "not allowed" page', async ({ page }) => {
  await createFamily(page, 'Nina', 'Nosy');
  const response = await page.goto('/admin/performance');
  expect(response.status()).toBe(403);
  await expect(page.getByTestId('not-allowed')).toContainText('Not allowed');
  await expect(page.getByTestId('perf-health-score')).toHaveCount(0);
});
