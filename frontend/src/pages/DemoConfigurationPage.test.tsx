// The page end to end in jsdom: HTTP and the hub faked at their boundaries (fetch, WebSocket).

import { act, fireEvent, render, screen, waitFor } from '@testing-library/react';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';

import { App } from '../App';
import { daily, resetDaily } from '../test/daily';
import { FakeWebSocket, playFrame } from '../test/fakes';

vi.mock('@daily-co/daily-js', () => import('../test/daily').then((m) => m.dailyModule));

const DEMO = {
  id: 'd1',
  name: 'Acme Analytics product tour',
  videos: [{ id: 'v1', title: 'Product Overview', duration_s: 6 }],
};

function session(conversationId: string) {
  return {
    channel: 'demo-d1',
    transport: 'websocket',
    demo_id: 'd1',
    conversation_id: conversationId,
    websocket: { url: 'ws://relay.test/ws/demo-d1', token: 'token-1', expires_at: '2999-01-01T00:00:00Z' },
    supabase: null,
  };
}

const json = (body: unknown, status = 200) =>
  new Response(JSON.stringify(body), { status, headers: { 'Content-Type': 'application/json' } });

let fetchMock: ReturnType<typeof vi.fn<typeof fetch>>;

beforeEach(() => {
  FakeWebSocket.reset();
  vi.stubGlobal('WebSocket', FakeWebSocket);
  fetchMock = vi.fn<typeof fetch>((input, init) => {
    const url = typeof input === 'string' ? input : input instanceof URL ? input.href : input.url;
    if (url === '/api/demos/d1' && init?.method === undefined) return Promise.resolve(json(DEMO));
    if (url === '/api/demos/d1/sessions' && init?.method === 'POST') {
      const body = JSON.parse(init.body as string) as { conversation_id: string };
      return Promise.resolve(json(session(body.conversation_id), 201));
    }
    return Promise.resolve(json({ error: 'not_found' }, 404));
  });
  vi.stubGlobal('fetch', fetchMock);
});

afterEach(() => {
  vi.unstubAllGlobals();
  window.history.replaceState(null, '', '/');
});

async function openDemoPage(query: string) {
  window.history.replaceState(null, '', `/demos/d1${query}`);
  const view = render(<App />);
  await waitFor(() => {
    expect(FakeWebSocket.instances).toHaveLength(1);
  });
  return { ...view, socket: FakeWebSocket.latest() };
}

const connection = () => screen.getByTestId('connection-state').textContent;
const conversation = () => screen.getByTestId('conversation');
const videoSrc = () => screen.getByTestId('video-player').querySelector('video')?.getAttribute('src');

describe('DemoConfigurationPage', () => {
  it('creates a session for ?conversation_id= and shows the connection state', async () => {
    const { socket } = await openDemoPage('?conversation_id=c7f3a1b2e9d0');
    expect(fetchMock).toHaveBeenCalledWith(
      '/api/demos/d1/sessions',
      expect.objectContaining({ method: 'POST', body: JSON.stringify({ conversation_id: 'c7f3a1b2e9d0' }) }),
    );
    expect(socket.url).toBe('ws://relay.test/ws/demo-d1?token=token-1');
    expect(connection()).toBe('connecting');
    act(() => {
      socket.accept();
    });
    expect(connection()).toBe('connected');
    expect(screen.queryByTestId('video-player')).toBeNull();
    act(() => {
      socket.drop();
    });
    expect(connection()).toBe('reconnecting');
  });

  it('plays, dedupes, ignores junk and other conversations, replaces, and ends with session_ended', async () => {
    const { socket } = await openDemoPage('?conversation_id=c1');
    act(() => {
      socket.accept();
      socket.receive(playFrame('e1', { url: 'https://media.test/one.mp4', title: 'One' }));
    });
    expect(videoSrc()).toBe('https://media.test/one.mp4');
    expect(conversation().className).toContain('conversation--minimized');

    act(() => {
      socket.receive(playFrame('e1', { url: 'https://media.test/repeat.mp4' })); // a retried delivery
      socket.receive('{"event":"play_video","payload":'); // malformed
      socket.receive(playFrame('e9', { url: 'https://media.test/theirs.mp4', conversation_id: 'other' }));
    });
    expect(videoSrc()).toBe('https://media.test/one.mp4');

    act(() => {
      socket.receive(playFrame('e2', { url: 'https://media.test/two.mp4', title: 'Two' }));
    });
    expect(videoSrc()).toBe('https://media.test/two.mp4');
    expect(screen.getAllByTestId('video-player')).toHaveLength(1);

    act(() => {
      socket.receive({ event: 'session_ended', payload: { conversation_id: 'c1', reason: 'shutdown' }, id: 'e3' });
    });
    expect(screen.queryByTestId('video-player')).toBeNull();
    expect(conversation().className).not.toContain('conversation--minimized');
    expect(screen.getAllByText(/conversation has ended/i).length).toBeGreaterThan(0);
  });

  it('restores the layout when the video ends, and moves focus to the conversation on close', async () => {
    const { socket } = await openDemoPage('?conversation_id=c1');
    act(() => {
      socket.accept();
      socket.receive(playFrame('e1'));
    });
    const video = screen.getByTestId('video-player').querySelector('video');
    if (video === null) throw new Error('no video');
    fireEvent.ended(video);
    expect(screen.queryByTestId('video-player')).toBeNull();
    expect(conversation().className).not.toContain('conversation--minimized');

    act(() => {
      socket.receive(playFrame('e2'));
    });
    fireEvent.click(screen.getByRole('button', { name: 'Close video' }));
    expect(screen.queryByTestId('video-player')).toBeNull();
    expect(document.activeElement).toBe(conversation());
  });

  it('unsubscribes when the page goes away', async () => {
    const { socket, unmount } = await openDemoPage('?conversation_id=c1');
    act(() => {
      socket.accept();
    });
    unmount();
    expect(socket.closedWith?.code).toBe(1000);
  });

  it('shows a conversation URL in an iframe, and never a script URL', async () => {
    const { unmount } = await openDemoPage('?conversation_id=c1&conversation_url=https%3A%2F%2Fmeet.example%2Fabc');
    const frame = conversation().querySelector('iframe');
    expect(frame?.getAttribute('src')).toBe('https://meet.example/abc');
    expect(frame?.getAttribute('allow')).toBe('camera; microphone; autoplay; display-capture');
    unmount();
    FakeWebSocket.reset();

    await openDemoPage('?conversation_id=c1&conversation_url=javascript%3Aalert(1)');
    expect(conversation().querySelector('iframe')).toBeNull();
  });

  it("sends a viewer link's grant with the session request", async () => {
    await openDemoPage('?conversation_id=try-1&grant=g.r.ant');
    expect(fetchMock).toHaveBeenCalledWith(
      '/api/demos/d1/sessions',
      expect.objectContaining({ body: JSON.stringify({ conversation_id: 'try-1', grant: 'g.r.ant' }) }),
    );
  });

  it('says plainly when the link does not open the demo (no, expired or foreign grant)', async () => {
    fetchMock.mockImplementation((input, init) => {
      const url = typeof input === 'string' ? input : input instanceof URL ? input.href : input.url;
      if (url === '/api/demos/d1' && init?.method === undefined) return Promise.resolve(json(DEMO));
      return Promise.resolve(json({ error: 'unauthorized', message: 'the viewer link has expired' }, 401));
    });
    window.history.replaceState(null, '', '/demos/d1?conversation_id=c1&grant=old');
    render(<App />);
    expect(await screen.findByText('Ask for a new viewer link')).toBeTruthy();
    expect(screen.queryByText('Try again')).toBeNull();
    expect(FakeWebSocket.instances).toHaveLength(0);
  });

  it('frames a conversation URL only once the server has accepted it', async () => {
    fetchMock.mockImplementation((input, init) => {
      const url = typeof input === 'string' ? input : input instanceof URL ? input.href : input.url;
      if (url === '/api/demos/d1' && init?.method === undefined) return Promise.resolve(json(DEMO));
      const refused = { error: 'invalid_request', field: 'conversation_url', message: 'not an allowed host' };
      return Promise.resolve(json(refused, 422));
    });
    window.history.replaceState(null, '', '/demos/d1?conversation_id=c1&conversation_url=https%3A%2F%2Flogin.example%2Fx');
    render(<App />);
    await screen.findByText('Could not start the session.');
    expect(conversation().querySelector('iframe')).toBeNull();
    expect(FakeWebSocket.instances).toHaveLength(0);
  });

  it('embeds a Daily room with daily-js and forwards its Tavus tool calls, and only those', async () => {
    resetDaily();
    const { socket, unmount } = await openDemoPage(
      '?conversation_id=c1&conversation_url=https%3A%2F%2Ftavus.daily.co%2Fabc',
    );
    act(() => {
      socket.accept();
    });
    await waitFor(() => {
      expect(daily.frames).toHaveLength(1);
    });
    const [frame] = daily.frames;
    if (frame === undefined) throw new Error('no Daily frame');
    expect(conversation().contains(frame.parent)).toBe(true);
    expect(frame.joined).toEqual(['https://tavus.daily.co/abc']);

    const toolCall = {
      message_type: 'conversation',
      event_type: 'conversation.tool_call',
      conversation_id: 'c1',
      properties: { name: 'play_video', tool_call_id: 'call_1', arguments: '{"video_title":"Product Overview"}' },
    };
    act(() => {
      frame.handlers.get('app-message')?.({ action: 'app-message', data: { event_type: 'conversation.utterance' } });
      frame.handlers.get('app-message')?.({ action: 'app-message', data: toolCall, fromId: 'tavus' });
    });
    await waitFor(() => {
      expect(fetchMock).toHaveBeenCalledWith(
        '/api/sessions/demo-d1/tool-calls',
        expect.objectContaining({ method: 'POST', body: JSON.stringify(toolCall) }),
      );
    });
    const forwarded = fetchMock.mock.calls.filter(([url]) => typeof url === 'string' && url.endsWith('/tool-calls'));
    expect(forwarded).toHaveLength(1);
    expect(new Headers(forwarded[0]?.[1]?.headers).get('Authorization')).toBe('Bearer token-1');
    // The backend refused it (this fake answers 404): the agent hears that nothing plays.
    await waitFor(() => {
      expect(frame.sent.map(({ data }) => data)).toEqual([
        expect.objectContaining({
          event_type: 'conversation.tool_result',
          properties: expect.objectContaining({ tool_call_id: 'call_1', status: 'error' }) as unknown,
        }),
      ]);
    });
    unmount();
    expect(daily.destroyed).toBeGreaterThan(0);
  });

  it('asks for the conversation when the address has none', async () => {
    window.history.replaceState(null, '', '/demos/d1');
    render(<App />);
    expect(screen.queryByTestId('conversation')).toBeNull();
    fireEvent.change(screen.getByLabelText('Conversation id'), { target: { value: ' c42 ' } });
    fireEvent.click(screen.getByRole('button', { name: 'Start session' }));
    await waitFor(() => {
      expect(FakeWebSocket.instances).toHaveLength(1);
    });
    expect(window.location.search).toBe('?conversation_id=c42');
    expect(screen.getByTestId('conversation')).toBeTruthy();
  });

  it('explains an unknown demo', async () => {
    window.history.replaceState(null, '', '/demos/nope?conversation_id=c1');
    render(<App />);
    expect(await screen.findByText('There is no demo with this id')).toBeTruthy();
  });
});
