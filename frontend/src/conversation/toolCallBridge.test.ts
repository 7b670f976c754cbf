import { afterEach, describe, expect, it, vi } from 'vitest';

import {
  bridgeToolCall,
  forwardToolCall,
  isDailyRoom,
  isToolCallMessage,
  type ConversationMessage,
} from './toolCallBridge';

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

const json = (body: unknown, status = 200) =>
  new Response(JSON.stringify(body), { status, headers: { 'Content-Type': 'application/json' } });

describe('forwardToolCall', () => {
  afterEach(() => {
    vi.unstubAllGlobals();
  });

  it('posts the message to the channel with the session token and returns the status and body', async () => {
    const fetchMock = vi.fn<typeof fetch>(() => Promise.resolve(json({ error: 'video_not_found' }, 404)));
    vi.stubGlobal('fetch', fetchMock);
    expect(await forwardToolCall('demo-d 1', 'tok', { event_type: 'conversation.tool_call' })).toEqual({
      status: 404,
      body: { error: 'video_not_found' },
    });
    const [url, init] = fetchMock.mock.calls[0] ?? [];
    expect(url).toBe('/api/sessions/demo-d%201/tool-calls');
    expect(init?.method).toBe('POST');
    expect(new Headers(init?.headers).get('Authorization')).toBe('Bearer tok');
    expect(init?.body).toBe('{"event_type":"conversation.tool_call"}');
  });

  it('answers status 0 when the backend cannot be reached, and a null body when it sent no JSON', async () => {
    vi.stubGlobal('fetch', () => Promise.reject(new TypeError('offline')));
    expect(await forwardToolCall('demo-d1', 'tok', {})).toEqual({ status: 0, body: null });
    vi.stubGlobal('fetch', () => Promise.resolve(new Response('Bad Gateway', { status: 502 })));
    expect(await forwardToolCall('demo-d1', 'tok', {})).toEqual({ status: 502, body: null });
  });
});

/** daily-js's call object as the bridge uses it: sendAppMessage(data, to), recorded. */
function fakeCall() {
  const sent: { data: ConversationMessage; to: string }[] = [];
  return {
    sent,
    sendAppMessage(data: ConversationMessage, to: string) {
      sent.push({ data, to });
    },
  };
}

describe('bridgeToolCall: the answer back to the agent', () => {
  afterEach(() => {
    vi.unstubAllGlobals();
  });

  const toolCall = (properties: Record<string, unknown>, top: Record<string, unknown> = {}) => ({
    message_type: 'conversation',
    event_type: 'conversation.tool_call',
    conversation_id: 'c1',
    properties: { name: 'play_video', arguments: '{"video_title":"Pricing"}', ...properties },
    ...top,
  });

  async function bridge(answer: Response | Error, call: Record<string, unknown>) {
    vi.stubGlobal('fetch', () => (answer instanceof Error ? Promise.reject(answer) : Promise.resolve(answer)));
    const daily = fakeCall();
    await bridgeToolCall('demo-d1', 'tok', call, (message) => {
      daily.sendAppMessage(message, '*');
    }, 'page-conversation');
    return daily.sent;
  }

  it('played: a conversation.tool_result with the backend\'s output, to everyone in the room', async () => {
    const played = { status: 'played', output: 'Now playing "Pricing" for the viewer.', video: { title: 'Pricing' } };
    expect(await bridge(json(played), toolCall({ tool_call_id: 'call_7' }))).toEqual([
      {
        to: '*',
        data: {
          message_type: 'conversation',
          event_type: 'conversation.tool_result',
          conversation_id: 'c1',
          properties: { tool_call_id: 'call_7', output: 'Now playing "Pricing" for the viewer.', status: 'success' },
        },
      },
    ]);
  });

  it('takes a top-level tool_call_id, and the page\'s conversation when the call names none', async () => {
    const call = toolCall({}, { tool_call_id: 'call_top', conversation_id: undefined });
    const [sent] = await bridge(json({ status: 'played', output: 'Now playing "X" for the viewer.' }), call);
    expect(sent?.data.conversation_id).toBe('page-conversation');
    expect(sent?.data.properties.tool_call_id).toBe('call_top');
  });

  it('a legacy call without a tool_call_id: the output joins the agent\'s context instead', async () => {
    expect(await bridge(json({ status: 'played', output: 'Now playing "Pricing" for the viewer.' }), toolCall({}))).toEqual([
      {
        to: '*',
        data: {
          message_type: 'conversation',
          event_type: 'conversation.append_llm_context',
          conversation_id: 'c1',
          properties: { context: 'Now playing "Pricing" for the viewer.' },
        },
      },
    ]);
  });

  it('video_not_found: an error result naming the real titles, so the agent can call again', async () => {
    const missing = {
      error: 'video_not_found',
      message: 'no video titled "Pricng"',
      video_title: 'Pricng',
      suggestions: ['Pricing', 'Product Overview', 'Integrations tour'],
    };
    const [sent, ...more] = await bridge(json(missing, 404), toolCall({ tool_call_id: 'call_8' }));
    expect(more).toEqual([]);
    expect(sent?.data.event_type).toBe('conversation.tool_result');
    expect(sent?.data.properties.status).toBe('error');
    expect(sent?.data.properties.tool_call_id).toBe('call_8');
    expect(sent?.data.properties.output).toBe(
      'There is no video titled "Pricng". Titles you can play: "Pricing", "Product Overview", "Integrations tour". ' +
        'Call play_video again with one of them.',
    );
  });

  it('other failures: an error result with the server\'s message, or why there is none', async () => {
    const [refused] = await bridge(
      json({ error: 'forbidden', message: 'the conversation has ended' }, 403),
      toolCall({ tool_call_id: 'call_9' }),
    );
    expect(refused?.data.properties).toEqual({
      tool_call_id: 'call_9',
      status: 'error',
      output: 'The video could not be played: the conversation has ended.',
    });
    const [offline] = await bridge(new TypeError('offline'), toolCall({ tool_call_id: 'call_10' }));
    expect(offline?.data.properties.status).toBe('error');
    expect(offline?.data.properties.output).toMatch(/could not reach/);
  });

  it('duplicate (another viewer answered) and ignored (not our tool): nothing is sent', async () => {
    expect(await bridge(json({ status: 'duplicate' }), toolCall({ tool_call_id: 'call_1' }))).toEqual([]);
    expect(await bridge(json({ status: 'ignored' }, 202), toolCall({ name: 'other', tool_call_id: 'call_2' }))).toEqual([]);
  });
});
