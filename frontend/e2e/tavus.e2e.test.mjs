// Browser e2e of the Tavus integration with real processes: `demo-relay fake-tavus` (the local stand-in for
// the Tavus API) + `demo-relay serve` (TAVUS_API_KEY / TAVUS_API_URL pointing at it), the built page in
// Debian's Chromium.
//
// For each tool delivery (TAVUS_TOOL_DELIVERY=app_message, then api): the owner puts the fake's persona on
// the seeded demo (the persona sync installs play_video with the demo's titles), signs in on the page and
// presses "Start test conversation": serve creates the conversation at the fake and the page shows its
// Daily room. Then "the agent" calls play_video (the fake's control call):
// - app_message: the call arrives in the room; the page (daily-js's stand-in, e2e/fakeDaily.mjs, serving the
//   fake Tavus's room) forwards it through the bridge, the video plays, and the page answers in the room
//   with conversation.tool_result (tool_call_id, output): the agent heard it;
// - api: the fake POSTs it to our webhook signed with X-Tavus-Signature; the video plays on the page and
//   our answer's `output` went back to the fake (the tool result Tavus gives the agent).
// "End" ends the conversation at the fake and restores the page.
//
// Reads that could grant a user gesture go through the DevTools protocol, as in page.e2e.test.mjs.

import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';

import { chromium } from 'playwright-core';

import { fakeDailyModule } from './fakeDaily.mjs';
import { SERVICE_BIN, children, freePort, scratchStack, serviceEnv, startProcess, startServe, stopProcess, until, waitReady } from './processes.mjs';

const FRONTEND = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const DIST = path.resolve(process.env.FRONTEND_DIST ?? path.join(FRONTEND, '..', 'src', 'entrypoints', 'http', 'page'));
const CHROMIUM = process.env.CHROMIUM_BIN ?? '/usr/bin/chromium';
const SECRET = `e2e-tavus-${randomUUID()}`;
const ADMIN_TOKEN = `e2e-admin-${randomUUID()}`;
const OWNER = { Authorization: `Bearer ${ADMIN_TOKEN}`, 'Content-Type': 'application/json' };
const TAVUS_KEY = randomUUID().replaceAll('-', '');
const PERSONA = 'pe2e00000001';
const REPLICA = 're2e00000001';

/** @type {import('playwright-core').Browser | undefined} */
let browser;

/**
 * A fake Tavus and a serve wired to it.
 * @param {'app_message' | 'api'} delivery
 */
async function startStack(delivery) {
  const { dataDir, started, stop } = await scratchStack(`demo-relay-tavus-e2e-${delivery}-`);
  try {
    const env = serviceEnv();

    const tavusPort = await freePort();
    const tavus = `http://127.0.0.1:${tavusPort}`;
    const fakeLog = path.join(dataDir, 'fake-tavus.log');
    const fake = startProcess(
      ['fake-tavus', '--port', String(tavusPort), '--api-key', TAVUS_KEY, '--persona', `${PERSONA}:${REPLICA}`],
      env,
      fakeLog,
    );
    started.push(fake);
    await waitReady('fake-tavus', fake, `${tavus}/__fake/state`, fakeLog);

    const base = await startServe({ dataDir, started }, env, {
      TAVUS_WEBHOOK_SECRET: SECRET,
      ADMIN_TOKEN,
      FRONTEND_DIST: DIST,
      TAVUS_API_KEY: TAVUS_KEY,
      TAVUS_API_URL: `${tavus}/v2`,
      TAVUS_TOOL_DELIVERY: delivery,
      TAVUS_SYNC_POLL_S: '0.2',
    });
    const demos = await (await fetch(`${base}/api/demos`)).json();
    return { base, tavus, demoId: demos[0].id, demo: demos[0], stop };
  } catch (error) {
    await stop();
    throw error;
  }
}

/** The owner puts the fake's persona on the demo and waits for the sync to install play_video. */
async function connectPersona(stack) {
  const response = await fetch(`${stack.base}/api/demos/${stack.demoId}`, {
    method: 'PATCH',
    headers: OWNER,
    body: JSON.stringify({ tavus: { persona_id: PERSONA } }),
  });
  assert.equal(response.status, 200, await response.text());
  await until(
    'the persona sync',
    async () => (await (await fetch(`${stack.base}/api/demos/${stack.demoId}`)).json()).tavus.sync.state,
    (state) => state === 'synced',
  );
}

async function fakeState(stack) {
  return (await fetch(`${stack.tavus}/__fake/state`)).json();
}

/** The one conversation the fake holds for this stack (the page started it). */
async function startedConversation(stack) {
  const state = await until(
    'the conversation at the fake Tavus',
    () => fakeState(stack),
    (s) => s.conversations.some((c) => c.status === 'active'),
  );
  return state.conversations.find((c) => c.status === 'active');
}

/** The owner's page, with daily-js replaced by the fake room of the fake Tavus (see fakeDaily.mjs). */
async function ownerPage(stack) {
  assert.ok(browser);
  const context = await browser.newContext({ viewport: { width: 1280, height: 900 } });
  const page = await context.newPage();
  const complaints = [];
  page.on('console', (m) => {
    if (m.type() === 'error') complaints.push(m.text());
  });
  page.on('pageerror', (e) => complaints.push(e.message));
  await page.route('**/assets/daily-*.js', (route) =>
    route.fulfill({ contentType: 'text/javascript', body: fakeDailyModule('') }),
  );
  // The page's CSP lets it reach its own origin only: its room requests are forwarded to the fake Tavus.
  await page.route('**/__fake/rooms/**', async (route) => {
    const url = new URL(route.request().url());
    const response = await route.fetch({ url: `${stack.tavus}${url.pathname}${url.search}` });
    await route.fulfill({ response });
  });
  const cdp = await context.newCDPSession(page);
  const read = async (expression) => {
    const { result, exceptionDetails } = await cdp.send('Runtime.evaluate', { expression, returnByValue: true, awaitPromise: true });
    if (exceptionDetails) throw new Error(exceptionDetails.exception?.description ?? exceptionDetails.text);
    return result.value;
  };
  return { context, page, read, complaints };
}

const PLAYER = `(() => {
  const video = document.querySelector('[data-testid="video-player"] video');
  return {
    connection: document.querySelector('[data-testid="connection-state"]')?.textContent ?? null,
    room: document.querySelector('[data-testid="fake-daily-room"]')?.textContent ?? null,
    conversation: document.querySelector('[data-testid="conversation"]') !== null,
    video: video && { src: video.currentSrc || video.getAttribute('src'), muted: video.muted, paused: video.paused, currentTime: video.currentTime, readyState: video.readyState },
  };
})()`;

async function signInAndStart(stack, { page, read }) {
  await page.goto(`${stack.base}/demos/${stack.demoId}`);
  await page.getByLabel('Admin token').fill(ADMIN_TOKEN);
  await page.getByRole('button', { name: 'Sign in', exact: true }).click();
  await page.getByTestId('persona-sync').filter({ hasText: 'synced' }).waitFor();
  await page.getByRole('button', { name: 'Start test conversation' }).click();
  const conversation = await startedConversation(stack);
  await until('the room and the channel', () => read(PLAYER), (s) => s.room !== null && s.connection === 'connected');
  assert.match((await read(PLAYER)).room, new RegExp(conversation.conversation_id));
  return conversation;
}

async function waitPlaying(read, title) {
  return until(
    `"${title}" to play`,
    () => read(PLAYER),
    (s) => s.video !== null && s.video.readyState >= 2 && !s.video.paused && s.video.currentTime > 0,
    20_000,
  );
}

async function endAndCheckRestored(stack, { page, read }, conversationId) {
  await page.getByRole('button', { name: 'End', exact: true }).click();
  await until('the page back to idle', () => read(PLAYER), (s) => s.room === null && s.video === null);
  await page.getByRole('button', { name: 'Start test conversation' }).waitFor();
  const state = await fakeState(stack);
  assert.equal(state.conversations.find((c) => c.conversation_id === conversationId).status, 'ended');
}

before(async () => {
  assert.ok(existsSync(SERVICE_BIN), `no service at ${SERVICE_BIN} (make install, or set DEMO_RELAY_BIN)`);
  assert.ok(existsSync(path.join(DIST, 'index.html')), `no built page in ${DIST} (npm run build)`);
  browser = await chromium.launch({
    executablePath: CHROMIUM,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run', '--autoplay-policy=no-user-gesture-required'],
  });
});

after(async () => {
  await browser?.close().catch(() => undefined);
  await Promise.all([...children].map((child) => stopProcess(child)));
});

describe('Tavus, tool delivered as a Daily app-message (the page bridges it)', () => {
  let stack;
  before(async () => {
    stack = await startStack('app_message');
    await connectPersona(stack);
  });
  after(async () => {
    await stack?.stop();
  });

  test('the owner starts a conversation, the agent calls play_video, the page plays it and answers the tool call; End restores the page', { timeout: 90_000 }, async () => {
    const owner = await ownerPage(stack);
    try {
      const conversation = await signInAndStart(stack, owner);
      const id = conversation.conversation_id;
      const title = stack.demo.videos[0].title;
      const call = await (
        await fetch(`${stack.tavus}/__fake/conversations/${id}/tool-call`, {
          method: 'POST',
          headers: { 'Content-Type': 'application/json' },
          body: JSON.stringify({ name: 'play_video', arguments: { video_title: title } }),
        })
      ).json();
      assert.equal(call.delivery, 'app_message');
      const playing = await waitPlaying(owner.read, title);
      assert.equal(playing.video.muted, true);
      // The page answered in the room: the agent heard that its video is on screen.
      const heard = await until(
        'the tool result in the room',
        async () => (await (await fetch(`${stack.tavus}/__fake/rooms/${id}/heard`)).json()).messages,
        (messages) => messages.some((m) => m.event_type === 'conversation.tool_result'),
      );
      const result = heard.find((m) => m.event_type === 'conversation.tool_result');
      assert.equal(result.properties.tool_call_id, call.tool_call_id);
      assert.equal(result.properties.output, `Now playing "${title}" for the viewer.`);
      assert.equal(result.conversation_id, id);
      await endAndCheckRestored(stack, owner, id);
      assert.deepEqual(owner.complaints, []);
    } finally {
      await owner.context.close();
    }
  });
});

describe('Tavus, tool delivered to our webhook (delivery.api, HMAC-signed)', () => {
  let stack;
  before(async () => {
    stack = await startStack('api');
    await connectPersona(stack);
  });
  after(async () => {
    await stack?.stop();
  });

  test('the agent calls the demo\'s registry tool, the signed webhook plays it on the page, the agent gets our output; End restores the page', { timeout: 90_000 }, async () => {
    const { tools } = await fakeState(stack);
    assert.equal(tools.length, 1);
    const owner = await ownerPage(stack);
    try {
      const conversation = await signInAndStart(stack, owner);
      const id = conversation.conversation_id;
      const title = stack.demo.videos[1].title;
      const call = await (
        await fetch(`${stack.tavus}/__fake/conversations/${id}/tool-call`, {
          method: 'POST',
          headers: { 'Content-Type': 'application/json' },
          body: JSON.stringify({ name: tools[0].name, arguments: { video_title: title } }),
        })
      ).json();
      assert.equal(call.delivery, 'api');
      assert.equal(call.status, 200, JSON.stringify(call));
      const answer = typeof call.response === 'string' ? JSON.parse(call.response) : call.response;
      assert.equal(answer.output, `Now playing "${title}" for the viewer.`);
      await waitPlaying(owner.read, title);
      await endAndCheckRestored(stack, owner, id);
      assert.deepEqual(owner.complaints, []);
    } finally {
      await owner.context.close();
    }
  });
});
