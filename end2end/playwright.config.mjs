// Browser tests against a running Hearth (HEARTH_URL, started by ./test.sh), in Debian's
// Chromium; Playwright never downloads a browser here.
import { defineConfig } from '@playwright/test';

export default defineConfig({
  testDir: './tests',
  timeout: 60_000,
  expect: { timeout: 10_000 },
  workers: 1,
  reporter: 'list',
  globalSetup: './global-setup.mjs',
  use: {
    baseURL: process.env.HEARTH_URL ?? 'http://127.0.0.1:3000',
    headless: true,
    launchOptions: {
      executablePath: process.env.CHROMIUM ?? '/usr/bin/chromium',
      args: [
        '--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
        '--disable-background-networking', '--disable-component-update', '--disable-sync',
      ],
    },
  },
});
