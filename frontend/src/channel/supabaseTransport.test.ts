import { describe, expect, it, vi } from 'vitest';

import { sampleVideo } from '../test/fakes';
import {
  currentRealtimeToken,
  RENEW_BEFORE_MS,
  supabaseJoin,
  supabaseTransport,
  type JoinRequest,
  type RealtimeJoin,
} from './supabaseTransport';
import type { ConnectionState } from './transport';

const ACCESS = { url: 'https://project.supabase.test', anon_key: 'anon-key', private: false };

// The real supabase-js chain, recorded: createClient(url, key).channel(topic, {config}).on(…).on(…).subscribe(cb)
const recorded = vi.hoisted(() => ({
  createClient: [] as unknown[][],
  channel: [] as unknown[][],
  on: [] as { type: string; filter: { event: string }; callback: (message: unknown) => void }[],
  subscribe: [] as ((status: string) => void)[],
  setAuth: [] as string[],
  removed: 0,
}));

vi.mock('@supabase/supabase-js', () => {
  const channel = {
    on(type: string, filter: { event: string }, callback: (message: unknown) => void) {
      recorded.on.push({ type, filter, callback });
      return channel;
    },
    subscribe(callback: (status: string) => void) {
      recorded.subscribe.push(callback);
      return channel;
    },
  };
  return {
    createClient: (...args: unknown[]) => {
      recorded.createClient.push(args);
      return {
        realtime: {
          setAuth: (token: string) => {
            recorded.setAuth.push(token);
            return Promise.resolve();
          },
        },
        channel: (...channelArgs: unknown[]) => {
          recorded.channel.push(channelArgs);
          return channel;
        },
        removeChannel: () => {
          recorded.removed += 1;
          return Promise.resolve('ok');
        },
      };
    },
  };
});

function fakeJoin() {
  let request: JoinRequest | undefined;
  const leave = vi.fn();
  const join = vi.fn<RealtimeJoin>((r) => {
    request = r;
    return Promise.resolve(leave);
  });
  const current = () => {
    if (request === undefined) throw new Error('not joined');
    return request;
  };
  return { join, leave, current };
}

describe('supabaseTransport', () => {
  it('maps channel statuses to connection states', async () => {
    const { join, current } = fakeJoin();
    const states: ConnectionState[] = [];
    supabaseTransport(ACCESS, 'demo-d1', join).subscribe({ onEvent: vi.fn(), onStateChange: (s) => states.push(s) });
    await Promise.resolve();
    for (const status of ['SUBSCRIBED', 'CHANNEL_ERROR', 'SUBSCRIBED', 'TIMED_OUT', 'SOMETHING_NEW', 'CLOSED']) {
      current().onStatus(status);
    }
    expect(states).toEqual(['connecting', 'connected', 'reconnecting', 'connected', 'reconnecting', 'disconnected']);
  });

  it('decodes broadcasts from `.payload`, with the message id when Realtime gives one', async () => {
    const { join, current } = fakeJoin();
    const onEvent = vi.fn();
    supabaseTransport(ACCESS, 'demo-d1', join).subscribe({ onEvent, onStateChange: vi.fn() });
    await Promise.resolve();
    current().onMessage('play_video', { payload: sampleVideo(), meta: { id: 'm1' } });
    current().onMessage('play_video', { payload: { ...sampleVideo(), event_id: 'e7' }, meta: { id: 'm2' } });
    current().onMessage('play_video', { payload: { title: 'no url' } });
    current().onMessage('session_ended', { payload: { conversation_id: 'c1', reason: 'bye' } });
    expect(onEvent.mock.calls.map(([event]: unknown[]) => event)).toEqual([
      { kind: 'play_video', id: 'm1', payload: sampleVideo() },
      { kind: 'play_video', id: 'e7', payload: sampleVideo() }, // the server's event id wins
      { kind: 'session_ended', id: null, payload: { conversation_id: 'c1', reason: 'bye' } },
    ]);
  });

  it('leaves the channel on unsubscribe, even when that comes before the join finished', async () => {
    const { join, leave, current } = fakeJoin();
    const onEvent = vi.fn();
    const stop = supabaseTransport(ACCESS, 'demo-d1', join).subscribe({ onEvent, onStateChange: vi.fn() });
    stop();
    await Promise.resolve();
    await Promise.resolve();
    expect(leave).toHaveBeenCalledTimes(1);
    current().onMessage('play_video', { payload: sampleVideo() });
    expect(onEvent).not.toHaveBeenCalled();
  });

  it('reports disconnected when supabase-js cannot be loaded', async () => {
    const states: ConnectionState[] = [];
    const join: RealtimeJoin = () => Promise.reject(new Error('chunk failed'));
    supabaseTransport(ACCESS, 'demo-d1', join).subscribe({ onEvent: vi.fn(), onStateChange: (s) => states.push(s) });
    await vi.waitFor(() => {
      expect(states).toEqual(['connecting', 'disconnected']);
    });
  });
});

describe('supabaseJoin (supabase-js)', () => {
  it('joins channel demo-<id> with the privacy flag and listens to both broadcast events', async () => {
    const messages: [string, unknown][] = [];
    const statuses: string[] = [];
    const leave = await supabaseJoin({
      access: { ...ACCESS, private: true },
      topic: 'demo-d1',
      events: ['play_video', 'session_ended'],
      onMessage: (event, message) => messages.push([event, message]),
      onStatus: (status) => statuses.push(status),
    });
    expect(recorded.createClient[0]?.slice(0, 2)).toEqual([ACCESS.url, ACCESS.anon_key]);
    expect(recorded.channel[0]).toEqual(['demo-d1', { config: { private: true } }]);
    expect(recorded.on.map(({ type, filter }) => [type, filter.event])).toEqual([
      ['broadcast', 'play_video'],
      ['broadcast', 'session_ended'],
    ]);
    recorded.on[0]?.callback({ type: 'broadcast', event: 'play_video', payload: { url: 'u' } });
    recorded.subscribe[0]?.('SUBSCRIBED');
    expect(messages).toEqual([['play_video', { type: 'broadcast', event: 'play_video', payload: { url: 'u' } }]]);
    expect(statuses).toEqual(['SUBSCRIBED']);
    expect(recorded.setAuth).toEqual([]); // no token handed out: nothing to set
    leave();
    expect(recorded.removed).toBe(1);
  });

  it('sets the Realtime token before joining a private channel', async () => {
    await supabaseJoin({
      access: { ...ACCESS, url: 'https://private.supabase.test', private: true, access_token: 'jwt-1' },
      topic: 'demo-d2',
      events: ['play_video'],
      onMessage: vi.fn(),
      onStatus: vi.fn(),
    });
    expect(recorded.setAuth).toEqual(['jwt-1']);
    expect(recorded.channel.at(-1)).toEqual(['demo-d2', { config: { private: true } }]);
  });

  it('answers supabase-js\'s later token requests (reconnects, rejoins, heartbeats) with the session\'s token, not the anon key', async () => {
    const access = { ...ACCESS, url: 'https://refresh.supabase.test' };
    const tokenOf = () => {
      const created = recorded.createClient.find(([url]) => url === access.url);
      const options = created?.[2] as { accessToken?: () => Promise<string | null>; auth?: unknown } | undefined;
      expect(options?.auth).toBeUndefined(); // with accessToken, supabase-js makes no auth client
      if (!options?.accessToken) throw new Error('createClient without an accessToken callback');
      return options.accessToken();
    };
    const request = { topic: 'demo-d3', events: ['play_video'], onMessage: vi.fn(), onStatus: vi.fn() };
    await supabaseJoin({ ...request, access });
    await expect(tokenOf()).resolves.toBeNull(); // public: supabase-js falls back to the anon key
    await supabaseJoin({ ...request, access: { ...access, private: true, access_token: 'jwt-2' } });
    await expect(tokenOf()).resolves.toBe('jwt-2');
    await supabaseJoin({ ...request, access: { ...access, private: true, access_token: 'jwt-3' } });
    await expect(tokenOf()).resolves.toBe('jwt-3'); // a newer session's token supersedes
    expect(recorded.createClient.filter(([url]) => url === access.url)).toHaveLength(1);
  });

  it('renews a private token shortly before it expires, once, and keeps the old one if renewal fails', async () => {
    const url = 'https://renew.supabase.test';
    const key = `${url}\n${ACCESS.anon_key}`;
    const expiresAt = Date.parse('2026-12-01T12:00:00Z');
    const renew = vi.fn(() =>
      Promise.resolve({
        ...ACCESS,
        url,
        private: true,
        access_token: 'jwt-2',
        access_token_expires_at: '2026-12-01T13:00:00Z',
      }),
    );
    await supabaseJoin({
      access: { ...ACCESS, url, private: true, access_token: 'jwt-1', access_token_expires_at: '2026-12-01T12:00:00Z' },
      renew,
      topic: 'demo-d3',
      events: ['play_video'],
      onMessage: vi.fn(),
      onStatus: vi.fn(),
    });
    // Far from expiry: the token as issued, nothing renewed.
    expect(await currentRealtimeToken(key, () => expiresAt - RENEW_BEFORE_MS - 1)).toBe('jwt-1');
    expect(renew).not.toHaveBeenCalled();
    // Close to it: concurrent asks share one renewal and get the new token.
    const near = () => expiresAt - 1000;
    expect(await Promise.all([currentRealtimeToken(key, near), currentRealtimeToken(key, near)])).toEqual([
      'jwt-2',
      'jwt-2',
    ]);
    expect(renew).toHaveBeenCalledTimes(1);
    // The new token is good until 13:00; a failing renewal near that keeps it rather than dropping it.
    renew.mockImplementationOnce(() => Promise.reject(new Error('offline')));
    expect(await currentRealtimeToken(key, () => Date.parse('2026-12-01T12:59:30Z'))).toBe('jwt-2');
    expect(renew).toHaveBeenCalledTimes(2);
  });

  it('answers no token for a project without a private session (supabase-js then uses the anon key)', async () => {
    expect(await currentRealtimeToken('https://public.supabase.test\nanon-key')).toBeNull();
  });
});
