// The processes the browser e2e files start (`demo-relay serve`, the fakes), shared by them: every one
// started here is stopped at the end, failure or not; plus polling helpers.

import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { createWriteStream } from 'node:fs';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const REPO = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
export const SERVICE_BIN = process.env.DEMO_RELAY_BIN ?? path.join(REPO, '.venv', 'bin', 'demo-relay');

/** @type {Set<import('node:child_process').ChildProcess>} */
export const children = new Set();

export function startProcess(args, env, logFile) {
  const log = createWriteStream(logFile);
  const child = spawn(SERVICE_BIN, args, { env, stdio: ['ignore', 'pipe', 'pipe'] });
  children.add(child);
  child.once('exit', () => children.delete(child));
  child.stdout?.pipe(log);
  child.stderr?.pipe(log);
  return child;
}

export async function stopProcess(child) {
  if (child === undefined || child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise((resolve) => child.once('exit', resolve));
  child.kill('SIGTERM');
  let timer;
  const grace = new Promise((resolve) => {
    timer = setTimeout(() => resolve(false), 20_000); // cleared below: a pending timer would hold the run 20 s
  });
  const stopped = await Promise.race([exited.then(() => true), grace]);
  clearTimeout(timer);
  if (!stopped) {
    child.kill('SIGKILL');
    await exited;
  }
}

// Last resort when the runner ends this file abruptly (a timeout, an uncaught error): no orphans.
process.once('exit', () => {
  for (const child of children) child.kill('SIGKILL');
});

export async function freePort() {
  return new Promise((resolve, reject) => {
    const probe = createServer();
    probe.once('error', reject);
    probe.listen(0, '127.0.0.1', () => {
      const address = probe.address();
      probe.close(() => {
        resolve(typeof address === 'object' && address !== null ? address.port : 0);
      });
    });
  });
}

export const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

/** Polls `read` until `accept(value)`; fails with the last value seen. */
export async function until(what, read, accept, timeoutMs = 15_000, everyMs = 100) {
  const deadline = Date.now() + timeoutMs;
  let last;
  for (;;) {
    try {
      last = await read();
      if (accept(last)) return last;
    } catch (error) {
      last = error;
    }
    if (Date.now() > deadline) {
      assert.fail(`timed out waiting for ${what}; last seen: ${JSON.stringify(last)}`);
    }
    await sleep(everyMs);
  }
}

/** Waits for `url` to answer 200 while `child` runs; the log in the error otherwise. */
export async function waitReady(what, child, url, logFile) {
  await until(
    what,
    async () => {
      if (child.exitCode !== null) throw new Error(`${what}: exited with ${String(child.exitCode)}`);
      return (await fetch(url)).status;
    },
    (status) => status === 200,
    60_000,
    200,
  ).catch(async (error) => {
    const output = await readFile(logFile, 'utf8').catch(() => '');
    throw new Error(`${String(error)}\n--- ${path.basename(logFile)} ---\n${output}`);
  });
}


/**
 * The environment a test's own `demo-relay` processes start from: this process's, without any setting
 * that would point the service somewhere else (a database, Supabase, Tavus, origins): each test sets its own.
 */
export function serviceEnv() {
  const env = { ...process.env };
  const prefixes = ['SUPABASE_', 'NOTIFIER', 'STORAGE', 'TAVUS_'];
  for (const key of Object.keys(env)) {
    if (prefixes.some((prefix) => key.startsWith(prefix))) delete env[key];
  }
  for (const key of ['DATABASE_URL', 'REALTIME_PRIVATE', 'PUBLIC_BASE_URL', 'ALLOWED_ORIGINS', 'HOST']) delete env[key];
  return env;
}

/**
 * A scratch folder for one stack's processes and logs, and `stop()`, which stops what was pushed onto
 * `started` (the last started first: serve talks to the fakes while it shuts down) and removes the folder.
 */
export async function scratchStack(prefix) {
  const dataDir = await mkdtemp(path.join(tmpdir(), prefix));
  const started = [];
  const stop = async () => {
    for (const child of started.reverse()) await stopProcess(child);
    await rm(dataDir, { recursive: true, force: true }).catch(() => undefined);
  };
  return { dataDir, started, stop };
}

/**
 * `demo-relay serve` of a scratch stack on a free port, its settings over `env` (DATA_DIR and an absent
 * config file in the stack's folder); resolves to its base URL once /readyz answers 200.
 */
export async function startServe({ dataDir, started }, env, settings) {
  const port = await freePort();
  const base = `http://127.0.0.1:${port}`;
  const log = path.join(dataDir, 'serve.log');
  const serve = startProcess(
    ['serve'],
    { ...env, PORT: String(port), DATA_DIR: path.join(dataDir, 'data'), DEMO_RELAY_CONFIG: path.join(dataDir, 'absent.toml'), ...settings },
    log,
  );
  started.push(serve);
  await waitReady('serve /readyz', serve, `${base}/readyz`, log);
  return base;
}
