// The live tracker with two members in two browser contexts: budget updates, alerts,
// presence, chat and the offline outbox.
import { test, expect } from '@playwright/test';
import {
  open, line, addExpense, controlled, createFamily, inviteCode, joinFamily, openLive, setLimit,
} from './helpers.mjs';

/** Takes `page` offline once the service worker controls it (it keeps the page for an offline reload). */
async function offline(context, page) {
  await controlled(page);
  await page.reload();
  await page.waitForSelector('body[data-hydrated="true"]');
  await context.setOffline(true);
  await expect(page.getByTestId('connection-status')).toHaveText('offline');
}

async function family(browser) {
  const ownerContext = await browser.newContext();
  const owner = await ownerContext.newPage();
  await createFamily(owner, 'Olga', 'Live ones');
  const code = await inviteCode(owner);
  const memberContext = await browser.newContext();
  const member = await memberContext.newPage();
  await joinFamily(member, 'Max', code);
  await openLive(owner);
  await openLive(member);
  return { ownerContext, owner, memberContext, member };
}

test('an expense appears in the other member\'s budget without a reload, with the 80 % banner in both', async ({ browser }) => {
  const { ownerContext, owner, memberContext, member } = await family(browser);
  await setLimit(owner, 'Dining out', '100');
  await expect(line(member, 'Dining out')).toContainText('0.00 of 100.00 EUR', { timeout: 1_000 });

  const before = (await member.getByTestId('budget-total').boundingBox()).y;
  await addExpense(owner, 'Dining out', '85', 'pizza');
  // Own change at once; the other device within a second, with who did it.
  await expect(line(owner, 'Dining out')).toContainText('85.00 of 100.00 EUR');
  await expect(line(member, 'Dining out')).toContainText('85.00 of 100.00 EUR', { timeout: 1_000 });
  await expect(member.getByTestId('budget-total')).toHaveAttribute('data-spent-minor', '8500');
  await expect(member.getByTestId('update-toast')).toContainText('Olga added 85.00 EUR in Dining out');
  await expect(member.getByTestId('expense-list')).toContainText('pizza');
  for (const page of [owner, member]) {
    await expect(page.getByTestId('alert-banner')).toContainText('Dining out has used 85%');
    await expect(line(page, 'Dining out')).toHaveAttribute('data-alert', 'warning');
  }
  // The alert took the place of the "all within limits" line: nothing below it moved.
  const after = (await member.getByTestId('budget-total').boundingBox()).y;
  expect(Math.abs(after - before)).toBeLessThanOrEqual(2);
  // Counted once on the owner's side too (optimistic, then reconciled).
  await expect(owner.getByTestId('budget-total')).toHaveAttribute('data-spent-minor', '8500');
  await expect(owner.getByTestId('expense')).toHaveCount(1);

  await addExpense(member, 'Dining out', '20');
  await expect(line(owner, 'Dining out')).toHaveAttribute('data-alert', 'exceeded', { timeout: 1_000 });
  await expect(owner.getByTestId('alert-banner')).toContainText('Dining out is over its limit');
  await expect(owner.getByTestId('cache-indicator')).not.toHaveText('–');
  await expect(owner.getByTestId('latency-ms')).toHaveText(/^\d+$/);
  await ownerContext.close();
  await memberContext.close();
});

test('who spent it: each expense names its member, the month is broken down by member, and the list filters', async ({ browser }) => {
  const { ownerContext, owner, memberContext, member } = await family(browser);
  await addExpense(owner, 'Groceries', '30', 'market');
  await addExpense(member, 'Groceries', '10', 'bread');
  for (const page of [owner, member]) {
    // Each row says who logged it, live on the other device too.
    const market = page.getByTestId('expense').filter({ hasText: 'market' });
    await expect(market.getByTestId('expense-member')).toHaveText('Olga', { timeout: 2_000 });
    await expect(page.getByTestId('expense').filter({ hasText: 'bread' }).getByTestId('expense-member'))
      .toHaveText('Max', { timeout: 2_000 });
    // The breakdown: everyone, their amount and share of the month.
    const breakdown = page.getByTestId('member-breakdown');
    await expect(breakdown.locator('li[data-member="Olga"]')).toContainText('30.00');
    await expect(breakdown.locator('li[data-member="Olga"]')).toContainText('75%');
    await expect(breakdown.locator('li[data-member="Max"]')).toContainText('25%');
  }
  // Two members, two colours.
  const colours = await owner.getByTestId('expense-member').evaluateAll(
    (els) => els.map((e) => getComputedStyle(e, '::before').backgroundColor));
  expect(new Set(colours).size).toBe(2);
  // The list narrows to one member and back.
  const filter = owner.getByTestId('member-filter');
  await filter.selectOption({ label: 'Max' });
  await expect(owner.getByTestId('expense')).toHaveCount(1);
  await expect(owner.getByTestId('expense')).toContainText('bread');
  await filter.selectOption({ label: 'Everyone' });
  await expect(owner.getByTestId('expense')).toHaveCount(2);
  // After a reload the server's page says the same.
  await owner.reload();
  await expect(owner.getByTestId('member-breakdown').locator('li[data-member="Max"]')).toContainText('10.00');
  await ownerContext.close();
  await memberContext.close();
});

test('the pace chart and the six-month bars redraw when another member spends', async ({ browser }) => {
  const { ownerContext, owner, memberContext, member } = await family(browser);
  await setLimit(owner, 'Groceries', '100');
  const pace = owner.getByTestId('pace-chart');
  await expect(pace.locator('svg polyline.pace')).toHaveCount(1);
  await expect(owner.getByTestId('pace-summary')).toContainText('Spent 0.00 EUR by day');
  await expect(owner.getByTestId('pace-summary')).toContainText('the 100.00 EUR limit');
  await addExpense(member, 'Groceries', '30');
  await expect(owner.getByTestId('pace-summary')).toContainText('Spent 30.00 EUR by day', { timeout: 2_000 });
  await expect(pace.locator('svg')).toHaveAttribute('aria-label', /Spent 30\.00 EUR/);
  // The bars: one row per category that spent, the current month live, readable as text.
  const row = owner.getByTestId('trend-chart').locator('.trend-row[data-category="Groceries"]');
  await expect(row.locator('svg rect')).toHaveCount(6);
  await expect(row.locator('svg')).toHaveAttribute('aria-label', /30\.00 EUR$/);
  // The bars come in the server's page, their data with them: after a reload the browser's
  // copy (without `data-trends`) takes over with the same bars and asks nothing more.
  const asked = [];
  owner.on('request', (r) => { if (r.url().includes('/api/trends')) asked.push(r.url()); });
  await owner.reload();
  await owner.waitForSelector('[data-testid="trend-chart"]:not([data-trends])');
  await expect(row.locator('svg rect')).toHaveCount(6);
  await expect(row.locator('svg')).toHaveAttribute('aria-label', /30\.00 EUR$/);
  expect(asked).toEqual([]);
  // One category at a time.
  await pace.locator('..').getByRole('combobox').selectOption({ label: 'Dining out' });
  await expect(owner.getByTestId('pace-summary')).toContainText('Spent 0.00 EUR by day');
  await expect(owner.getByTestId('pace-summary')).toContainText('no limit is set');
  await ownerContext.close();
  await memberContext.close();
});

test('a recurring bill is logged on its day, shows what is still to come, and changes live for the family', async ({ browser }) => {
  const { ownerContext, owner, memberContext, member } = await family(browser);
  const form = owner.getByTestId('recurring-form');
  await form.getByLabel('What').fill('Rent');
  await form.getByLabel('Category').selectOption({ label: 'Housing' });
  await form.getByLabel(/Amount/).fill('950');
  await form.getByLabel('Repeats').selectOption('month');
  // The first day is today by default: the server logs today's rent at once.
  await form.getByRole('button', { name: 'Add the bill' }).click();
  for (const page of [owner, member]) {
    const rent = page.getByTestId('expense').filter({ hasText: 'Rent' });
    await expect(rent).toContainText('950.00', { timeout: 5_000 });
    await expect(rent.getByTestId('expense-member')).toHaveText('Olga');
    const rule = page.getByTestId('recurring-list').getByTestId('recurring-rule');
    await expect(rule).toContainText('Rent · Housing', { timeout: 5_000 });
    await expect(rule).toContainText(/every month on the \d+(st|nd|rd|th)/);
    await expect(rule).toContainText(/next on \d{4}-\d{2}-\d{2}/);
  }
  // A weekly bill from tomorrow is still to come this month (unless today is its last day).
  const today = new Date();
  const tomorrow = new Date(today.getTime() + 86_400_000);
  await form.getByLabel('What').fill('Cleaner');
  await form.getByLabel('Category').selectOption({ label: 'Housing' });
  await form.getByLabel(/Amount/).fill('25');
  await form.getByLabel('Repeats').selectOption('week');
  await form.getByLabel('First day').fill(tomorrow.toISOString().slice(0, 10));
  await form.getByRole('button', { name: 'Add the bill' }).click();
  await expect(member.getByTestId('recurring-rule')).toHaveCount(2, { timeout: 5_000 });
  if (tomorrow.getUTCMonth() === today.getUTCMonth()) {
    await expect(member.getByTestId('upcoming')).toContainText('Still to come this month', { timeout: 5_000 });
    let weeks = 0;
    for (let d = new Date(tomorrow); d.getUTCMonth() === today.getUTCMonth(); d.setUTCDate(d.getUTCDate() + 7)) weeks += 1;
    await expect(member.getByTestId('upcoming')).toContainText(`Housing ${25 * weeks}.00 EUR`);
  }
  // A change applies from the next day on: today's rent stays as it was logged.
  const rent = owner.getByTestId('recurring-rule').filter({ hasText: 'Rent' });
  await rent.getByRole('button', { name: 'Change' }).click();
  await expect(form.getByLabel(/Amount/)).toHaveValue('950.00');
  await form.getByLabel(/Amount/).fill('1000');
  await form.getByRole('button', { name: 'Save the bill' }).click();
  await expect(member.getByTestId('recurring-rule').filter({ hasText: 'Rent' })).toContainText('1000.00', { timeout: 5_000 });
  await expect(owner.getByTestId('expense').filter({ hasText: 'Rent' })).toContainText('950.00');
  // Deleting the bill keeps what it logged.
  await owner.getByTestId('recurring-rule').filter({ hasText: 'Rent' }).getByRole('button', { name: 'Delete' }).click();
  await expect(member.getByTestId('recurring-rule')).toHaveCount(1, { timeout: 5_000 });
  await expect(member.getByTestId('expense').filter({ hasText: 'Rent' })).toHaveCount(1);
  await ownerContext.close();
  await memberContext.close();
});

test('an expense saved while the page was still connecting is not missed', async ({ browser }) => {
  const { ownerContext, owner, memberContext, member } = await family(browser);
  // The owner's next page load: its WebSocket reaches the server only once the member's
  // expense is saved, after the page was rendered without it.
  let release;
  const held = new Promise((resolve) => { release = resolve; });
  await owner.routeWebSocket(/\/ws$/, async (ws) => {
    const early = [];
    ws.onMessage((m) => early.push(m));
    await held;
    const server = ws.connectToServer();
    ws.onMessage((m) => server.send(m));
    for (const m of early) server.send(m);
  });
  await open(owner, '/budget');
  await expect(owner.getByTestId('budget-total')).toHaveAttribute('data-spent-minor', '0');
  const saved = member.waitForResponse((r) => r.url().endsWith('/api/expenses') && r.request().method() === 'POST');
  await addExpense(member, 'Dining out', '20', 'late lunch');
  expect((await saved).status()).toBe(201);

  release();
  await expect(owner.getByTestId('connection-status')).toHaveText('connected');
  await expect(owner.getByTestId('expense-list')).toContainText('late lunch');
  await expect(owner.getByTestId('budget-total')).toHaveAttribute('data-spent-minor', '2000');
  await ownerContext.close();
  await memberContext.close();
});

test('presence shows both members online and one offline after its page closes; chat has typing and ack ticks', async ({ browser }) => {
  const { ownerContext, owner, memberContext, member } = await family(browser);
  const presence = owner.getByTestId('presence-list');
  await expect(presence.locator('li[data-online="true"]')).toHaveCount(2);

  await member.getByTestId('chat-input').pressSequentially('Hello', { delay: 20 });
  await expect(owner.getByTestId('typing-indicator')).toHaveText('Max is typing…');
  await member.getByTestId('chat-input').press('Enter');
  await expect(owner.getByTestId('chat-log')).toContainText('Hello');
  await expect(member.getByTestId('chat-log').locator('li[data-delivered="true"]')).toContainText('Hello');
  await expect(member.getByTestId('chat-tick')).toHaveAttribute('aria-label', 'delivered');
  await expect(owner.getByTestId('typing-indicator')).toHaveText('');

  await owner.getByTestId('chat-input').fill('Hi Max');
  await owner.getByTestId('chat-input').press('Enter');
  await expect(member.getByTestId('chat-log')).toContainText('Hi Max');
  // History survives a reload, in order.
  await member.reload();
  await expect(member.getByTestId('chat-log').locator('li')).toHaveText([/Hello/, /Hi Max/]);

  await member.close();
  await expect(presence.locator('li[data-online="true"]')).toHaveCount(1, { timeout: 15_000 });
  await expect(presence.locator('li[data-online="false"]')).toContainText('Max');
  await ownerContext.close();
  await memberContext.close();
});

test('an expense entered offline survives a reload and is saved exactly once when back online', async ({ browser }) => {
  const { ownerContext, owner, memberContext, member } = await family(browser);
  await offline(memberContext, member);
  await addExpense(member, 'Groceries', '7', 'offline snack');
  const pending = member.locator('[data-testid="expense"][data-pending="true"]');
  await expect(pending).toContainText('waiting for the network');
  await expect(member.getByTestId('budget-total')).toHaveAttribute('data-spent-minor', '700');

  // Reloaded with no network at all: the page comes from the service worker and the
  // expense from IndexedDB.
  await member.reload();
  await member.waitForSelector('body[data-hydrated="true"]');
  await expect(pending).toContainText('offline snack');
  await expect(owner.getByText('offline snack')).toHaveCount(0);

  // The network returns: it goes out (from the page or by Background Sync), once, and the
  // other member sees it.
  await memberContext.setOffline(false);
  await expect(member.locator('[data-testid="expense"][data-pending="true"]')).toHaveCount(0);
  await expect(owner.getByTestId('expense-list')).toContainText('offline snack');
  await expect(owner.getByTestId('budget-total')).toHaveAttribute('data-spent-minor', '700');
  await owner.reload();
  await expect(owner.getByTestId('expense').filter({ hasText: 'offline snack' })).toHaveCount(1);
  await member.reload();
  await expect(member.getByTestId('expense').filter({ hasText: 'offline snack' })).toHaveCount(1);
  await ownerContext.close();
  await memberContext.close();
});

test('a recurring bill and an import made offline wait on the device and are saved once when back online', async ({ browser }) => {
  const { ownerContext, owner, memberContext, member } = await family(browser);
  await offline(memberContext, member);
  // A bill from today: kept, listed as waiting, the form emptied.
  const form = member.getByTestId('recurring-form');
  await form.getByLabel('What').fill('Gym');
  await form.getByLabel('Category').selectOption({ label: 'Fun' });
  await form.getByLabel(/Amount/).fill('30');
  await form.getByRole('button', { name: 'Add the bill' }).click();
  const waiting = member.getByTestId('waiting-writes');
  await expect(waiting.first()).toContainText('Add the bill “Gym” · waiting for the network');
  await expect(form.getByLabel('What')).toHaveValue('');
  // A file: the check needs Hearth, so the person may let it wait unseen.
  const today = new Date().toISOString().slice(0, 10);
  const csv = `date,category,amount,note\n${today},Groceries,4.20,offline import\n`;
  const imports = member.getByTestId('import-form');
  await imports.locator('input[type=file]').setInputFiles({ name: 'bank.csv', mimeType: 'text/csv', buffer: Buffer.from(csv) });
  await expect(imports.getByRole('alert')).toContainText('can also wait');
  await imports.getByTestId('import-later').click();
  await expect(imports.getByTestId('waiting-writes')).toContainText('The file to import · waiting for the network');

  // Reloaded with no network: both are still there, from IndexedDB.
  await member.reload();
  await member.waitForSelector('body[data-hydrated="true"]');
  await expect(member.getByTestId('waiting-writes')).toHaveCount(2);
  await expect(owner.getByTestId('recurring-rule')).toHaveCount(0);

  // Back online: each goes out once (from the page or by Background Sync).
  await memberContext.setOffline(false);
  await expect(member.getByTestId('waiting-writes')).toHaveCount(0, { timeout: 10_000 });
  await expect(owner.getByTestId('recurring-rule').filter({ hasText: 'Gym · Fun' })).toHaveCount(1, { timeout: 5_000 });
  await expect(owner.getByTestId('expense').filter({ hasText: 'offline import' })).toHaveCount(1, { timeout: 5_000 });
  await expect(owner.getByTestId('expense').filter({ hasText: 'Gym' })).toHaveCount(1, { timeout: 5_000 });
  await owner.reload();
  await expect(owner.getByTestId('recurring-rule')).toHaveCount(1);
  await expect(owner.getByTestId('expense').filter({ hasText: 'offline import' })).toHaveCount(1);
  await expect(owner.getByTestId('expense').filter({ hasText: 'Gym' })).toHaveCount(1);
  await ownerContext.close();
  await memberContext.close();
});

test('a challenge invite is accepted and its progress moves with real expenses', async ({ browser }) => {
  const { ownerContext, owner, memberContext, member } = await family(browser);
  const form = owner.getByTestId('challenge-form');
  await form.getByLabel('Challenge').selectOption('category_cap');
  await form.locator('select[name="challenge_category"]').selectOption({ label: 'Dining out' });
  await form.getByLabel(/At most/).fill('150');
  await form.getByLabel('Days').fill('7');
  await form.getByRole('button', { name: 'Invite the family' }).click();

  await expect(member.getByTestId('update-toast')).toContainText('Olga invites you: Keep Dining out under 150.00 EUR');
  const mine = owner.getByTestId('challenge').first();
  const theirs = member.getByTestId('challenge').first();
  await expect(mine.getByTestId('challenge-people')).toHaveText('1 taking part');
  await expect(mine.getByTestId('challenge-accept')).toHaveCount(0);
  await theirs.getByTestId('challenge-accept').click();
  await expect(mine.getByTestId('challenge-people')).toHaveText('2 taking part');

  await addExpense(member, 'Dining out', '40');
  await expect(mine).toHaveAttribute('data-spent-minor', '4000');
  await expect(mine.getByTestId('challenge-progress')).toHaveText('40.00 of 150.00 spent');
  await addExpense(owner, 'Dining out', '111');
  await expect(theirs).toHaveAttribute('data-status', 'lost');
  await expect(theirs).toContainText('lost');
  await ownerContext.close();
  await memberContext.close();
});

test('the live budget fits a 360 px wide phone without sideways scrolling', async ({ browser }) => {
  const context = await browser.newContext({ viewport: { width: 360, height: 740 } });
  const page = await context.newPage();
  await createFamily(page, 'Pia', 'Phones');
  await openLive(page);
  await addExpense(page, 'Groceries', '12.50', 'a rather long note about the weekly market run');
  await expect(page.getByTestId('presence-list').locator('li[data-online="true"]')).toHaveCount(1);
  const width = await page.evaluate(() => document.documentElement.scrollWidth);
  expect(width).toBeLessThanOrEqual(360);
  await page.screenshot({ path: test.info().outputPath('budget-360.png'), fullPage: true });
  await context.close();
});
