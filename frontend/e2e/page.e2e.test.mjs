// Browser e2e: the built page against the real service (`demo-relay serve`) in Debian's Chromium.
//
// Proves, in a real browser, the issue "DemoConfigurationPage: the video appears, muted, in
// Picture-in-Picture, and the conversation moves to a corner": a signed play_video webhook makes the page
// play the broadcast URL muted, enter PiP or (Chromium refuses it without a recent user gesture) offer "Pop out",
// and move the conversation to the bottom-right corner; session_ended / the video's end / the close button
// restore the layout. Also: clicking "Pop out" (a real gesture) is coherent whatever Chromium decides, the
// layout holds at 375 px wide, and the console stays free of errors and warnings.
//
// The main scenario runs over both transports the backend can name: the built-in WebSocket
// hub, and Supabase Realtime with the real supabase-js inside the page, against the local protocol-faithful
// Supabase this repository ships (`demo-relay fake-supabase`): serve seeds the videos into its Storage,
// play_video carries a signed Storage URL and goes out as a Realtime REST broadcast, and the fake's counters
// prove the page joined `realtime:demo-<id>` and got that broadcast. A third stack runs the same scenario on
// private channels (REALTIME_PRIVATE=true): the sessions endpoint hands the page a Realtime JWT for
// `setAuth`, the page joins its conversation's own topic `demo-<id>:<conversation>` with `config.private`,
// and the fake admits it only as this project's RLS policy does (`--private-policy claim:demo_relay_topic`:
// the token's claim must name the topic).
//
// Everything that could decide PiP is read through a DevTools-protocol session (Runtime.evaluate,
// Page.captureScreenshot): Playwright's evaluate, waitFor* and screenshot run with a user gesture, which
// would let PiP succeed only because of the test.
//
// Needs: the built page (npm run build → src/entrypoints/http/page, or FRONTEND_DIST), the service's virtualenv
// (<repo>/.venv/bin/demo-relay, or DEMO_RELAY_BIN) and Chromium at /usr/bin/chromium (or CHROMIUM_BIN).

import assert from 'node:assert/strict';
import { createHmac, randomUUID } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';

import { chromium } from 'playwright-core';

import { SERVICE_BIN, children, freePort, scratchStack, serviceEnv, sleep, startProcess, startServe, stopProcess, until, waitReady } from './processes.mjs';

const FRONTEND = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const REPO = path.resolve(FRONTEND, '..');
const FIXTURES = path.resolve(REPO, '..', 'shared', 'fixtures', 'tavus');
// Every run takes the screenshots (a failure to render shows there); only `make screenshots`
// (SCREENSHOTS_DIR=e2e/__screenshots__) replaces the committed ones, so `make test` leaves the tree clean.
const SCREENSHOTS = path.resolve(FRONTEND, process.env.SCREENSHOTS_DIR ?? path.join('e2e', '.screenshots'));
const DIST = path.resolve(process.env.FRONTEND_DIST ?? path.join(FRONTEND, '..', 'src', 'entrypoints', 'http', 'page'));

const CHROMIUM = process.env.CHROMIUM_BIN ?? '/usr/bin/chromium';
const SECRET = `e2e-${randomUUID()}`;
// The owner's token: the test mints a viewer link per conversation, as an owner would for a prospect.
const ADMIN_TOKEN = `e2e-admin-${randomUUID()}`;
const OWNER = { Authorization: `Bearer ${ADMIN_TOKEN}` };

/** A viewer link of the stack's demo for one conversation (what a prospect opens). */
async function viewerLink(stack, conversationId) {
  const response = await fetch(`${stack.base}/api/demos/${stack.demoId}/viewer-links`, {
    method: 'POST',
    headers: { 'Content-Type': 'application/json', ...OWNER },
    body: JSON.stringify({ conversation_id: conversationId }),
  });
  const link = await response.json();
  assert.equal(response.status, 201, JSON.stringify(link));
  return link.url;
}
// The conversation of the shutdown fixture, so its system.shutdown ends this page's session.
const FIXTURE_CONVERSATION = 'c7f3a1b2e9d0';
const CORNER_SLACK_PX = 24;
const MAX_CORNER_SHARE = 0.35;

/** @type {import('playwright-core').Browser | undefined} */
let browser;

// ---------- the stacks: a `demo-relay serve` (and, for Supabase, the fake it talks to) ----------

/**
 * @typedef {object} Stack
 * @property {'websocket' | 'supabase'} transport  what the sessions endpoint names, so what the page uses
 * @property {string} label  the connection badge's "via …"
 * @property {string} base  the service's URL
 * @property {string} demoId  the seeded demo
 * @property {boolean} private  Realtime private channels (REALTIME_PRIVATE=true; Supabase stack only)
 * @property {string} [supabaseUrl]  the fake Supabase (Supabase stack only)
 * @property {() => Promise<void>} stop
 */

/**
 * @param {'websocket' | 'supabase'} transport
 * @param {{ privateChannels?: boolean }} [options]  privateChannels: serve with REALTIME_PRIVATE=true and the
 *   fake's JWT secret, the fake enforcing the migration's policy (a viewer only on its token's channel)
 */
async function startStack(transport, { privateChannels = false } = {}) {
  assert.ok(!privateChannels || transport === 'supabase', 'private channels are a Supabase feature');
  const flavour = `${transport}${privateChannels ? '-private' : ''}`;
  const { dataDir, started, stop } = await scratchStack(`demo-relay-page-e2e-${flavour}-`);
  try {
    // The service's own settings come from this test alone (no outside database, Supabase or origins).
    const env = serviceEnv();
    /** @type {Partial<Stack>} */
    const stack = { transport, label: transport === 'supabase' ? 'Supabase' : 'WebSocket', private: privateChannels };

    if (transport === 'supabase') {
      const supabasePort = await freePort();
      const supabaseUrl = `http://127.0.0.1:${supabasePort}`;
      const fakeLog = path.join(dataDir, 'fake-supabase.log');
      const policy = privateChannels ? ['--private-policy', 'claim:demo_relay_topic'] : [];
      const fake = startProcess(['fake-supabase', '--port', String(supabasePort), ...policy], env, fakeLog);
      started.push(fake);
      await waitReady('fake-supabase', fake, `${supabaseUrl}/__fake/keys`, fakeLog);
      const keys = await (await fetch(`${supabaseUrl}/__fake/keys`)).json();
      Object.assign(env, {
        SUPABASE_URL: supabaseUrl,
        SUPABASE_SERVICE_ROLE_KEY: keys.service_key,
        SUPABASE_ANON_KEY: keys.anon_key,
        NOTIFIER: 'supabase', // STORAGE follows: supabase (seeded into the fake's bucket, signed URLs)
      });
      if (privateChannels) {
        // serve signs the pages' Realtime tokens with the project's secret, which the fake verifies.
        Object.assign(env, { REALTIME_PRIVATE: 'true', SUPABASE_JWT_SECRET: keys.jwt_secret });
      }
      stack.supabaseUrl = supabaseUrl;
    }

    const base = await startServe({ dataDir, started }, env, {
      TAVUS_WEBHOOK_SECRET: SECRET,
      ADMIN_TOKEN,
      FRONTEND_DIST: DIST,
    });

    const demos = await (await fetch(`${base}/api/demos`)).json();
    assert.ok(Array.isArray(demos) && demos.length > 0, 'serve seeds a sample demo');
    Object.assign(stack, { base, demoId: demos[0].id, stop });
    return /** @type {Stack} */ (stack);
  } catch (error) {
    await stop();
    throw error;
  }
}

/** The fake Supabase's counters: Realtime joins, REST broadcasts, Storage downloads, sockets. */
async function supabaseStats(stack) {
  assert.ok(stack.supabaseUrl, 'a Supabase stack');
  return (await fetch(`${stack.supabaseUrl}/__fake/stats`)).json();
}

// ---------- webhooks, signed as Tavus signs them ----------

async function fixture(name, fallback) {
  try {
    return JSON.parse(await readFile(path.join(FIXTURES, name), 'utf8'));
  } catch {
    return fallback; // shared/ not beside the repository: the same shape, inline
  }
}

/** A signed play_video tool call; the service's answer (200 played). */
async function playVideo(stack, conversationId, title) {
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
  const response = await fetch(`${stack.base}/api/tavus-webhook`, {
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
  return answer;
}

/** The shutdown fixture's system.shutdown, authenticated by the URL token as Tavus's callbacks are. */
async function endSession(stack) {
  const body = await fixture('system.shutdown.json', {
    conversation_id: FIXTURE_CONVERSATION,
    event_type: 'system.shutdown',
    message_type: 'system',
    properties: { shutdown_reason: 'participant_left_timeout' },
    timestamp: new Date().toISOString(),
  });
  const response = await fetch(`${stack.base}/api/tavus-webhook?token=${encodeURIComponent(SECRET)}`, {
    method: 'POST',
    headers: { 'Content-Type': 'application/json' },
    body: JSON.stringify(body),
  });
  assert.equal(response.status, 200, await response.text());
}

// ---------- the browser, read without user gestures ----------

/**
 * A page plus a DevTools session on it, and everything its console complained about. With `dropsSockets`,
 * the page's WebSockets are kept (a transparent subclass installed before the page's scripts) so that
 * `dropSockets()` can cut them behind the library's back, as a lost connection would (supabase-js reconnects).
 */
async function openPage(stack, viewport, conversationId, { dropsSockets = false, url = null } = {}) {
  assert.ok(browser);
  const context = await browser.newContext({ viewport });
  if (dropsSockets) {
    await context.addInitScript(() => {
      const Native = globalThis.WebSocket;
      const open = [];
      globalThis.WebSocket = class extends Native {
        constructor(...args) {
          super(...args);
          open.push(this);
        }
      };
      Object.defineProperty(globalThis, '__e2eDropSockets', {
        value: () => open.splice(0).filter((socket) => socket.readyState <= Native.OPEN).map((socket) => socket.close(4000, 'e2e: connection lost')).length,
      });
    });
  }
  const page = await context.newPage();
  const complaints = [];
  page.on('console', (message) => {
    if (message.type() === 'error' || message.type() === 'warning') {
      complaints.push(`${message.type()}: ${message.text()}`);
    }
  });
  page.on('pageerror', (error) => complaints.push(`pageerror: ${error.message}`));
  const cdp = await context.newCDPSession(page);
  const response = await page.goto(url ?? (await viewerLink(stack, conversationId)));
  // The page runs under its real CSP: a blocked script, socket or video would be a console complaint.
  assert.match(response?.headers()['content-security-policy'] ?? '', /frame-ancestors 'none'/);

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
  /** Cuts the page's open WebSockets (openPage with `dropsSockets`); how many it cut. */
  const dropSockets = () => read('window.__e2eDropSockets()');
  return { page, read, screenshot, close, complaints, dropSockets };
}

/** A fresh browser context for an owner: its page and the console errors it logs. */
async function ownerPage() {
  assert.ok(browser);
  const context = await browser.newContext({ viewport: { width: 1280, height: 900 } });
  const page = await context.newPage();
  const complaints = [];
  page.on('console', (m) => {
    if (m.type() === 'error') complaints.push(m.text());
  });
  page.on('pageerror', (e) => complaints.push(e.message));
  return { context, page, complaints };
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
    via: document.querySelector('.connection__via')?.textContent ?? null,
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

// ---------- the main scenario, over either transport ----------

/**
 * Idle page → a signed play_video webhook → the broadcast URL plays muted, PiP or "Pop out", the conversation
 * in the bottom-right corner → system.shutdown (URL token) → player gone, layout back. `checks` adds what
 * only one transport can show, with the tab still open.
 */
async function mainScenario(stack, { suffix = '', checks = {} } = {}) {
  const tab = await openPage(stack, { width: 1280, height: 800 }, FIXTURE_CONVERSATION);
  try {
    const { read } = tab;
    await until('connection-state "connected"', () => read(STATE), (s) => s.connection === 'connected');
    const idle = await read(STATE);
    assert.equal(idle.via, `via ${stack.label}`, 'the badge names the transport');
    assert.equal(idle.player, null, 'no player element before a video');
    assert.ok(idle.conversation?.shown && idle.conversation.width > idle.viewport.width / 2, 'the conversation is the page when idle');
    await tab.screenshot(`idle${suffix}.png`);

    const answer = await playVideo(stack, FIXTURE_CONVERSATION, 'Integrations tour'); // 12 s: time to look around
    const url = answer.video.url;
    assert.deepEqual(answer.delivered_via, [stack.transport], 'delivered over the stack\'s transport');
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
    await tab.screenshot(`playing${suffix}.png`);
    await checks.played?.(answer);

    await endSession(stack);
    const restored = await until('the player gone and the layout back', () => read(STATE), (s) => s.player === null && s.conversation !== null && sameBox(s.conversation, idle.conversation), 10_000);
    assert.equal(restored.connection, 'connected', 'still subscribed after session_ended');
    await checks.ended?.(answer);
    assert.deepEqual(tab.complaints, [], 'no console errors or warnings');
  } finally {
    await tab.close();
  }
}

// ---------- what the fake Supabase saw, for the Supabase stacks ----------

/**
 * The `checks` of mainScenario on a Supabase stack: the fake's counters show the page's join of
 * `realtime:demo-<id>` (private or not, as the stack) succeeded and each REST broadcast (same `private`)
 * was delivered to it; the <video> fetched the signed Storage URL from the fake.
 */
function supabaseChecks(stack, t) {
  const { supabaseUrl, demoId } = stack;
  // Private channels: the conversation's own topic (a viewer's token admits it to nothing else).
  const topic = stack.private ? `demo-${demoId}:${FIXTURE_CONVERSATION}` : `demo-${demoId}`;
  const kind = stack.private ? 'private' : 'public';
  /** The REST broadcasts the fake accepted for the page's topic. */
  const broadcastsOf = (stats, event) => stats.broadcasts.filter((b) => b.topic === topic && b.event === event);
  /** One broadcast of `event`, as private as the stack, authorised and pushed to the page's one channel. */
  const assertDelivered = (stats, event) => {
    const [sent, ...more] = broadcastsOf(stats, event);
    assert.equal(more.length, 0, `one ${event} broadcast: ${JSON.stringify(stats.broadcasts)}`);
    assert.ok(sent, `a ${event} broadcast: ${JSON.stringify(stats.broadcasts)}`);
    assert.equal(sent.private, stack.private, `the ${event} broadcast is ${kind}: ${JSON.stringify(sent)}`);
    assert.equal(sent.authorized, true, `the fake let serve send ${event}: ${JSON.stringify(sent)}`);
    assert.equal(sent.delivered, 1, `the fake pushed ${event} to the page's channel: ${JSON.stringify(sent)}`);
    return sent;
  };
  return {
    played: async (answer) => {
      // serve seeded its videos into the fake's bucket and signs URLs there (STORAGE=supabase).
      assert.match(answer.video.url, new RegExp(`^${supabaseUrl}/storage/v1/object/sign/demo-videos/${demoId}/[^?]+\\?token=`), 'a signed Storage URL');
      const stats = await supabaseStats(stack);
      const joins = stats.joins.filter((j) => j.topic === `realtime:${topic}`);
      assert.ok(joins.some((j) => j.status === 'ok' && j.private === stack.private), `the page joined realtime:${topic} (${kind}): ${JSON.stringify(stats.joins)}`);
      assert.ok(joins.every((j) => j.status === 'ok'), `no refused join: ${JSON.stringify(joins)}`);
      assert.ok(joins.every((j) => j.private === stack.private), `every join ${kind}: ${JSON.stringify(joins)}`);
      assert.ok(joins.every((j) => j.vsn === '2.0.0'), `supabase-js speaks serializer 2.0.0: ${JSON.stringify(joins)}`);
      const played = assertDelivered(stats, 'play_video');
      assert.equal(played.payload.url, answer.video.url, 'the broadcast carries the URL the page plays');
      // The <video> fetched the object from the fake's Storage, not from the service.
      const object = new URL(answer.video.url).pathname.replace('/storage/v1/object/sign/', '');
      assert.ok((stats.downloads[object] ?? 0) >= 1, `the page downloaded ${object}: ${JSON.stringify(stats.downloads)}`);
    },
    ended: async () => {
      const stats = await supabaseStats(stack);
      const ended = assertDelivered(stats, 'session_ended');
      assert.equal(ended.payload.conversation_id, FIXTURE_CONVERSATION);
      assert.equal(broadcastsOf(stats, 'play_video').length, 1, 'session_ended sent no second video');
      const joins = stats.joins.filter((j) => j.topic === `realtime:${topic}`);
      assert.ok(joins.every((j) => j.status === 'ok'), `no refused join, even later: ${JSON.stringify(joins)}`);
      const joined = joins.filter((j) => j.status === 'ok').length;
      t.diagnostic(`fake Supabase: ${String(joined)} ${kind} join(s) of realtime:${topic}, REST broadcasts ${stats.broadcasts.map((b) => `${b.event}→${String(b.delivered)}`).join(', ')}, ${String(stats.ws_connections)} socket(s)`);
    },
  };
}

/** Decodes a JWT's claims (no verification: the fake verified it). */
function jwtClaims(token) {
  const [, body] = token.split('.');
  return JSON.parse(Buffer.from(body, 'base64url').toString('utf8'));
}

// ---------- lifecycle ----------

before(async () => {
  assert.ok(existsSync(path.join(DIST, 'index.html')), `no build at ${DIST}: run npm run build first`);
  assert.ok(existsSync(SERVICE_BIN), `no service at ${SERVICE_BIN} (make install, or set DEMO_RELAY_BIN)`);
  assert.ok(existsSync(CHROMIUM), `no Chromium at ${CHROMIUM} (apt-get install -y chromium)`);
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
  // Whatever a failed before() or a describe's after() left running.
  await Promise.all([...children].map((child) => stopProcess(child)));
});

// ---------- the tests ----------

describe('over the WebSocket hub', () => {
  /** @type {Stack | undefined} */
  let stack;
  before(async () => {
    stack = await startStack('websocket');
  });
  after(async () => {
    await stack?.stop();
  });

  test('pop-out path: a tool call plays muted, PiP or "Pop out", conversation to the corner; session_ended restores', { timeout: 90_000 }, async () => {
    assert.ok(stack);
    await mainScenario(stack);
  });

  test('"Pop out" on click (a real gesture) enters PiP where Chromium can, else keeps the floating player; close restores', { timeout: 90_000 }, async (t) => {
    assert.ok(stack);
    const conversation = `e2e-pop-out-${randomUUID()}`;
    const tab = await openPage(stack, { width: 1280, height: 800 }, conversation);
    try {
      const { page, read } = tab;
      await until('connection-state "connected"', () => read(STATE), (s) => s.connection === 'connected');
      const idle = await read(STATE);
      await playVideo(stack, conversation, 'Integrations tour');
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

  // The owner's side of the page, in the browser: sign in with the admin token, create a demo,
  // upload a clip (the progress bar climbs to 100 %), rename it, mint a viewer link, and a prospect's page
  // opened from that link plays the renamed video from a signed webhook; then the owner deletes it.
  test('owner side: sign in, new demo, upload with progress to 100 %, rename, viewer link plays the new title, delete', { timeout: 90_000 }, async () => {
    assert.ok(stack);
    const { context, page, complaints } = await ownerPage();
    try {
      await page.goto(`${stack.base}/`);
      await page.getByLabel('Admin token').fill('not-the-token-of-this-server');
      await page.getByRole('button', { name: 'Sign in', exact: true }).click();
      await page.getByRole('alert').filter({ hasText: 'not an owner token' }).waitFor();
      await page.getByLabel('Admin token').fill(ADMIN_TOKEN);
      await page.getByRole('button', { name: 'Sign in', exact: true }).click();
      await page.getByLabel('Demo name').fill('Owner e2e demo');
      await page.getByRole('button', { name: 'New demo' }).click();
      await page.waitForURL(/\/demos\/[0-9a-f-]{36}$/);
      const demoId = new URL(page.url()).pathname.split('/').pop();

      // A real MP4 with a 12 MB padding box at the end: big enough for several progress events.
      const sample = await readFile(path.join(REPO, 'src', 'adapters', 'samples', 'integrations-tour.mp4'));
      const padding = Buffer.alloc(12 * 1024 * 1024);
      padding.writeUInt32BE(padding.length, 0);
      padding.write('free', 4, 'latin1');
      const clip = path.join(await mkdtemp(path.join(tmpdir(), 'owner-e2e-')), 'Big tour.mp4');
      await writeFile(clip, Buffer.concat([sample, padding]));
      // Every value the bar shows, as the page shows it (a MutationObserver in the page).
      await page.evaluate(`(() => {
        window.__progress = [];
        new MutationObserver(() => {
          for (const bar of document.querySelectorAll('[role="progressbar"]')) window.__progress.push(Number(bar.getAttribute('aria-valuenow')));
        }).observe(document.body, { subtree: true, childList: true, attributes: true, attributeFilter: ['aria-valuenow'] });
      })()`);
      await page.getByLabel('Upload video').setInputFiles(clip);
      await page.locator('[role="progressbar"][aria-valuenow="100"]').waitFor({ timeout: 30_000 });
      const row = page.getByTestId('video-row');
      await row.getByLabel('Title of Big tour').waitFor();
      const seen = await page.evaluate('window.__progress');
      assert.equal(Math.max(...seen), 100, `the bar reached 100 %: ${seen.join(',')}`);
      assert.deepEqual(seen, [...seen].sort((a, b) => a - b), 'progress only climbs');

      await row.getByLabel('Title of Big tour').fill('Renamed tour');
      await row.getByLabel('Title of Big tour').press('Enter');
      await page.getByLabel('Title of Renamed tour').waitFor();
      const tool = await (await fetch(`${stack.base}/api/demos/${demoId}/tool`)).json();
      assert.deepEqual(tool.function.function.parameters.properties.video_title.enum, ['Renamed tour']);

      const conversation = `owner-e2e-${randomUUID()}`;
      await page.getByLabel("Viewer's conversation id").fill(conversation);
      await page.getByRole('button', { name: 'Viewer link' }).click();
      const link = await page.getByTestId('viewer-link').getAttribute('href');
      assert.ok(link?.includes(`/demos/${demoId}?`) && link.includes('grant='), link ?? 'no link');

      const viewer = await openPage(stack, { width: 1280, height: 800 }, conversation, { url: link });
      try {
        await until('the viewer page to connect', () => viewer.read(STATE), (st) => st.connection === 'connected');
        const owned = await viewer.read("document.querySelector('[aria-label=\"Demo settings\"]') !== null");
        assert.equal(owned, false, "a prospect's view shows none of the owner's side");
        const answer = await playVideo({ ...stack, demoId }, conversation, 'Renamed tour');
        assert.equal(answer.video.title, 'Renamed tour');
        const playing = await waitPlaying(viewer.read);
        assert.equal(playing.video.src, answer.video.url);
        await viewer.screenshot('owner-viewer-plays.png');
      } finally {
        await viewer.close();
      }

      await page.getByRole('button', { name: 'Delete' }).click();
      await page.getByRole('button', { name: 'Confirm delete' }).click();
      await page.getByText('No videos yet.').waitFor();
      const after = await (await fetch(`${stack.base}/api/demos/${demoId}`)).json();
      assert.deepEqual(after.videos, []);
      const { data } = await (await context.newCDPSession(page)).send('Page.captureScreenshot', { format: 'png' });
      await mkdir(SCREENSHOTS, { recursive: true });
      await writeFile(path.join(SCREENSHOTS, 'owner-side.png'), Buffer.from(data, 'base64'));
      assert.deepEqual(complaints.filter((c) => !c.includes('401')), [], 'no console errors besides the refused token');
    } finally {
      await context.close();
    }
  });

  test('375 px wide: the corner conversation stays within 35% and uncovered; the video\'s end restores the layout', { timeout: 90_000 }, async () => {
    assert.ok(stack);
    const conversation = `e2e-narrow-${randomUUID()}`;
    const tab = await openPage(stack, { width: 375, height: 667 }, conversation);
    try {
      const { read } = tab;
      await until('connection-state "connected"', () => read(STATE), (s) => s.connection === 'connected');
      const idle = await read(STATE);
      await playVideo(stack, conversation, 'Product Overview'); // 6 s
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
});

describe('over Supabase Realtime (supabase-js in the page, the local fake Supabase)', () => {
  /** @type {Stack | undefined} */
  let stack;
  before(async () => {
    stack = await startStack('supabase');
  });
  after(async () => {
    await stack?.stop();
  });

  test('pop-out path over Supabase: the page joins realtime:demo-<id>, the REST broadcast plays the signed Storage URL; session_ended restores', { timeout: 90_000 }, async (t) => {
    assert.ok(stack);
    await mainScenario(stack, { suffix: '-supabase', checks: supabaseChecks(stack, t) });
  });

  // With Supabase Storage the page uploads straight to the bucket (a signed upload URL), and the relay
  // lists the video once it has checked the object's bytes.
  test('owner side over Supabase Storage: the upload goes straight to the bucket with progress, then is listed', { timeout: 60_000 }, async () => {
    assert.ok(stack);
    const { context, page, complaints } = await ownerPage();
    try {
      await page.goto(`${stack.base}/demos/${stack.demoId}`);
      await page.getByLabel('Admin token').fill(ADMIN_TOKEN);
      await page.getByRole('button', { name: 'Sign in', exact: true }).click();
      const before = (await supabaseStats(stack)).uploads;
      const clip = path.join(await mkdtemp(path.join(tmpdir(), 'owner-direct-')), 'Direct tour.mp4');
      await writeFile(clip, await readFile(path.join(REPO, 'src', 'adapters', 'samples', 'product-overview.mp4')));
      await page.getByLabel('Upload video').setInputFiles(clip);
      await page.locator('[role="progressbar"][aria-valuenow="100"], [role="alert"]').first().waitFor({ timeout: 30_000 });
      const alerts = await page.getByRole('alert').allTextContents();
      assert.deepEqual(alerts, [], `no error shown: ${alerts.join(' | ')} ${complaints.join(' | ')}`);
      await page.getByLabel('Title of Direct tour').waitFor();
      const uploads = (await supabaseStats(stack)).uploads;
      const direct = Object.keys(uploads).filter((key) => key.includes(`${stack.demoId}/upload-`) && !(key in before));
      assert.equal(direct.length, 1, `one object uploaded straight to the bucket: ${JSON.stringify(uploads)}`);
      const demo = await (await fetch(`${stack.base}/api/demos/${stack.demoId}`)).json();
      const listed = demo.videos.find((v) => v.title === 'Direct tour');
      assert.ok(listed && listed.duration_s === 6 && listed.content_type === 'video/mp4', JSON.stringify(demo.videos));
      const row = page.getByTestId('video-row').filter({ has: page.getByLabel('Title of Direct tour') });
      await row.getByRole('button', { name: 'Delete' }).click();
      await row.getByRole('button', { name: 'Confirm delete' }).click();
      await page.getByLabel('Title of Direct tour').waitFor({ state: 'detached' });
      assert.deepEqual(complaints, []);
    } finally {
      await context.close();
    }
  });
});

describe('over private Supabase Realtime channels (REALTIME_PRIVATE=true, setAuth with the session\'s token)', () => {
  /** @type {Stack | undefined} */
  let stack;
  before(async () => {
    stack = await startStack('supabase', { privateChannels: true });
  });
  after(async () => {
    await stack?.stop();
  });

  test('the sessions endpoint hands out a Realtime token for the conversation\'s own topic only (an owner\'s demo-wide session: the demo\'s)', async () => {
    assert.ok(stack);
    const conversation = `e2e-private-${randomUUID()}`;
    const session = async (body) => {
      // No conversation: the owner's watch session of the whole demo.
      const response = await fetch(`${stack.base}/api/demos/${stack.demoId}/${body ? 'sessions' : 'watch'}`, {
        method: 'POST',
        headers: { 'Content-Type': 'application/json', ...OWNER },
        body: body ? JSON.stringify(body) : undefined,
      });
      const answer = await response.json();
      assert.equal(response.status, 201, JSON.stringify(answer));
      return answer;
    };
    const viewer = await session({ conversation_id: conversation });
    assert.equal(viewer.transport, 'supabase');
    const { supabase } = viewer;
    assert.equal(supabase.url, stack.supabaseUrl);
    assert.equal(supabase.private, true);
    assert.equal(supabase.topic, `demo-${stack.demoId}:${conversation}`);
    assert.equal(typeof supabase.access_token, 'string');
    assert.ok(Date.parse(supabase.access_token_expires_at) > Date.now(), 'the token is not expired');
    const claims = jwtClaims(supabase.access_token);
    assert.equal(claims.role, 'authenticated');
    assert.equal(claims.demo_relay_topic, supabase.topic, 'the claim the fake\'s policy checks');

    const owner = await session(null);
    assert.equal(owner.conversation_id, null);
    assert.equal(owner.supabase.topic, `demo-${stack.demoId}`);
    assert.equal(jwtClaims(owner.supabase.access_token).demo_relay_topic, `demo-${stack.demoId}`);
  });

  test('pop-out path on a private channel: the page joins realtime:demo-<id>:<conversation> privately with its token, the private broadcast plays; session_ended restores', { timeout: 90_000 }, async (t) => {
    assert.ok(stack);
    await mainScenario(stack, { suffix: '-supabase-private', checks: supabaseChecks(stack, t) });
  });

  // supabase-js runs Realtime with an accessToken callback (its auth session, else the anon key) that it calls
  // again on connect, on every join and heartbeat; a rejoin after a lost connection must still carry the
  // session's token, or Realtime (and the fake, with the project's policy) refuses the private channel.
  test('a lost connection: supabase-js reconnects and rejoins the private channel with the session\'s token; a video after it plays', { timeout: 90_000 }, async (t) => {
    assert.ok(stack);
    const conversation = `e2e-private-reconnect-${randomUUID()}`;
    const topic = `realtime:demo-${stack.demoId}:${conversation}`;
    const tab = await openPage(stack, { width: 1280, height: 800 }, conversation, { dropsSockets: true });
    try {
      const { read } = tab;
      await until('connection-state "connected"', () => read(STATE), (s) => s.connection === 'connected');
      const joinsBefore = (await supabaseStats(stack)).joins.length;
      assert.equal(await tab.dropSockets(), 1, 'the page had one Realtime socket to lose');
      await until('the page to notice', () => read(STATE), (s) => s.connection !== 'connected', 5_000, 20);
      const rejoined = await until(
        'a rejoin of the private channel',
        async () => (await supabaseStats(stack)).joins.slice(joinsBefore).filter((j) => j.topic === topic),
        (joins) => joins.length > 0,
        15_000,
      );
      assert.ok(rejoined.every((j) => j.private === true && j.status === 'ok'), `the rejoin is private and admitted: ${JSON.stringify(rejoined)}`);
      await until('connection-state "connected" again', () => read(STATE), (s) => s.connection === 'connected', 15_000);

      const answer = await playVideo(stack, conversation, 'Product Overview');
      const stats = await supabaseStats(stack);
      const sent = stats.broadcasts.filter((b) => b.topic === `demo-${stack.demoId}:${conversation}` && b.event === 'play_video').at(-1);
      assert.equal(sent?.private, true);
      assert.equal(sent.delivered, 1, `the rejoined channel takes the broadcast: ${JSON.stringify(stats.broadcasts)}`);
      const playing = await waitPlaying(read);
      assert.equal(playing.video.src, answer.video.url, 'the <video> plays the broadcast URL');
      const joins = stats.joins.slice(joinsBefore).filter((j) => j.topic === topic);
      assert.ok(joins.every((j) => j.status === 'ok'), `no refused rejoin: ${JSON.stringify(joins)}`);
      assert.deepEqual(tab.complaints, [], 'no console errors or warnings');
      t.diagnostic(`after the drop: ${String(joins.length)} private join(s) of ${topic}, ${String(stats.ws_connections)} socket(s) in all`);
    } finally {
      await tab.close();
    }
  });

});
