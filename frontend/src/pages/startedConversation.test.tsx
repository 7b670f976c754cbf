// Conversations the service starts (DESIGN §12), in jsdom with HTTP, the hub and daily-js faked at their
// boundaries: a prospect's "Start" (only where the owner allows it and the server has Tavus), the started
// conversation followed exactly like an opened session, "End" and session_ended back to the idle page,
// each refusal in words, and the tool result the page sends back into the room.

import { act, fireEvent, render, screen, waitFor } from '@testing-library/react';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';

import { App } from '../App';
import { setOwner } from '../owner/ownerSession';
import { daily, resetDaily } from '../test/daily';
import { FakeWebSocket, playFrame } from '../test/fakes';

vi.mock('@daily-co/daily-js', () => import('../test/daily').then((m) => m.dailyModule));

const ROOM = 'https://tavus.daily.co/c0ffee';

function session(token: string, expiresAt = '2999-01-01T00:00:00Z') {
  return {
    channel: 'demo-d1',
    transport: 'websocket',
    demo_id: 'd1',
    conversation_id: 'tc1',
    websocket: { url: 'ws://relay.test/ws/demo-d1', token, expires_at: expiresAt },
    supabase: null,
  };
}

const STARTED = { conversation_id: 'tc1', conversation_url: ROOM, status: 'active', session: session('token-1') };

const json = (body: unknown, status = 200, headers: Record<string, string> = {}) =>
  new Response(JSON.stringify(body), { status, headers: { 'Content-Type': 'application/json', ...headers } });

type Handler = (init: RequestInit | undefined) => Response;
let fetchMock: ReturnType<typeof vi.fn<typeof fetch>>;

/** Answers `METHOD path` from `handlers`; the demo (public_start on) and auth-config (Tavus on) by default. */
function serve(
  handlers: Record<string, Handler> = {},
  { publicStart = true, tavus = { enabled: true, delivery: 'app_message' } }: { publicStart?: boolean; tavus?: unknown } = {},
) {
  const all: Record<string, Handler> = {
    'GET /api/demos/d1': () =>
      json({
        id: 'd1',
        name: 'Acme',
        public_start: publicStart,
        videos: [],
        tavus: { persona_id: 'p1', replica_id: null, sync: { state: 'synced', synced_at: null, error: null } },
      }),
    // tavus: null → a server without the field at all.
    'GET /api/auth-config': () => json({ supabase: null, direct_uploads: null, ...(tavus === null ? {} : { tavus }) }),
    'GET /api/demos/d1/tool': () => json({ function: {} }),
    'GET /api/demos/d1/conversations': () => json([]),
    'POST /api/demos/d1/conversations': () => json(STARTED, 201),
    'POST /api/demos/d1/conversations/tc1/end': () => json({ conversation_id: 'tc1', status: 'ended' }),
    ...handlers,
  };
  fetchMock.mockImplementation((input, init) => {
    const url = typeof input === 'string' ? input : input instanceof URL ? input.pathname : input.url;
    const handler = all[`${init?.method ?? 'GET'} ${url}`];
    return Promise.resolve(handler ? handler(init) : json({ error: 'not_found' }, 404));
  });
}

const calls = (method: string, path: string) =>
  fetchMock.mock.calls.filter(([url, init]) => url === path && (init?.method ?? 'GET') === method);
const authorization = (init: RequestInit | undefined) => new Headers(init?.headers).get('Authorization');

beforeEach(() => {
  window.sessionStorage.clear();
  FakeWebSocket.reset();
  resetDaily();
  vi.stubGlobal('WebSocket', FakeWebSocket);
  fetchMock = vi.fn<typeof fetch>();
  vi.stubGlobal('fetch', fetchMock);
});

afterEach(() => {
  vi.unstubAllGlobals();
  window.history.replaceState(null, '', '/');
});

function openIdlePage() {
  window.history.replaceState(null, '', '/demos/d1');
  return render(<App />);
}

/** Clicks "Start" and waits for the started conversation's channel. */
async function startAsProspect() {
  openIdlePage();
  fireEvent.click(await screen.findByRole('button', { name: 'Start' }));
  await waitFor(() => {
    expect(FakeWebSocket.instances).toHaveLength(1);
  });
  return FakeWebSocket.latest();
}

describe('a prospect starts a conversation', () => {
  const hidden: [string, { publicStart?: boolean; tavus?: unknown }][] = [
    ['the demo has no public_start', { publicStart: false }],
    ['the server has no TAVUS_API_KEY', { tavus: { enabled: false, delivery: 'app_message' } }],
    ['the server predates the tavus field', { tavus: null }],
  ];
  for (const [why, options] of hidden) {
    it(`offers no "Start" when ${why}`, async () => {
      serve({}, options);
      openIdlePage();
      await waitFor(() => {
        expect(calls('GET', '/api/auth-config').length).toBeGreaterThan(0);
        expect(calls('GET', '/api/demos/d1').length).toBeGreaterThan(0);
      });
      await act(() => new Promise((resolve) => setTimeout(resolve, 10))); // both answers rendered
      expect(screen.getByRole('button', { name: 'Start session' })).toBeTruthy(); // the form is still there
      expect(screen.queryByRole('button', { name: 'Start' })).toBeNull();
    });
  }

  it('offers "Start" when the demo has public_start and the server has Tavus', async () => {
    serve();
    openIdlePage();
    expect(await screen.findByRole('button', { name: 'Start' })).toBeTruthy();
  });

  it('start → the returned session is followed, the room framed with daily-js; "End" → back to idle', async () => {
    serve();
    const socket = await startAsProspect();
    const [started] = calls('POST', '/api/demos/d1/conversations');
    expect(started?.[1]?.body).toBe('{}');
    expect(authorization(started?.[1])).toBeNull(); // a prospect has no token: public_start is the permission
    expect(socket.url).toBe('ws://relay.test/ws/demo-d1?token=token-1');
    expect(calls('POST', '/api/demos/d1/sessions')).toHaveLength(0); // the start's answer was the session
    act(() => {
      socket.accept();
    });
    expect(screen.getByTestId('connection-state').textContent).toBe('connected');
    await waitFor(() => {
      expect(daily.frames[0]?.joined).toEqual([ROOM]);
    });
    expect(screen.getByTestId('conversation').querySelector('[data-testid="daily-frame"]')).not.toBeNull();

    act(() => {
      socket.receive(playFrame('e1', { conversation_id: 'tc1' }));
    });
    expect(screen.getByTestId('video-player')).toBeTruthy();

    fireEvent.click(screen.getByRole('button', { name: 'End' }));
    await waitFor(() => {
      expect(screen.queryByTestId('conversation')).toBeNull();
    });
    const [ended] = calls('POST', '/api/demos/d1/conversations/tc1/end');
    expect(authorization(ended?.[1])).toBe('Bearer token-1'); // the conversation's own session token
    expect(screen.queryByTestId('video-player')).toBeNull();
    // The channel's subscription ends with the stage's effects, which React may run a tick later.
    await waitFor(() => {
      expect(socket.closedWith?.code).toBe(1000);
    });
    expect(await screen.findByRole('button', { name: 'Start' })).toBeTruthy();
    expect(window.location.search).toBe(''); // the token never reaches the address
  });

  it('session_ended on the channel ends a started conversation the same way', async () => {
    serve();
    const socket = await startAsProspect();
    act(() => {
      socket.accept();
      socket.receive({ event: 'session_ended', payload: { conversation_id: 'tc1', reason: 'ended' }, id: 'e2' });
    });
    expect(screen.queryByTestId('conversation')).toBeNull();
    expect(screen.queryByRole('button', { name: 'End' })).toBeNull();
    expect(await screen.findByRole('button', { name: 'Start' })).toBeTruthy();
  });

  it('renews the session with its own session token (a prospect holds no grant)', async () => {
    serve({
      'POST /api/demos/d1/conversations': () =>
        json({ ...STARTED, session: session('token-old', '2000-01-01T00:00:00Z') }, 201),
      'POST /api/demos/d1/sessions': () => json(session('token-2'), 201),
    });
    openIdlePage();
    fireEvent.click(await screen.findByRole('button', { name: 'Start' }));
    await waitFor(() => {
      expect(FakeWebSocket.instances).toHaveLength(1);
    });
    const [renewal] = calls('POST', '/api/demos/d1/sessions');
    expect(authorization(renewal?.[1])).toBe('Bearer token-old');
    expect(renewal?.[1]?.body).toBe(JSON.stringify({ conversation_id: 'tc1' }));
    expect(FakeWebSocket.latest().token).toBe('token-2');

    fireEvent.click(screen.getByRole('button', { name: 'End' }));
    await screen.findByRole('button', { name: 'Start' });
    const [ended] = calls('POST', '/api/demos/d1/conversations/tc1/end');
    expect(authorization(ended?.[1])).toBe('Bearer token-2'); // the newest token, not the expired one
  });

  it('says why "End" failed when the service cannot be reached, and stays', async () => {
    serve({
      'POST /api/demos/d1/conversations/tc1/end': () => json({ error: 'tavus_unavailable', message: 'down' }, 502),
    });
    await startAsProspect();
    fireEvent.click(screen.getByRole('button', { name: 'End' }));
    expect((await screen.findByRole('alert')).textContent).toMatch(/could not be ended/);
    expect(screen.getByTestId('conversation')).toBeTruthy();
  });

  const failures: [string, Response, string][] = [
    [
      '429 tavus_capacity',
      json({ error: 'tavus_capacity', message: 'all 3 conversation slots are in use', in_use: 3 }, 429, { 'Retry-After': '20' }),
      'No free conversation slot right now (3 in use). Try again in 20 s.',
    ],
    [
      '502 tavus_unavailable',
      json({ error: 'tavus_unavailable', message: 'Tavus timed out' }, 502),
      "Tavus can't be reached right now. Try again shortly.",
    ],
    [
      '502 tavus_unauthorized',
      json({ error: 'tavus_unauthorized', message: 'Tavus refused the API key' }, 502),
      "Tavus refused this service's API key. The owner must fix TAVUS_API_KEY.",
    ],
    [
      '422 tavus_rejected',
      json({ error: 'tavus_rejected', message: 'Tavus does not know the persona p1.' }, 422),
      'Tavus does not know the persona p1.',
    ],
    [
      '409 tavus_not_configured',
      json({ error: 'tavus_not_configured', message: 'This demo has no Tavus persona yet.' }, 409),
      'This demo has no Tavus persona yet.',
    ],
  ];
  for (const [what, answer, words] of failures) {
    it(`a refused start says why in words: ${what}`, async () => {
      serve({ 'POST /api/demos/d1/conversations': () => answer });
      openIdlePage();
      fireEvent.click(await screen.findByRole('button', { name: 'Start' }));
      expect((await screen.findByRole('alert')).textContent).toBe(words);
      expect(screen.queryByTestId('conversation')).toBeNull();
      expect(FakeWebSocket.instances).toHaveLength(0);
      expect(screen.getByRole('button', { name: 'Start' })).toHaveProperty('disabled', false);
    });
  }
});

describe('the owner starts a test conversation', () => {
  it('with the owner token, only when the server has Tavus; End goes back to the settings', async () => {
    setOwner({ token: 'owner-token-0123456789', owner: 'admin token' });
    serve({}, { publicStart: false });
    openIdlePage();
    fireEvent.click(await screen.findByRole('button', { name: 'Start test conversation' }));
    await waitFor(() => {
      expect(FakeWebSocket.instances).toHaveLength(1);
    });
    expect(authorization(calls('POST', '/api/demos/d1/conversations')[0]?.[1])).toBe('Bearer owner-token-0123456789');
    fireEvent.click(screen.getByRole('button', { name: 'End' }));
    expect(await screen.findByRole('button', { name: 'Start test conversation' })).toBeTruthy();
    expect(authorization(calls('POST', '/api/demos/d1/conversations/tc1/end')[0]?.[1])).toBe('Bearer owner-token-0123456789');
    expect(screen.queryByRole('button', { name: 'Start' })).toBeNull(); // the prospect's button is not the owner's
  });

  it('offers no test conversation when the server has no TAVUS_API_KEY', async () => {
    setOwner({ token: 'owner-token-0123456789', owner: 'admin token' });
    serve({}, { tavus: { enabled: false, delivery: 'app_message' } });
    openIdlePage();
    await screen.findByText(/once the server has a/);
    expect(screen.queryByRole('button', { name: 'Start test conversation' })).toBeNull();
  });
});

it('answers the agent in the room: a played tool call gets a conversation.tool_result', async () => {
  serve({
    'POST /api/sessions/demo-d1/tool-calls': () =>
      json({ status: 'played', output: 'Now playing "Pricing" for the viewer.', video: { title: 'Pricing' } }),
  });
  const socket = await startAsProspect();
  act(() => {
    socket.accept();
  });
  await waitFor(() => {
    expect(daily.frames).toHaveLength(1);
  });
  const frame = daily.frames[0];
  const toolCall = {
    message_type: 'conversation',
    event_type: 'conversation.tool_call',
    conversation_id: 'tc1',
    properties: { name: 'play_video', tool_call_id: 'call_5', arguments: '{"video_title":"Pricing"}' },
  };
  act(() => {
    frame?.handlers.get('app-message')?.({ action: 'app-message', data: toolCall, fromId: 'tavus-replica' });
  });
  await waitFor(() => {
    expect(frame?.sent).toHaveLength(1);
  });
  expect(authorization(calls('POST', '/api/sessions/demo-d1/tool-calls')[0]?.[1])).toBe('Bearer token-1');
  expect(frame?.sent[0]).toEqual({
    to: '*',
    data: {
      message_type: 'conversation',
      event_type: 'conversation.tool_result',
      conversation_id: 'tc1',
      properties: { tool_call_id: 'call_5', output: 'Now playing "Pricing" for the viewer.', status: 'success' },
    },
  });
});
