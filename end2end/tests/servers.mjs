// Servers a browser test runs for itself: a Hearth of its own (the release binary,
// HEARTH_BIN) and, when the test stops Redis, a `redis-server` of its own.
import { spawn } from 'node:child_process';
import { closeSync, mkdtempSync, openSync, readFileSync } from 'node:fs';
import { createServer, connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';

const root = resolve(process.cwd(), '..');

// The servers started for the current test, so that a failed test can show their logs.
const started = [];

/**
 * Registers a hook in the calling spec file: when a test fails, the last lines of the log of
 * every Hearth it started are printed (Playwright shows them with the failure).
 */
export function showServerLogsOnFailure(test) {
  test.afterEach(async ({}, info) => {
    const servers = started.splice(0);
    if (info.status === info.expectedStatus) return;
    for (const { url, log } of servers) {
      const lines = readFileSync(log, 'utf8').replace(/\x1b\[[0-9;]*m/g, '').trimEnd().split('\n');
      console.log(`--- log of the Hearth at ${url} (last 30 lines) ---\n${lines.slice(-30).join('\n')}`);
    }
  });
}

/** The binary the tests run: HEARTH_BIN, or the release build. */
export function releaseBinary() {
  return process.env.HEARTH_BIN ?? join(root, 'target/release/hearth');
}

export function freePort() {
  return new Promise((done) => {
    const s = createServer().listen(0, '127.0.0.1', () => {
      const { port } = s.address();
      s.close(() => done(port));
    });
  });
}

async function until(what, ok) {
  const deadline = Date.now() + 30_000;
  while (Date.now() < deadline) {
    try {
      if (await ok()) return;
    } catch {}
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`${what} did not start`);
}

function stopChild(child) {
  if (!child || child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  const exited = new Promise((r) => child.once('exit', r));
  child.kill('SIGTERM');
  return exited;
}

/**
 * A Hearth on a free port with its own SQLite file; `env` adds variables (REDIS_URL…), and
 * an `undefined` value removes one. `bin` and `cwd` choose the binary and where it runs (by
 * default HEARTH_BIN or the release build, from the repository's root).
 */
export async function hearth(env = {}, { bin, cwd } = {}) {
  const port = await freePort();
  const dir = mkdtempSync(join(tmpdir(), 'hearth-e2e-'));
  const url = `http://127.0.0.1:${port}`;
  const vars = {
    ...process.env,
    DATABASE_URL: `sqlite://${dir}/hearth.db`,
    LEPTOS_SITE_ADDR: `127.0.0.1:${port}`,
    ...env,
  };
  for (const key of Object.keys(vars)) if (vars[key] === undefined) delete vars[key];
  const log = join(dir, 'server.log');
  let child;
  const server = {
    url,
    async start() {
      const out = openSync(log, 'a');
      child = spawn(bin ?? releaseBinary(), [], {
        cwd: cwd ?? root, env: vars, stdio: ['ignore', out, out],
      });
      closeSync(out);
      await until(`Hearth at ${url}`, async () => (await fetch(`${url}/healthz`)).ok);
    },
    stop: () => stopChild(child),
  };
  started.push({ url, log });
  await server.start();
  return server;
}

/** A `redis-server` of the test's own on a free port (never the machine's shared one). */
export async function ownRedis() {
  const port = await freePort();
  let child;
  const redis = {
    url: `redis://127.0.0.1:${port}`,
    async start() {
      child = spawn('redis-server', ['--port', String(port), '--bind', '127.0.0.1',
        '--save', '', '--appendonly', 'no'], { stdio: 'ignore' });
      await until(`redis-server on ${port}`, () => new Promise((ok) => {
        const s = connect(port, '127.0.0.1', () => { s.end(); ok(true); });
        s.on('error', () => ok(false));
      }));
    },
    stop: () => stopChild(child),
  };
  await redis.start();
  return redis;
}
