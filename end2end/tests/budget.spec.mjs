import { test, expect } from '@playwright/test';
import { open, register, uniqueEmail, line, addExpense, watchPanics, createFamily } from './helpers.mjs';

test('a newcomer registers, creates a family, adds an expense and sees the total after a reload', async ({ page }) => {
  const panics = watchPanics(page);
  await register(page, 'Ann', uniqueEmail('ann'));
  const create = page.getByTestId('create-family-form');
  await create.getByLabel('Family name').fill('The Tests');
  await create.getByLabel(/Currency/).fill('EUR');
  await create.getByLabel(/Time zone/).fill('Europe/Berlin');
  await create.getByRole('button', { name: 'Create family' }).click();
  await page.waitForURL('**/budget');
  await expect(page.getByTestId('budget-line')).toHaveCount(5);
  await expect(page.getByTestId('budget-total')).toHaveAttribute('data-spent-minor', '0');

  await addExpense(page, 'Groceries', '12.34', 'market');
  await expect(page.getByTestId('budget-total')).toHaveAttribute('data-spent-minor', '1234');
  await expect(line(page, 'Groceries')).toContainText('12.34');

  await page.reload();
  await page.waitForSelector('body[data-hydrated="true"]');
  await expect(page.getByTestId('budget-total')).toHaveAttribute('data-spent-minor', '1234');
  await expect(page.getByTestId('budget-total')).toContainText('12.34 EUR');

  // The categories and expenses come in the server's HTML, and after hydration (which takes
  // them over a task later) there is one live copy of each, not two.
  const html = await (await page.request.get('/budget')).text();
  expect(html).toContain('data-testid="expense-list"');
  expect(html.match(/data-testid="budget-line"/g)).toHaveLength(5);
  await expect(page.getByTestId('expense-list')).toHaveCount(1);
  await expect(page.getByTestId('budget-line')).toHaveCount(5);
  await expect(page.getByTestId('expense')).toHaveCount(1);
  // And they answer at once: a limit set right after the reload is saved.
  const groceries = line(page, 'Groceries');
  await groceries.getByRole('button', { name: 'Set limit' }).click();
  await groceries.getByLabel('Monthly limit').fill('50');
  await groceries.getByRole('button', { name: 'Save' }).click();
  await expect(groceries).toContainText('12.34 of 50.00 EUR');

  // Another month and back, on the page as loaded (the old month stays on screen while the
  // next one loads): the figures follow, nothing on the page breaks.
  const month = page.getByTestId('month');
  const thisMonth = await month.textContent();
  // What is typed into the form survives the page's data being loaded again.
  const amount = page.getByTestId('expense-form').getByLabel(/Amount/);
  await amount.fill('5.55');
  await page.getByRole('link', { name: 'Previous month' }).click();
  await expect(month).not.toHaveText(thisMonth);
  await expect(page.getByTestId('budget-total')).toHaveAttribute('data-spent-minor', '0');
  await expect(page.getByText('No expenses this month yet.')).toBeVisible();
  await page.getByRole('link', { name: 'Next month' }).click();
  await expect(month).toHaveText(thisMonth);
  await expect(page.getByTestId('budget-total')).toHaveAttribute('data-spent-minor', '1234');
  await expect(page.getByTestId('expense')).toHaveCount(1);
  await expect(amount).toHaveValue('5.55');
  expect(panics).toEqual([]);
});

test('an owner sets a limit, a second member joins with the invite code and shares the budget', async ({ browser }) => {
  const ownerContext = await browser.newContext();
  const owner = await ownerContext.newPage();
  await register(owner, 'Olga', uniqueEmail('olga'));
  const create = owner.getByTestId('create-family-form');
  await create.getByLabel('Family name').fill('Sharers');
  await create.getByRole('button', { name: 'Create family' }).click();
  await owner.waitForURL('**/budget');

  // A limit of 100.00 on Dining out, then 85.00 spent: 85 % shows the warning.
  const dining = line(owner, 'Dining out');
  await dining.getByRole('button', { name: 'Set limit' }).click();
  await dining.getByLabel('Monthly limit').fill('100');
  await dining.getByRole('button', { name: 'Save' }).click();
  await expect(dining).toContainText('0.00 of 100.00 EUR');
  await addExpense(owner, 'Dining out', '85');
  await expect(line(owner, 'Dining out')).toHaveAttribute('data-alert', 'warning');
  await expect(owner.getByTestId('alert-banner')).toContainText('Dining out has used 85%');

  await open(owner, '/family');
  const code = (await owner.getByTestId('invite-code').textContent()).trim();
  expect(code).toMatch(/^[A-Z0-9]{10}$/);

  const memberContext = await browser.newContext();
  const member = await memberContext.newPage();
  await register(member, 'Max', uniqueEmail('max'));
  const join = member.getByTestId('join-family-form');
  await join.getByLabel('Invite code').fill(code);
  await join.getByRole('button', { name: 'Join' }).click();
  await member.waitForURL('**/budget');
  await expect(line(member, 'Dining out')).toContainText('85.00 of 100.00 EUR');

  // The member's expense is in the owner's budget on the next load.
  await addExpense(member, 'Dining out', '20');
  await expect(line(member, 'Dining out')).toHaveAttribute('data-alert', 'exceeded');
  await open(owner, '/budget');
  await expect(line(owner, 'Dining out')).toHaveAttribute('data-alert', 'exceeded');
  await expect(owner.getByTestId('budget-total')).toHaveAttribute('data-spent-minor', '10500');
  await ownerContext.close();
  await memberContext.close();
});

test('a category in use is deleted by choosing where its expenses go', async ({ page }) => {
  const panics = watchPanics(page);
  await createFamily(page, 'Dana', 'The Movers');
  await expect(page.getByTestId('budget-line')).toHaveCount(5);
  await addExpense(page, 'Groceries', '7.50', 'bread');
  await expect(line(page, 'Groceries')).toContainText('7.50');
  // Saved on the server (not only shown at once), so the server knows Groceries is in use.
  await expect(page.locator('[data-testid="expense"][data-pending="true"]')).toHaveCount(0);

  // Nothing names "Transport": it goes at once, after one question.
  const transport = line(page, 'Transport');
  await transport.getByRole('button', { name: 'Delete category' }).click();
  await transport.getByTestId('delete-category').getByRole('button', { name: 'Delete' }).click();
  await expect(page.getByTestId('budget-line')).toHaveCount(4);

  // "Groceries" holds an expense: the server says so and the person picks where it goes.
  const groceries = line(page, 'Groceries');
  await groceries.getByRole('button', { name: 'Delete category' }).click();
  await groceries.getByTestId('delete-category').getByRole('button', { name: 'Delete' }).click();
  const moving = groceries.getByTestId('move-category-form');
  await expect(moving).toContainText('1 expense uses this category');
  await moving.getByLabel('Move them to').selectOption({ label: 'Housing' });
  await moving.getByRole('button', { name: 'Move and delete' }).click();
  await expect(page.getByTestId('budget-line')).toHaveCount(3);
  await expect(line(page, 'Housing')).toContainText('7.50');
  await expect(page.getByTestId('expense')).toContainText('Housing');
  expect(panics).toEqual([]);
});

test('setting up a family offers the browser\'s time zone and searchable lists of zones and currencies', async ({ browser }) => {
  const context = await browser.newContext({ timezoneId: 'Asia/Tokyo' });
  const page = await context.newPage();
  await register(page, 'Yui', uniqueEmail('yui'));
  const create = page.getByTestId('create-family-form');
  // The browser's own zone is filled in; both fields search the browser's lists.
  await expect(create.getByLabel(/Time zone/)).toHaveValue('Asia/Tokyo');
  await expect(page.locator('#timezone-list option[value="Europe/Berlin"]')).toHaveCount(1);
  await expect(page.locator('#timezone-list option[value="UTC"]')).toHaveCount(1);
  await expect(create.getByLabel(/Time zone/)).toHaveAttribute('list', 'timezone-list');
  await expect(page.locator('#currency-list option[value="JPY"]')).toHaveText('Japanese Yen');
  await expect(create.getByLabel(/Currency/)).toHaveAttribute('list', 'currency-list');
  expect(await page.locator('#currency-list option').count()).toBeGreaterThan(100);
  // A yen budget in Tokyo: no decimals.
  await create.getByLabel('Family name').fill('Tokyo home');
  await create.getByLabel(/Currency/).fill('JPY');
  await create.getByRole('button', { name: 'Create family' }).click();
  await page.waitForURL('**/budget');
  await page.waitForSelector('body[data-hydrated="true"]');
  await expect(page.getByTestId('budget-total')).toContainText('0 JPY');
  await context.close();
});

test('the month and the year download as CSV from the budget page', async ({ page }) => {
  await createFamily(page, 'Cara', 'Spreadsheets');
  await addExpense(page, 'Groceries', '12.50', 'bread, milk');
  const link = page.getByTestId('export-link');
  await expect(link).toHaveAttribute('href', /^\/api\/export\.csv\?from=\d{4}-\d{2}-01&to=\d{4}-\d{2}-\d{2}$/);
  const [download] = await Promise.all([page.waitForEvent('download'), link.click()]);
  expect(download.suggestedFilename()).toMatch(/^hearth-\d{4}-\d{2}-01-to-\d{4}-\d{2}-\d{2}\.csv$/);
  const text = (await (await import('node:fs/promises')).readFile(await download.path(), 'utf8'));
  const [header, row] = text.trim().split('\n');
  expect(header).toBe('date,category,amount,currency,note,member');
  expect(row).toMatch(/^\d{4}-\d{2}-\d{2},Groceries,12\.50,EUR,"bread, milk",Cara$/);
  const [year] = await Promise.all([page.waitForEvent('download'), page.getByTestId('export-year-link').click()]);
  expect(year.suggestedFilename()).toMatch(/^hearth-\d{4}-01-01-to-\d{4}-12-31\.csv$/);
});

test('searching the notes of every month finds expenses outside the month shown', async ({ page }) => {
  await createFamily(page, 'Sol', 'Searchers');
  // One expense last month (dated), one this month.
  const form = page.getByTestId('expense-form');
  const lastMonth = new Date();
  lastMonth.setDate(1);
  lastMonth.setMonth(lastMonth.getMonth() - 1);
  const day = lastMonth.toISOString().slice(0, 10);
  await form.getByLabel('Date').fill(day);
  await addExpense(page, 'Groceries', '4.20', 'Farmers market');
  await form.getByLabel('Date').fill(new Date().toISOString().slice(0, 10));
  await addExpense(page, 'Fun', '9', 'cinema');
  const search = page.getByTestId('search-input');
  await search.fill('MARKET');
  const results = page.getByTestId('search-result');
  await expect(results).toHaveCount(1);
  await expect(results.first()).toContainText(`${day} · Groceries · Farmers market`);
  await expect(results.first()).toContainText('4.20');
  await expect(page.getByTestId('expense-list')).toHaveCount(0);
  await search.fill('nothing like this');
  await expect(page.getByText('No expense in any month matches “nothing like this”.')).toBeVisible();
  await search.fill('');
  await expect(page.getByTestId('expense-list')).toContainText('cinema');
});

test('a CSV file is previewed line by line, its unknown category mapped, then imported once', async ({ page }) => {
  await createFamily(page, 'Ines', 'Importers');
  const today = new Date().toISOString().slice(0, 10);
  const csv = `date,category,amount,note\n${today},Groceries,12.50,bread\n${today},Lebensmittel,7.50,"cheese, aged"\n`;
  const file = { name: 'bank.csv', mimeType: 'text/csv', buffer: Buffer.from(csv) };
  const form = page.getByTestId('import-form');
  await form.locator('input[type=file]').setInputFiles(file);
  // The dry run: the unknown category refuses the file until it is mapped.
  await expect(page.getByTestId('import-refused')).toContainText('line 3: there is no category "Lebensmittel"');
  await expect(page.getByTestId('import-row')).toHaveCount(2);
  await form.getByLabel(/Put “Lebensmittel” in/).selectOption({ label: 'Groceries' });
  await expect(page.getByTestId('import-refused')).toHaveCount(0);
  await expect(page.getByTestId('import-row').filter({ hasText: 'new' })).toHaveCount(2);
  await form.getByRole('button', { name: 'Import 2 expenses' }).click();
  await expect(page.getByTestId('import-done')).toHaveText('Imported 2 expenses.');
  await expect(line(page, 'Groceries')).toContainText('20.00');
  await expect(page.getByTestId('expense').filter({ hasText: 'cheese, aged' })).toHaveCount(1);
  // The same file again: every line is already here, and nothing is imported unless asked.
  await form.locator('input[type=file]').setInputFiles(file);
  await form.getByLabel(/Put “Lebensmittel” in/).selectOption({ label: 'Groceries' });
  await expect(page.getByTestId('import-row').filter({ hasText: 'already here' })).toHaveCount(2);
  await expect(form.getByRole('button', { name: 'Import 0 expenses' })).toBeDisabled();
  await form.getByLabel('Import the lines already here too').check();
  await expect(form.getByRole('button', { name: 'Import 2 expenses' })).toBeEnabled();
});

test('the search finds expenses by category and amount range in every month, with or without text', async ({ page }) => {
  await createFamily(page, 'Fil', 'Filterers');
  const form = page.getByTestId('expense-form');
  const lastMonth = new Date();
  lastMonth.setDate(1);
  lastMonth.setMonth(lastMonth.getMonth() - 1);
  await form.getByLabel('Date').fill(lastMonth.toISOString().slice(0, 10));
  await addExpense(page, 'Groceries', '4.20', 'market');
  await form.getByLabel('Date').fill(new Date().toISOString().slice(0, 10));
  await addExpense(page, 'Fun', '9', 'cinema');
  await addExpense(page, 'Groceries', '30', 'big shop');
  await page.getByTestId('search-category').selectOption({ label: 'Groceries' });
  const results = page.getByTestId('search-result');
  await expect(results).toHaveCount(2);
  await expect(page.getByRole('heading', { name: 'Found in every month' })).toBeVisible();
  await page.getByTestId('search-min').fill('10');
  await expect(results).toHaveCount(1);
  await expect(results.first()).toContainText('big shop');
  await page.getByTestId('search-max').fill('20');
  await expect(page.getByText('No expense in any month matches these filters.')).toBeVisible();
  await page.getByTestId('search-max').fill('');
  await page.getByTestId('search-min').fill('');
  await page.getByTestId('search-input').fill('market');
  await expect(results).toHaveCount(1);
  await expect(results.first()).toContainText('4.20');
  await page.getByTestId('search-min').fill('abc');
  await expect(page.getByRole('alert').filter({ hasText: 'from:' })).toBeVisible();
  await page.getByTestId('search-min').fill('');
  await expect(page.getByRole('alert').filter({ hasText: 'from:' })).toHaveCount(0);
  await page.getByTestId('search-input').fill('');
  await page.getByTestId('search-category').selectOption({ label: 'Any' });
  await expect(results).toHaveCount(0);
  await expect(page.getByTestId('expense-list')).toContainText('cinema');
});

test('what is typed into the form before the page takes it over is kept, and the caret with it', async ({ browser }) => {
  // The form (like the header and the sections) takes over from the server's copy a task
  // after hydration; the page's WebAssembly is held back here, so the typing certainly
  // happens in the server's copy. (No service worker: it would answer the WASM itself.)
  const context = await browser.newContext({ serviceWorkers: 'block' });
  const page = await context.newPage();
  const panics = watchPanics(page);
  await createFamily(page, 'Tia', 'Early typists');
  let release;
  const held = new Promise((resolve) => { release = resolve; });
  await page.route(/\/pkg\/hearth\.[^/]+\.wasm$/, async (route) => {
    await held;
    await route.continue();
  });
  await page.goto('/budget');
  const form = page.getByTestId('expense-form');
  await form.getByLabel('Category').selectOption({ label: 'Transport' });
  await form.getByLabel('Note').fill('early bird');
  await form.getByLabel(/Amount/).fill('7.5');
  await form.getByLabel(/Amount/).press('ArrowLeft');
  expect(await page.evaluate(() => document.body.dataset.hydrated)).toBeUndefined();
  release();
  await page.waitForSelector('body[data-hydrated="true"]');
  await expect(form.getByLabel('Note')).toHaveValue('early bird');
  await expect(form.getByLabel(/Amount/)).toHaveValue('7.5');
  await expect(form.getByLabel('Category')).toHaveValue(/.+/);
  await expect(form.getByLabel(/Amount/)).toBeFocused();
  expect(await form.getByLabel(/Amount/).evaluate((input) => input.selectionStart)).toBe(2);
  // The live form holds it all: typing goes on where the caret was, and the expense is added.
  await page.keyboard.type('0');
  await expect(form.getByLabel(/Amount/)).toHaveValue('7.05');
  await form.getByRole('button', { name: 'Add expense' }).click();
  await expect(page.getByTestId('budget-total')).toHaveAttribute('data-spent-minor', '705');
  await expect(line(page, 'Transport')).toContainText('7.05');
  await expect(page.getByTestId('expense')).toContainText('early bird');
  expect(panics).toEqual([]);
  await context.close();
});
