import { expect } from '@playwright/test';

/** Goes to `path` and waits until the WASM has hydrated the page (clicks before are lost). */
export async function open(page, path) {
  await page.goto(path);
  await page.waitForSelector('body[data-hydrated="true"]');
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
