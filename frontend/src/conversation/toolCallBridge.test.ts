import { afterEach, describe, expect, it, vi } from 'vitest';

import { forwardToolCall, isDailyRoom, isToolCallMessage } from './toolCallBridge';

describe('isDailyRoom', () => {
  it('accepts https Daily rooms only', () => {
    expect(isDailyRoom('https://tavus.daily.co/c7f3a1b2e9d0')).toBe(true);
    expect(isDailyRoom('https://daily.co/room')).toBe(true);
    expect(isDailyRoom('http://tavus.daily.co/room')).toBe(false);
    expect(isDailyRoom('https://daily.co.evil.example/room')).toBe(false);
    expect(isDailyRoom('https://evildaily.co/room')).toBe(false);
    expect(isDailyRoom('not a url')).toBe(false);
  });
});

describe('isToolCallMessage', () => {
  it('recognises Tavus tool-call app-messages', () => {
    expect(isToolCallMessage({ event_type: 'conversation.tool_call', properties: { name: 'play_video' } })).toBe(true);
    expect(isToolCallMessage({ event_type: 'conversation.tool_call' })).toBe(false);
    expect(isToolCallMessage({ event_type: 'conversation.utterance', properties: {} })).toBe(false);
    expect(isToolCallMessage('conversation.tool_call')).toBe(false);
    expect(isToolCallMessage(null)).toBe(false);
  });
});

describe('forwardToolCall', () => {
  afterEach(() => {
    vi.unstubAllGlobals();
  });

  it('posts the message to the channel with the session token and returns the status', async () => {
    const fetchMock = vi.fn<typeof fetch>(() => Promise.resolve(new Response('{}', { status: 404 })));
    vi.stubGlobal('fetch', fetchMock);
    expect(await forwardToolCall('demo-d 1', 'tok', { event_type: 'conversation.tool_call' })).toBe(404);
    const [url, init] = fetchMock.mock.calls[0] ?? [];
    expect(url).toBe('/api/sessions/demo-d%201/tool-calls');
    expect(init?.method).toBe('POST');
    expect(new Headers(init?.headers).get('Authorization')).toBe('Bearer tok');
    expect(init?.body).toBe('{"event_type":"conversation.tool_call"}');
  });

  it('answers 0 when the backend cannot be reached', async () => {
    vi.stubGlobal('fetch', () => Promise.reject(new TypeError('offline')));
    expect(await forwardToolCall('demo-d1', 'tok', {})).toBe(0);
  });
});
