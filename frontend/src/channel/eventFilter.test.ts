import { describe, expect, it } from 'vitest';

import { sampleVideo } from '../test/fakes';
import { createEventFilter, eventKey, RecentKeys } from './eventFilter';
import type { ChannelEvent } from './events';

const play = (id: string | null, overrides = {}): ChannelEvent => ({
  kind: 'play_video',
  id,
  payload: sampleVideo(overrides),
});

describe('createEventFilter', () => {
  it('acts on an event id once: retried deliveries and the replay on resubscribe are ignored', () => {
    const accepts = createEventFilter('c1');
    expect(accepts(play('e1'))).toBe(true);
    expect(accepts(play('e1', { url: 'https://media.test/other.mp4' }))).toBe(false);
    expect(accepts(play('e2'))).toBe(true);
  });

  it('dedupes by tool call when the transport gives no id (Supabase broadcasts)', () => {
    const accepts = createEventFilter('c1');
    expect(accepts(play(null, { tool_call_id: 'call_9' }))).toBe(true);
    expect(accepts(play(null, { tool_call_id: 'call_9' }))).toBe(false);
    expect(accepts(play(null, { tool_call_id: null }))).toBe(true);
    expect(accepts(play(null, { tool_call_id: null }))).toBe(true); // no identity: never a "repeat"
  });

  it('keeps to its conversation; events naming none are for every viewer of the demo', () => {
    const accepts = createEventFilter('c1');
    expect(accepts(play('a', { conversation_id: 'someone-else' }))).toBe(false);
    expect(accepts(play('b', { conversation_id: null }))).toBe(true);
    const ended = (conversation: string | null): ChannelEvent => ({
      kind: 'session_ended',
      id: null,
      payload: { conversation_id: conversation, reason: 'done' },
    });
    expect(accepts(ended('someone-else'))).toBe(false);
    expect(accepts(ended('c1'))).toBe(true);
    expect(accepts(ended('c1'))).toBe(false);
  });

  it('keys events by id first', () => {
    expect(eventKey(play('e1'))).toBe('id:e1');
    expect(eventKey(play(null))).toBe('tool_call:call_1');
  });
});

describe('RecentKeys', () => {
  it('forgets the oldest keys beyond its capacity', () => {
    const keys = new RecentKeys(2);
    expect(keys.add('a')).toBe(true);
    expect(keys.add('b')).toBe(true);
    expect(keys.add('c')).toBe(true);
    expect(keys.add('b')).toBe(false);
    expect(keys.add('a')).toBe(true);
  });
});
