import { expect } from '@playwright/test';

/** Goes to `path` and waits until the WASM has hydrated the page (clicks before are lost). */
export async function open(page, path) {
  await page.goto(path);
  await page.waitForSelector('body[data-hydrated="true"]');
}

/** Collects the WebAssembly's panics (and uncaught errors) on `page`, to assert there are none. */
export function watchPanics(page) {
  const seen = [];
  page.on('console', (m) => {
    if (m.type() === 'error' && m.text().includes('panicked')) seen.push(m.text().split('\n')[0]);
  });
  page.on('pageerror', (e) => seen.push(String(e).split('\n')[0]));
  return seen;
}

export function uniqueEmail(prefix) {
  return `${prefix}-${Date.now()}-${Math.floor(Math.random() * 1e6)}@example.org`;
}

export async function register(page, name, email) {
  await open(page, '/register');
  const form = page.getByTestId('register-form');
  await form.getByLabel('Your name').fill(name);
  await form.getByLabel('Email').fill(email);
  await form.getByLabel(/Password/).fill('correct horse battery');
  await form.getByRole('button', { name: 'Create account' }).click();
  await page.waitForURL('**/family');
}

export function line(page, category) {
  return page.locator(`[data-testid="budget-line"][data-category="${category}"]`);
}

export async function addExpense(page, category, amount, note = '') {
  const form = page.getByTestId('expense-form');
  await form.getByLabel('Category').selectOption({ label: category });
  await form.getByLabel(/Amount/).fill(amount);
  await form.getByLabel('Note').fill(note);
  await form.getByRole('button', { name: 'Add expense' }).click();
  await expect(form.getByLabel(/Amount/)).toHaveValue('');
}

/** Registers `name` and creates a family; the page ends on /budget. */
export async function createFamily(page, name, familyName) {
  await register(page, name, uniqueEmail(name.toLowerCase()));
  const create = page.getByTestId('create-family-form');
  await create.getByLabel('Family name').fill(familyName);
  await create.getByLabel(/Currency/).fill('EUR');
  await create.getByRole('button', { name: 'Create family' }).click();
  await page.waitForURL('**/budget');
}

/** The owner's invite code, read from /family (the owner's page ends there). */
export async function inviteCode(page) {
  await open(page, '/family');
  return (await page.getByTestId('invite-code').textContent()).trim();
}

/** Registers `name` and joins with `code`; the page ends on /budget. */
export async function joinFamily(page, name, code) {
  await register(page, name, uniqueEmail(name.toLowerCase()));
  const join = page.getByTestId('join-family-form');
  await join.getByLabel('Invite code').fill(code);
  await join.getByRole('button', { name: 'Join' }).click();
  await page.waitForURL('**/budget');
}

/** Opens /budget and waits until its WebSocket is connected. */
export async function openLive(page) {
  await open(page, '/budget');
  await expect(page.getByTestId('connection-status')).toHaveText('connected');
}

export async function setLimit(page, category, amount) {
  const row = line(page, category);
  await row.getByRole('button', { name: /Set limit|Change limit/ }).click();
  await row.getByLabel('Monthly limit').fill(amount);
  await row.getByRole('button', { name: 'Save' }).click();
}

/** Waits until the service worker is active and controls the page (one reload at most). */
export async function controlled(page) {
  await page.evaluate(() => navigator.serviceWorker.ready);
  if (!(await page.evaluate(() => !!navigator.serviceWorker.controller))) {
    await page.reload();
    await page.waitForSelector('body[data-hydrated="true"]');
  }
  expect(await page.evaluate(() => !!navigator.serviceWorker.controller)).toBe(true);
}
