// Browser e2e: the built page against the real service (`demo-relay serve`) in Debian's Chromium.
//
// Proves, in a real browser, the issue "DemoConfigurationPage: the video appears, muted, in
// Picture-in-Picture, and the conversation moves to a corner": a signed play_video webhook makes the page
// play the broadcast URL muted, enter PiP or (refused without a user gesture, DESIGN §10) offer "Pop out",
// and move the conversation to the bottom-right corner; session_ended / the video's end / the close button
// restore the layout. Also: clicking "Pop out" (a real gesture) is coherent whatever Chromium decides, the
// layout holds at 375 px wide, and the console stays free of errors and warnings.
//
// Everything that could decide PiP is read through a DevTools-protocol session (Runtime.evaluate,
// Page.captureScreenshot): Playwright's evaluate, waitFor* and screenshot run with a user gesture, which
// would let PiP succeed only because of the test.
//
// Needs: the built page (npm run build → frontend/dist, or FRONTEND_DIST), the service's virtualenv
// (<repo>/.venv/bin/demo-relay, or DEMO_RELAY_BIN) and Chromium at /usr/bin/chromium (or CHROMIUM_BIN).

import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { createHmac, randomUUID } from 'node:crypto';
import { createWriteStream, existsSync } from 'node:fs';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { fileURLToPath } from 'node:url';

import { chromium } from 'playwright-core';

const FRONTEND = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const REPO = path.resolve(FRONTEND, '..');
const FIXTURES = path.resolve(REPO, '..', 'shared', 'fixtures', 'tavus');
// Every run takes the screenshots (a failure to render shows there); only `make screenshots`
// (SCREENSHOTS_DIR=e2e/__screenshots__) replaces the committed ones, so `make test` leaves the tree clean.
const SCREENSHOTS = path.resolve(FRONTEND, process.env.SCREENSHOTS_DIR ?? path.join('e2e', '.screenshots'));
const DIST = path.resolve(process.env.FRONTEND_DIST ?? path.join(FRONTEND, 'dist'));
const SERVICE_BIN = process.env.DEMO_RELAY_BIN ?? path.join(REPO, '.venv', 'bin', 'demo-relay');
const CHROMIUM = process.env.CHROMIUM_BIN ?? '/usr/bin/chromium';
const SECRET = `e2e-${randomUUID()}`;
// The conversation of the shutdown fixture, so its system.shutdown ends this page's session.
const FIXTURE_CONVERSATION = 'c7f3a1b2e9d0';
const CORNER_SLACK_PX = 24;
const MAX_CORNER_SHARE = 0.35;

/** @type {import('node:child_process').ChildProcess | undefined} */
let service;
/** @type {import('playwright-core').Browser | undefined} */
let browser;
let dataDir = '';
let base = '';
let demoId = '';

// ---------- the service ----------

async function freePort() {
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

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

/** Polls `read` until `accept(value)`; fails with the last value seen. */
async function until(what, read, accept, timeoutMs = 15_000, everyMs = 100) {
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

async function startService() {
  dataDir = await mkdtemp(path.join(tmpdir(), 'demo-relay-page-e2e-'));
  const port = await freePort();
  base = `http://127.0.0.1:${port}`;
  const env = { ...process.env };
  // The service's own settings come from this test alone (no outside database, Supabase or origins).
  for (const key of ['DATABASE_URL', 'NOTIFIER', 'NOTIFIER_SESSIONS', 'STORAGE', 'SUPABASE_URL', 'PUBLIC_BASE_URL', 'ALLOWED_ORIGINS', 'HOST']) {
    delete env[key];
  }
  Object.assign(env, {
    PORT: String(port),
    DATA_DIR: path.join(dataDir, 'data'),
    TAVUS_WEBHOOK_SECRET: SECRET,
    FRONTEND_DIST: DIST,
    DEMO_RELAY_CONFIG: path.join(dataDir, 'absent.toml'),
  });
  const log = createWriteStream(path.join(dataDir, 'serve.log'));
  service = spawn(SERVICE_BIN, ['serve'], { env, stdio: ['ignore', 'pipe', 'pipe'] });
  service.stdout?.pipe(log);
  service.stderr?.pipe(log);
  const exited = new Promise((resolve) => service?.once('exit', resolve));
  await until(
    '/readyz',
    async () => {
      if (service?.exitCode !== null) throw new Error(`serve exited with ${String(service?.exitCode)}`);
      return (await fetch(`${base}/readyz`)).status;
    },
    (status) => status === 200,
    60_000,
    200,
  ).catch(async (error) => {
    const output = await readFile(path.join(dataDir, 'serve.log'), 'utf8').catch(() => '');
    throw new Error(`${String(error)}\n--- serve.log ---\n${output}`);
  });
  void exited;
}

async function stopService() {
  if (service === undefined || service.exitCode !== null) return;
  const exited = new Promise((resolve) => service?.once('exit', resolve));
  service.kill('SIGTERM');
  const stopped = await Promise.race([exited.then(() => true), sleep(20_000).then(() => false)]);
  if (!stopped) service.kill('SIGKILL');
}

// ---------- webhooks, signed as Tavus signs them ----------

async function fixture(name, fallback) {
  try {
    return JSON.parse(await readFile(path.join(FIXTURES, name), 'utf8'));
  } catch {
    return fallback; // shared/ not beside the repository: the same shape, inline
  }
}

async function playVideo(conversationId, title) {
  const body = await fixture('tool_call.play_video.json', {
    message_type: 'conversation',
    event_type: 'conversation.tool_call',
    properties: { name: 'play_video' },
  });
  body.conversation_id = conversationId;
  body.inference_id = randomUUID();
  body.properties = {
    ...body.properties,
    tool_call_id: `call_${randomUUID()}`,
    arguments: JSON.stringify({ video_title: title }),
  };
  const raw = JSON.stringify(body);
  const response = await fetch(`${base}/api/tavus-webhook`, {
    method: 'POST',
    headers: {
      'Content-Type': 'application/json',
      'X-Tavus-Signature': createHmac('sha256', SECRET).update(raw).digest('hex'),
    },
    body: raw,
  });
  const answer = await response.json();
  assert.equal(response.status, 200, JSON.stringify(answer));
  assert.equal(answer.status, 'played');
  return answer.video.url;
}

async function endSession() {
  const body = await fixture('system.shutdown.json', {
    conversation_id: FIXTURE_CONVERSATION,
    event_type: 'system.shutdown',
    message_type: 'system',
    properties: { shutdown_reason: 'participant_left_timeout' },
    timestamp: new Date().toISOString(),
  });
  const response = await fetch(`${base}/api/tavus-webhook?token=${encodeURIComponent(SECRET)}`, {
    method: 'POST',
    headers: { 'Content-Type': 'application/json' },
    body: JSON.stringify(body),
  });
  assert.equal(response.status, 200, await response.text());
}

// ---------- the browser, read without user gestures ----------

/** A page plus a DevTools session on it, and everything its console complained about. */
async function openPage(viewport, conversationId) {
  assert.ok(browser);
  const context = await browser.newContext({ viewport });
  const page = await context.newPage();
  const complaints = [];
  page.on('console', (message) => {
    if (message.type() === 'error' || message.type() === 'warning') {
      complaints.push(`${message.type()}: ${message.text()}`);
    }
  });
  page.on('pageerror', (error) => complaints.push(`pageerror: ${error.message}`));
  const cdp = await context.newCDPSession(page);
  await page.goto(`${base}/demos/${demoId}?conversation_id=${encodeURIComponent(conversationId)}`);

  /** Runtime.evaluate without `userGesture`: reading state grants no user activation. */
  const read = async (expression) => {
    const { result, exceptionDetails } = await cdp.send('Runtime.evaluate', {
      expression,
      returnByValue: true,
      awaitPromise: true,
    });
    if (exceptionDetails) throw new Error(exceptionDetails.exception?.description ?? exceptionDetails.text);
    return result.value;
  };
  const screenshot = async (name) => {
    const { data } = await cdp.send('Page.captureScreenshot', { format: 'png' });
    await mkdir(SCREENSHOTS, { recursive: true });
    await writeFile(path.join(SCREENSHOTS, name), Buffer.from(data, 'base64'));
  };
  const close = () => context.close();
  return { page, read, screenshot, close, complaints };
}

const STATE = `(() => {
  const rect = (el) => {
    if (!el) return null;
    const r = el.getBoundingClientRect();
    const style = getComputedStyle(el);
    const shown = r.width > 0 && r.height > 0 && style.visibility !== 'hidden' && style.display !== 'none';
    return { left: r.left, top: r.top, right: r.right, bottom: r.bottom, width: r.width, height: r.height, shown };
  };
  const player = document.querySelector('[data-testid="video-player"]');
  const video = player ? player.querySelector('video') : null;
  const popOut = [...document.querySelectorAll('button')].find((b) => b.textContent.trim() === 'Pop out') ?? null;
  return {
    connection: document.querySelector('[data-testid="connection-state"]')?.textContent ?? null,
    viewport: { width: window.innerWidth, height: window.innerHeight },
    conversation: rect(document.querySelector('[data-testid="conversation"]')),
    player: rect(player),
    popOut: rect(popOut),
    pip: document.pictureInPictureElement !== null && document.pictureInPictureElement === video,
    video: video && {
      src: video.currentSrc || video.getAttribute('src'),
      muted: video.muted,
      mutedAttribute: video.hasAttribute('muted'),
      paused: video.paused,
      currentTime: video.currentTime,
      readyState: video.readyState,
    },
  };
})()`;

function assertInCorner(state) {
  const { conversation, viewport } = state;
  assert.ok(conversation?.shown, 'the conversation is visible');
  assert.ok(viewport.width - conversation.right <= CORNER_SLACK_PX, `right edge near the viewport's: ${JSON.stringify(state)}`);
  assert.ok(viewport.height - conversation.bottom <= CORNER_SLACK_PX, `bottom edge near the viewport's: ${JSON.stringify(state)}`);
  assert.ok(conversation.width <= viewport.width * MAX_CORNER_SHARE, `at most 35% wide: ${JSON.stringify(state)}`);
}

function inCorner(state) {
  try {
    assertInCorner(state);
    return true;
  } catch {
    return false;
  }
}

function assertNotCovered(state) {
  const { conversation: c, player: p } = state;
  const overlap = p && c && p.left < c.right && c.left < p.right && p.top < c.bottom && c.top < p.bottom;
  assert.ok(!overlap, `the player leaves the conversation uncovered: ${JSON.stringify(state)}`);
}

function sameBox(a, b) {
  return ['left', 'top', 'width', 'height'].every((k) => Math.abs(a[k] - b[k]) <= 1);
}

/** Waits for the video to play for real: data decoded and the clock advancing between two reads. */
async function waitPlaying(read) {
  const first = await until(
    'the video to play',
    () => read(STATE),
    (s) => s.video !== null && s.video.readyState >= 2 && !s.video.paused && s.video.currentTime > 0,
  );
  const second = await until(
    'currentTime to advance',
    () => read(STATE),
    (s) => s.video !== null && s.video.currentTime > first.video.currentTime,
    5_000,
  );
  return second;
}

// ---------- lifecycle ----------

before(async () => {
  assert.ok(existsSync(path.join(DIST, 'index.html')), `no build at ${DIST}: run npm run build first`);
  assert.ok(existsSync(SERVICE_BIN), `no service at ${SERVICE_BIN} (make install, or set DEMO_RELAY_BIN)`);
  assert.ok(existsSync(CHROMIUM), `no Chromium at ${CHROMIUM} (apt-get install -y chromium)`);
  await startService();
  const demos = await (await fetch(`${base}/api/demos`)).json();
  assert.ok(Array.isArray(demos) && demos.length > 0, 'serve seeds a sample demo');
  demoId = demos[0].id;
  browser = await chromium.launch({
    executablePath: CHROMIUM,
    headless: true,
    args: [
      '--headless',
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
      '--no-first-run',
    ],
  });
});

after(async () => {
  await browser?.close().catch(() => undefined);
  await stopService();
  if (dataDir !== '') await rm(dataDir, { recursive: true, force: true }).catch(() => undefined);
});

// ---------- the tests ----------

test('pop-out path: a tool call plays muted, PiP or "Pop out", conversation to the corner; session_ended restores', { timeout: 90_000 }, async () => {
  const tab = await openPage({ width: 1280, height: 800 }, FIXTURE_CONVERSATION);
  try {
    const { read } = tab;
    await until('connection-state "connected"', () => read(STATE), (s) => s.connection === 'connected');
    const idle = await read(STATE);
    assert.equal(idle.player, null, 'no player element before a video');
    assert.ok(idle.conversation?.shown && idle.conversation.width > idle.viewport.width / 2, 'the conversation is the page when idle');
    await tab.screenshot('idle.png');

    const url = await playVideo(FIXTURE_CONVERSATION, 'Integrations tour'); // 12 s: time to look around
    const playing = await waitPlaying(read);
    assert.equal(playing.video.src, url, 'the <video> plays the broadcast URL');
    assert.equal(playing.video.muted, true, 'muted');
    assert.equal(playing.video.mutedAttribute, true, '<video muted>');

    const decided = await until('PiP entered or "Pop out" shown', () => read(STATE), (s) => s.pip || s.popOut?.shown === true);
    // Exactly one of the two: "Pop out" only when PiP was refused.
    assert.notEqual(decided.pip, decided.popOut?.shown === true, `PiP and "Pop out" are exclusive: ${JSON.stringify(decided)}`);
    if (!decided.pip) assert.ok(decided.player?.shown, 'refused PiP leaves the in-page player visible');

    const minimized = await until('the conversation in the corner', () => read(STATE), inCorner, 5_000);
    assertNotCovered(minimized);
    await sleep(150); // the player's entrance animation
    await tab.screenshot('playing.png');

    await endSession();
    const restored = await until('the player gone and the layout back', () => read(STATE), (s) => s.player === null && s.conversation !== null && sameBox(s.conversation, idle.conversation), 10_000);
    assert.equal(restored.connection, 'connected', 'still subscribed after session_ended');
    assert.deepEqual(tab.complaints, [], 'no console errors or warnings');
  } finally {
    await tab.close();
  }
});

test('"Pop out" on click (a real gesture) enters PiP where Chromium can, else keeps the floating player; close restores', { timeout: 90_000 }, async (t) => {
  const conversation = `e2e-pop-out-${randomUUID()}`;
  const tab = await openPage({ width: 1280, height: 800 }, conversation);
  try {
    const { page, read } = tab;
    await until('connection-state "connected"', () => read(STATE), (s) => s.connection === 'connected');
    const idle = await read(STATE);
    await playVideo(conversation, 'Integrations tour');
    await waitPlaying(read);
    const before = await until('PiP decided', () => read(STATE), (s) => s.pip || s.popOut?.shown === true);

    if (!before.pip) {
      await page.getByRole('button', { name: 'Pop out', exact: true }).click();
      const after = await until(
        'a coherent answer to "Pop out"',
        () => read(STATE),
        // Entered: PiP on, the button gone. Refused again: the floating player and the button stay.
        (s) => (s.pip && s.popOut === null) || (!s.pip && s.player?.shown === true && s.popOut?.shown === true),
        5_000,
      );
      // Give a late PiP answer the chance to contradict the first reading.
      await sleep(500);
      const settled = await read(STATE);
      assert.equal(settled.pip, after.pip, 'the outcome holds');
      assert.ok(settled.player?.shown, 'the in-page player stays while the video plays');
      assertInCorner(settled);
      t.diagnostic(`Pop out → ${settled.pip ? 'picture-in-picture entered' : 'refused, floating player kept'}`);
    }

    await page.getByRole('button', { name: 'Close video' }).click();
    const closed = await until('the player closed', () => read(STATE), (s) => s.player === null && sameBox(s.conversation, idle.conversation), 5_000);
    assert.equal(closed.pip, false, 'closing leaves picture-in-picture');
    assert.deepEqual(tab.complaints, [], 'no console errors or warnings');
  } finally {
    await tab.close();
  }
});

test('375 px wide: the corner conversation stays within 35% and uncovered; the video\'s end restores the layout', { timeout: 90_000 }, async () => {
  const conversation = `e2e-narrow-${randomUUID()}`;
  const tab = await openPage({ width: 375, height: 667 }, conversation);
  try {
    const { read } = tab;
    await until('connection-state "connected"', () => read(STATE), (s) => s.connection === 'connected');
    const idle = await read(STATE);
    await playVideo(conversation, 'Product Overview'); // 6 s
    await waitPlaying(read);
    const minimized = await until('the conversation in the corner', () => read(STATE), inCorner, 5_000);
    assertNotCovered(minimized);
    assert.ok(minimized.player?.shown && minimized.player.right <= minimized.viewport.width, 'the player fits the width');
    await sleep(150);
    await tab.screenshot('minimized.png');

    await until('the video to end and the layout to return', () => read(STATE), (s) => s.player === null && sameBox(s.conversation, idle.conversation), 20_000, 200);
    assert.deepEqual(tab.complaints, [], 'no console errors or warnings');
  } finally {
    await tab.close();
  }
});
