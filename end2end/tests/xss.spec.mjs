// Markup typed into every free-text field (a person's name, the family's name, a category, an
// expense's note, a chat message, a recurring bill, a challenge's category, an imported file's
// lines) is shown as text everywhere it appears (the lists, the six-month bars, the import's
// preview): in the server's HTML, after hydration and when it arrives live on another
// member's page. No element is injected, no script runs, no dialog opens.
import { test, expect } from '@playwright/test';
import {
  addExpense, inviteCode, line, open, openLive, register, uniqueEmail,
} from './helpers.mjs';

const IMG = '<img src=x onerror=window.__xss=1>';
const SCRIPT = '</script><script>window.__xss=1</script>';

/** Nothing was injected into `page` and nothing ran. */
async function clean(page, where) {
  expect(await page.evaluate(() => window.__xss), `${where}: a script ran`).toBeUndefined();
  expect(await page.locator('img[src="x"]').count(), `${where}: an element was injected`).toBe(0);
  // (The page's serialized data holds the payloads too, as JSON strings with `<` escaped; an
  // injected element would be a script of its own.)
  expect(await page.locator('script').evaluateAll(
    (scripts) => scripts.filter((s) => s.textContent.trim() === 'window.__xss=1').length), `${where}: a script element`).toBe(0);
}

test('markup in every free-text field is shown as text, server-rendered and live', async ({ browser }) => {
  const dialogs = [];
  const ownerContext = await browser.newContext();
  const owner = await ownerContext.newPage();
  owner.on('dialog', (d) => { dialogs.push(d.message()); d.dismiss(); });
  await register(owner, IMG, uniqueEmail('xss-owner'));
  const create = owner.getByTestId('create-family-form');
  await create.getByLabel('Family name').fill(SCRIPT);
  await create.getByLabel(/Currency/).fill('EUR');
  await create.getByRole('button', { name: 'Create family' }).click();
  await owner.waitForURL('**/budget');
  await owner.waitForSelector('body[data-hydrated="true"]');
  // A category and an expense note with markup.
  const form = owner.getByTestId('category-form');
  await form.locator('input[name="category"]').fill(IMG.slice(0, 40));
  await form.getByRole('button', { name: 'Add' }).click();
  await expect(line(owner, IMG.slice(0, 40))).toHaveCount(1);
  await addExpense(owner, 'Groceries', '1', SCRIPT);
  // Spending in the markup category puts it in the six-month bars (and their `data-trends`).
  await addExpense(owner, IMG.slice(0, 40), '3', IMG);
  // A recurring bill and a challenge named by markup.
  const bill = owner.getByTestId('recurring-form');
  await bill.getByLabel('What').fill(SCRIPT);
  await bill.getByLabel('Category').selectOption({ label: IMG.slice(0, 40) });
  await bill.getByLabel(/Amount/).fill('4');
  await bill.getByRole('button', { name: 'Add the bill' }).click();
  await expect(owner.getByTestId('recurring-rule')).toContainText(SCRIPT);
  const challenge = owner.getByTestId('challenge-form');
  await challenge.getByLabel('Challenge').selectOption('category_cap');
  await challenge.locator('select[name="challenge_category"]').selectOption({ label: IMG.slice(0, 40) });
  await challenge.getByLabel(/At most/).fill('150');
  await challenge.getByLabel('Days').fill('7');
  await challenge.getByRole('button', { name: 'Invite the family' }).click();
  await expect(owner.getByTestId('challenge').first()).toContainText(IMG.slice(0, 40));
  // A CSV file whose note and unknown category are markup, in the import's preview.
  const today = new Date().toISOString().slice(0, 10);
  const csv = `date,category,amount,note\n${today},"${IMG}",1.00,"${SCRIPT}"\n`;
  await owner.getByTestId('import-form').locator('input[type=file]')
    .setInputFiles({ name: 'x.csv', mimeType: 'text/csv', buffer: Buffer.from(csv) });
  await expect(owner.getByTestId('import-row')).toContainText(SCRIPT);
  await expect(owner.getByTestId('trend-chart').locator('.trend-row').filter({ hasText: IMG.slice(0, 40) })).toHaveCount(1);
  await clean(owner, 'the owner, after their own changes');

  // A member whose name is markup joins, chats and spends: the owner sees it live.
  const code = await inviteCode(owner);
  await openLive(owner);
  const memberContext = await browser.newContext();
  const member = await memberContext.newPage();
  member.on('dialog', (d) => { dialogs.push(d.message()); d.dismiss(); });
  await register(member, SCRIPT, uniqueEmail('xss-member'));
  const join = member.getByTestId('join-family-form');
  await join.getByLabel('Invite code').fill(code);
  await join.getByRole('button', { name: 'Join' }).click();
  await member.waitForURL('**/budget');
  await openLive(member);
  await addExpense(member, 'Groceries', '2', IMG);
  await member.getByTestId('chat-input').fill(IMG + SCRIPT);
  await member.getByTestId('chat-input').press('Enter');
  await expect(owner.getByTestId('chat-log')).toContainText(IMG + SCRIPT);
  await expect(owner.getByTestId('expense-list')).toContainText(IMG);
  await expect(owner.getByTestId('expense-list')).toContainText(SCRIPT);
  await clean(owner, 'the owner, live');

  // The server's HTML of every page, then hydrated.
  for (const path of ['/budget', '/family', '/']) {
    await open(owner, path);
    await clean(owner, `the owner's ${path}`);
    await open(member, path);
    await clean(member, `the member's ${path}`);
  }
  await open(owner, '/budget');
  await expect(owner.locator('body')).toContainText(IMG);
  expect(dialogs).toEqual([]);
  await ownerContext.close();
  await memberContext.close();
});
