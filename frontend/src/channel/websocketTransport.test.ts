import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';

import type { WebSocketAccess } from '../api/types';
import { FAR_FUTURE, FakeWebSocket, playFrame } from '../test/fakes';
import type { ChannelHandlers, ConnectionState } from './transport';
import { backoffDelay, websocketTransport, type WebSocketTransportOptions } from './websocketTransport';

const ACCESS: WebSocketAccess = { url: 'ws://relay.test/ws/demo-d1', token: 'token-1', expires_at: FAR_FUTURE };

function listen(options: Partial<WebSocketTransportOptions> = {}) {
  const states: ConnectionState[] = [];
  const events: unknown[] = [];
  const handlers: ChannelHandlers = {
    onEvent: (event) => events.push(event),
    onStateChange: (state) => states.push(state),
  };
  const renew = vi.fn(() => Promise.resolve({ ...ACCESS, token: 'token-2' }));
  const transport = websocketTransport({
    access: ACCESS,
    renew,
    connect: (url) => new FakeWebSocket(url),
    random: () => 0.5, // equal jitter at 0.5: every delay is 3/4 of its ceiling
    network: null,
    ...options,
  });
  const stop = transport.subscribe(handlers);
  return { states, events, renew, stop };
}

beforeEach(() => {
  vi.useFakeTimers();
  FakeWebSocket.reset();
});

afterEach(() => {
  vi.useRealTimers();
});

describe('backoffDelay', () => {
  it('doubles from the base, caps, and jitters within [ceiling/2, ceiling]', () => {
    const policy = { baseMs: 500, maxMs: 30_000 };
    expect([0, 1, 2, 3].map((n) => backoffDelay(n, policy, () => 1))).toEqual([500, 1000, 2000, 4000]);
    expect(backoffDelay(20, policy, () => 1)).toBe(30_000);
    expect(backoffDelay(20, policy, () => 0)).toBe(15_000);
    expect(backoffDelay(1000, policy, () => 0.5)).toBe(22_500); // huge attempt counts don't overflow
  });
});

describe('websocketTransport', () => {
  it('connects with the token and reports connected on `subscribed`', () => {
    const { states } = listen();
    const socket = FakeWebSocket.latest();
    expect(socket.url).toBe('ws://relay.test/ws/demo-d1?token=token-1');
    expect(states).toEqual(['connecting']);
    socket.accept();
    expect(states).toEqual(['connecting', 'connected']);
  });

  it('passes events on and skips malformed frames', () => {
    const { events } = listen();
    const socket = FakeWebSocket.latest();
    socket.accept();
    socket.receive('garbage');
    socket.receive({ event: 'play_video', payload: { url: 42 } });
    socket.receive(playFrame('e1'));
    socket.receive({ event: 'session_ended', payload: { conversation_id: 'c1', reason: 'bye' }, id: 'e2' });
    expect(events).toMatchObject([
      { kind: 'play_video', id: 'e1' },
      { kind: 'session_ended', id: 'e2', payload: { reason: 'bye' } },
    ]);
  });

  it('reconnects with capped exponential backoff, reusing the token, and resets after subscribing', async () => {
    const { states } = listen();
    FakeWebSocket.latest().drop();
    expect(states.at(-1)).toBe('reconnecting');

    // Delays at random()=0.5: 375, 750, 1500 ms …
    for (const delay of [375, 750, 1500]) {
      const count = FakeWebSocket.instances.length;
      await vi.advanceTimersByTimeAsync(delay - 1);
      expect(FakeWebSocket.instances).toHaveLength(count);
      await vi.advanceTimersByTimeAsync(1);
      expect(FakeWebSocket.instances).toHaveLength(count + 1);
      expect(FakeWebSocket.latest().token).toBe('token-1');
      FakeWebSocket.latest().drop();
    }

    // … until a connection succeeds, after which the next drop starts from the base again.
    await vi.advanceTimersByTimeAsync(3000);
    FakeWebSocket.latest().accept();
    expect(states.at(-1)).toBe('connected');
    FakeWebSocket.latest().drop();
    const count = FakeWebSocket.instances.length;
    await vi.advanceTimersByTimeAsync(375);
    expect(FakeWebSocket.instances).toHaveLength(count + 1);
  });

  it('reconnects with since=<the last event id>, so a hub with a log replays exactly what was missed', async () => {
    listen();
    const first = FakeWebSocket.latest();
    first.accept();
    first.receive(playFrame('e1'));
    first.receive({ event: 'session_ended', payload: { conversation_id: 'c1', reason: 'bye' }, id: 'e2' });
    first.receive({ event: 'pong' });
    first.drop(1001);
    await vi.advanceTimersByTimeAsync(375);
    const url = new URL(FakeWebSocket.latest().url);
    expect(url.searchParams.get('since')).toBe('e2');
    expect(url.searchParams.get('token')).toBe('token-1');
  });

  it('never waits longer than the cap', async () => {
    listen({ backoff: { baseMs: 1000, maxMs: 4000 } });
    for (let i = 0; i < 8; i += 1) {
      const count = FakeWebSocket.instances.length;
      FakeWebSocket.latest().drop();
      await vi.advanceTimersByTimeAsync(3000); // 3/4 of the 4 s cap
      expect(FakeWebSocket.instances).toHaveLength(count + 1);
    }
  });

  it('re-creates the session once the token has expired', async () => {
    const expiresAt = Date.now() + 60_000;
    const { renew } = listen({ access: { ...ACCESS, expires_at: new Date(expiresAt).toISOString() } });
    expect(FakeWebSocket.latest().token).toBe('token-1');
    vi.setSystemTime(expiresAt + 1);
    FakeWebSocket.latest().drop();
    await vi.advanceTimersByTimeAsync(375);
    expect(renew).toHaveBeenCalledTimes(1);
    expect(FakeWebSocket.latest().token).toBe('token-2');
  });

  it('re-creates the session when the hub refuses the token (4401)', async () => {
    const { renew } = listen();
    FakeWebSocket.latest().drop(4401);
    await vi.advanceTimersByTimeAsync(375);
    expect(renew).toHaveBeenCalledTimes(1);
    expect(FakeWebSocket.latest().token).toBe('token-2');
  });

  it('keeps backing off while the session cannot be renewed', async () => {
    const renew = vi.fn(() => Promise.reject(new Error('server down')));
    const { states } = listen({ renew, access: { ...ACCESS, expires_at: '2000-01-01T00:00:00Z' } });
    await vi.advanceTimersByTimeAsync(0);
    expect(FakeWebSocket.instances).toHaveLength(0);
    expect(states).toEqual(['connecting', 'reconnecting']);
    await vi.advanceTimersByTimeAsync(375 + 750);
    expect(renew).toHaveBeenCalledTimes(3);
    expect(states.at(-1)).toBe('reconnecting');
  });

  it('pings, and treats a silent connection as dead', async () => {
    const { states } = listen({ pingEveryMs: 1000, silenceMs: 500 });
    const socket = FakeWebSocket.latest();
    socket.accept();
    await vi.advanceTimersByTimeAsync(1000);
    expect(socket.sent).toEqual(['{"type":"ping"}']);
    socket.receive({ event: 'pong' });
    await vi.advanceTimersByTimeAsync(1000);
    expect(socket.sent).toHaveLength(2);
    await vi.advanceTimersByTimeAsync(1000); // no pong for 2 s > 1 s + 0.5 s
    expect(socket.closedWith?.code).toBe(4000);
    expect(states.at(-1)).toBe('reconnecting');
    await vi.advanceTimersByTimeAsync(375);
    expect(FakeWebSocket.instances).toHaveLength(2);
  });

  it('stops for good on unsubscribe: socket closed, no retries, no more callbacks', async () => {
    const { states, events, stop } = listen();
    const socket = FakeWebSocket.latest();
    socket.accept();
    stop();
    expect(socket.closedWith).toEqual({ code: 1000, reason: 'unsubscribed' });
    socket.receive(playFrame('late'));
    socket.drop();
    await vi.advanceTimersByTimeAsync(60_000);
    expect(FakeWebSocket.instances).toHaveLength(1);
    expect(events).toEqual([]);
    expect(states).toEqual(['connecting', 'connected']);
  });

  it('lets a still-connecting socket open before closing it (no browser warning)', () => {
    const { stop } = listen();
    const socket = FakeWebSocket.latest();
    stop();
    expect(socket.closedWith).toBeNull();
    socket.readyState = 1;
    socket.onopen?.(new Event('open'));
    expect(socket.closedWith).toEqual({ code: 1000, reason: 'unsubscribed' });
  });

  it('retries at once when the network comes back', async () => {
    const network = new EventTarget();
    listen({ network, backoff: { baseMs: 10_000, maxMs: 60_000 } });
    FakeWebSocket.latest().drop();
    expect(FakeWebSocket.instances).toHaveLength(1);
    network.dispatchEvent(new Event('online'));
    await vi.advanceTimersByTimeAsync(0);
    expect(FakeWebSocket.instances).toHaveLength(2);
  });
});
