// A stand-in for daily-js in the browser e2e. The built page loads daily-js on demand as its own chunk,
// `assets/daily-<hash>.js` (src/conversation/daily.ts), and reads the chunk's default export; the test
// serves this module's text in its place:
//
//   await page.route('**/assets/daily-*.js', (route) =>
//     route.fulfill({ contentType: 'text/javascript', body: fakeDailyModule('') }));
//
// The fake "room" is the fake Tavus's message box for that room id: joining polls
// `GET <base>/__fake/rooms/<id>/messages?after=<last seq>` every 200 ms and hands each message to the page as
// a Daily `app-message` (from the replica); `sendAppMessage` posts to `<base>/__fake/rooms/<id>/messages`.
//
// The page runs under its real CSP (connect-src 'self', its WebSocket, *.daily.co): a base on another origin
// is refused by the browser before any `page.route` sees it. So pass '' (requests go to the page's own
// origin) and forward them with `page.route('**/__fake/rooms/**', …)` to the fake Tavus (`route.fetch({ url })`
// then `route.fulfill({ response })`), or pass an https://<something>.daily.co base and route that.
//
// What the page calls (src/conversation/DailyFrame.tsx): createFrame(parent, options), on('app-message', cb),
// join({ url }) (a promise), sendAppMessage(data, '*'), destroy() (a promise). The rest is there so a
// later use of daily-js's usual calls does not throw. `window.__fakeDaily.rooms` records what each room
// received and sent, for assertions read through the DevTools protocol.

/**
 * The fake daily-js as ES module source text.
 * @param {string} fakeTavusBaseUrl  where `/__fake/rooms/…` lives: '' for the page's own origin, or a URL
 * @param {{ pollMs?: number }} [options]
 * @returns {string}
 */
export function fakeDailyModule(fakeTavusBaseUrl, { pollMs = 200 } = {}) {
  const base = String(fakeTavusBaseUrl).replace(/\/+$/, '');
  return `// fake daily-js (frontend/e2e/fakeDaily.mjs)
const BASE = ${JSON.stringify(base)};
const POLL_MS = ${JSON.stringify(pollMs)};
const state = (globalThis.__fakeDaily ??= { rooms: [] });

function roomIdOf(url) {
  const path = new URL(url, location.href).pathname.split('/').filter((part) => part !== '');
  const id = path[path.length - 1];
  if (id === undefined) throw new Error('fake daily: no room id in ' + url);
  return id;
}

const messagesUrl = (id) => BASE + '/__fake/rooms/' + encodeURIComponent(id) + '/messages';

/**
 * The fake Tavus's answer as a list of [seq, message]. \`demo-relay fake-tavus\` answers
 * { messages: [<the agent's app-message, with its seq>] }; an array, and items wrapped as { seq, message | data },
 * are read too.
 */
function entriesOf(body, lastSeq) {
  const items = Array.isArray(body) ? body : body && Array.isArray(body.messages) ? body.messages : [];
  let next = lastSeq;
  return items.map((item) => {
    const wrapped =
      item !== null &&
      typeof item === 'object' &&
      !('event_type' in item) &&
      ('message' in item || 'data' in item);
    const seq = item !== null && typeof item === 'object' && typeof item.seq === 'number' ? item.seq : next + 1;
    next = Math.max(next, seq);
    return [seq, wrapped ? (item.message ?? item.data) : item];
  });
}

function createCall(parent, options) {
  const handlers = new Map();
  const record = { id: null, url: null, options: options ?? null, received: [], sent: [], state: 'new' };
  state.rooms.push(record);
  let element = null;
  let timer = null;
  let polling = false;
  let lastSeq = 0;
  // Daily never delivers a participant's own app-message back to it; if the fake room echoes what this
  // call posted, that copy is dropped (matched by its JSON, once per send).
  const echoes = [];

  const emit = (event, payload) => {
    for (const handler of [...(handlers.get(event) ?? [])]) {
      try {
        handler({ action: event, ...payload });
      } catch (error) {
        // daily-js isolates its listeners the same way: one failing handler never stops the others.
        setTimeout(() => {
          throw error;
        });
      }
    }
  };

  const poll = async () => {
    if (!polling) return;
    try {
      const response = await fetch(messagesUrl(record.id) + '?after=' + String(lastSeq), {
        headers: { Accept: 'application/json' },
      });
      if (response.ok) {
        for (const [seq, message] of entriesOf(await response.json(), lastSeq)) {
          if (seq <= lastSeq) continue;
          lastSeq = seq;
          const echo = echoes.indexOf(JSON.stringify(message));
          if (echo !== -1) {
            echoes.splice(echo, 1);
            continue;
          }
          record.received.push(message);
          if (polling) emit('app-message', { data: message, fromId: 'tavus-replica' });
        }
      }
    } catch {
      // the fake Tavus between two answers: the next tick asks again
    }
    if (polling) timer = setTimeout(poll, POLL_MS);
  };

  const stop = () => {
    polling = false;
    if (timer !== null) clearTimeout(timer);
    timer = null;
  };

  const call = {
    on(event, handler) {
      if (!handlers.has(event)) handlers.set(event, new Set());
      handlers.get(event).add(handler);
      return call;
    },
    off(event, handler) {
      handlers.get(event)?.delete(handler);
      return call;
    },
    async join({ url } = {}) {
      if (record.state === 'destroyed') throw new Error('fake daily: join after destroy');
      record.url = url;
      record.id = roomIdOf(url);
      record.state = 'joined';
      element = document.createElement('div');
      element.className = 'fake-daily-room';
      element.dataset.testid = 'fake-daily-room';
      element.dataset.room = record.id;
      element.textContent = 'Fake Daily room ' + record.id;
      element.style.cssText = 'display:flex;align-items:center;justify-content:center;width:100%;height:100%;background:#1f2937;color:#fff;font:14px system-ui,sans-serif';
      parent.appendChild(element);
      polling = true;
      void poll();
      emit('joined-meeting', { participants: call.participants() });
      return call.participants();
    },
    sendAppMessage(data, to = '*') {
      if (record.state !== 'joined') throw new Error('fake daily: sendAppMessage outside a meeting');
      record.sent.push({ data, to });
      echoes.push(JSON.stringify(data));
      void fetch(messagesUrl(record.id), {
        method: 'POST',
        headers: { 'Content-Type': 'application/json' },
        body: JSON.stringify(data),
      }).catch(() => undefined);
      return call;
    },
    async leave() {
      stop();
      if (record.state === 'joined') {
        record.state = 'left';
        emit('left-meeting', {});
      }
    },
    async destroy() {
      await call.leave();
      record.state = 'destroyed';
      element?.remove();
      element = null;
    },
    participants() {
      return { local: { session_id: 'fake-local', local: true, user_name: 'viewer' } };
    },
    meetingState() {
      return record.state === 'joined' ? 'joined-meeting' : record.state === 'new' ? 'new' : 'left-meeting';
    },
    iframe() {
      return null;
    },
    isDestroyed() {
      return record.state === 'destroyed';
    },
  };
  return call;
}

const Daily = {
  createFrame(parent, options) {
    // daily-js also takes createFrame(options) (a frame of its own in <body>).
    if (!(parent instanceof HTMLElement)) return createCall(document.body, parent);
    return createCall(parent, options);
  },
  createCallObject(options) {
    return createCall(document.body, options);
  },
  supportedBrowser() {
    return { supported: true };
  },
};

export default Daily;
`;
}
