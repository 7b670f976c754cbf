import { describe, expect, it } from 'vitest';

import { playFrame } from '../test/fakes';
import { parseHubFrame, toChannelEvent } from './events';

describe('parseHubFrame', () => {
  it('decodes play_video with its id and payload', () => {
    const frame = parseHubFrame(JSON.stringify(playFrame('e1')));
    expect(frame).toMatchObject({
      kind: 'play_video',
      id: 'e1',
      payload: { url: 'https://media.test/overview.mp4', title: 'Product Overview' },
    });
  });

  it('decodes session_ended, subscribed and pong', () => {
    const ended = { event: 'session_ended', payload: { conversation_id: 'c1', reason: 'participant_left_timeout' }, id: 'e2' };
    expect(parseHubFrame(JSON.stringify(ended))).toEqual({
      kind: 'session_ended',
      id: 'e2',
      payload: { conversation_id: 'c1', reason: 'participant_left_timeout' },
    });
    expect(parseHubFrame('{"event":"subscribed","payload":{"channel":"demo-d1"}}')).toEqual({ kind: 'subscribed' });
    expect(parseHubFrame('{"event":"pong"}')).toEqual({ kind: 'pong' });
  });

  it.each([
    ['not JSON', 'not json{'],
    ['binary', new ArrayBuffer(4)],
    ['a JSON array', '[1,2]'],
    ['an unknown event', '{"event":"dance","payload":{}}'],
    ['play_video without url', JSON.stringify({ event: 'play_video', payload: { title: 'x' }, id: 'e' })],
    ['play_video with a javascript: url', JSON.stringify(playFrame('e', { url: 'javascript:alert(1)' }))],
    ['play_video with a relative url', JSON.stringify(playFrame('e', { url: '/media/x.mp4' }))],
    ['a payload that is not an object', JSON.stringify({ event: 'play_video', payload: 'https://x.test/a.mp4' })],
  ])('ignores %s', (_, data) => {
    expect(parseHubFrame(data)).toBeNull();
  });

  it('gives a video without a title a neutral one, and tolerates missing ids', () => {
    const event = toChannelEvent('play_video', { url: 'https://x.test/a.mp4' }, undefined);
    expect(event).toEqual({
      kind: 'play_video',
      id: null,
      payload: {
        url: 'https://x.test/a.mp4',
        title: 'Demo video',
        video_id: null,
        demo_id: null,
        conversation_id: null,
        tool_call_id: null,
        expires_at: null,
      },
    });
  });
});
