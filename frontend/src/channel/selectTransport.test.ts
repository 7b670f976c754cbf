import { describe, expect, it, vi } from 'vitest';

import { parseSession } from '../api/client';
import { FakeWebSocket, sampleSession } from '../test/fakes';
import { createTransport } from './selectTransport';
import type { RealtimeJoin } from './supabaseTransport';

const renew = () => Promise.reject(new Error('not needed'));
const supabase = { url: 'https://project.supabase.test', anon_key: 'anon', private: true };

describe('createTransport', () => {
  it('uses the WebSocket hub when the session names it', () => {
    FakeWebSocket.reset();
    const transport = createTransport(sampleSession(), {
      renew,
      connect: (url) => new FakeWebSocket(url),
    });
    expect(transport.name).toBe('websocket');
    const stop = transport.subscribe({ onEvent: vi.fn(), onStateChange: vi.fn() });
    expect(FakeWebSocket.latest().url).toBe('ws://relay.test/ws/demo-d1?token=token-1');
    stop();
  });

  it('uses Supabase Realtime when the session names it, on the session channel and privacy', () => {
    const join = vi.fn<RealtimeJoin>(() => Promise.resolve(() => undefined));
    const transport = createTransport(sampleSession({ transport: 'supabase', supabase }), { renew, join });
    expect(transport.name).toBe('supabase');
    transport.subscribe({ onEvent: vi.fn(), onStateChange: vi.fn() })();
    expect(join).toHaveBeenCalledWith(
      expect.objectContaining({ access: supabase, topic: 'demo-d1', events: ['play_video', 'session_ended'] }),
    );
  });

  it('joins the topic the session names: on private channels the conversation\'s own', () => {
    const join = vi.fn<RealtimeJoin>(() => Promise.resolve(() => undefined));
    const access = { ...supabase, topic: 'demo-d1:c1', access_token: 'jwt-1' };
    const transport = createTransport(sampleSession({ transport: 'supabase', supabase: access }), { renew, join });
    transport.subscribe({ onEvent: vi.fn(), onStateChange: vi.fn() })();
    expect(join).toHaveBeenCalledWith(expect.objectContaining({ access, topic: 'demo-d1:c1' }));
  });

  it('falls back to the hub when "supabase" comes without credentials', () => {
    const transport = createTransport(sampleSession({ transport: 'supabase', supabase: null }), { renew });
    expect(transport.name).toBe('websocket');
  });

  it('reports disconnected when the session offers nothing usable', () => {
    const transport = createTransport(sampleSession({ websocket: null }), { renew });
    const onStateChange = vi.fn();
    transport.subscribe({ onEvent: vi.fn(), onStateChange });
    expect(onStateChange).toHaveBeenCalledWith('disconnected');
  });
});

describe('parseSession', () => {
  const wire = {
    channel: 'demo-d1',
    transport: 'websocket',
    demo_id: 'd1',
    conversation_id: 'c1',
    websocket: { url: 'ws://127.0.0.1:8000/ws/demo-d1', token: 't', expires_at: '2026-11-26T00:12:31+00:00' },
    supabase: null,
  };

  it('reads the backend response', () => {
    expect(parseSession(wire)).toEqual({ ...wire, websocket: { ...wire.websocket } });
  });

  it('reads Supabase access and treats unknown transports as the hub', () => {
    const withSupabase = parseSession({ ...wire, transport: 'supabase', supabase: { ...supabase, private: false } });
    expect(withSupabase.transport).toBe('supabase');
    expect(withSupabase.supabase).toEqual({
      ...supabase,
      private: false,
      topic: null,
      access_token: null,
      access_token_expires_at: null,
    });
    expect(parseSession({ ...wire, transport: 'carrier-pigeon' }).transport).toBe('websocket');
  });

  it('keeps the Realtime token of a private channel', () => {
    const access = {
      ...supabase,
      private: true,
      topic: 'demo-d1:c1',
      access_token: 'jwt-1',
      access_token_expires_at: '2026-12-01T12:00:00+00:00',
    };
    expect(parseSession({ ...wire, transport: 'supabase', supabase: access }).supabase).toEqual(access);
  });

  it('rejects a response without a channel', () => {
    expect(() => parseSession({ ...wire, channel: '' })).toThrow(/malformed/);
  });
});
