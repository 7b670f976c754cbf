// Which channel events this page acts on. The channel is the demo's ("demo-<id>"), shared by every viewer
// of that demo, so the page keeps to its own conversation; and deliveries are at-least-once (retried
// webhooks, the current video replayed on every (re)subscribe), so an event id is acted on once.

import type { ChannelEvent } from './events';

/** Remembers the last `capacity` keys; old ones fall out so a long session doesn't grow without bound. */
export class RecentKeys {
  private readonly keys = new Set<string>();

  constructor(private readonly capacity = 256) {}

  /** True the first time a key is seen. */
  add(key: string): boolean {
    if (this.keys.has(key)) return false;
    this.keys.add(key);
    if (this.keys.size > this.capacity) {
      const oldest = this.keys.values().next();
      if (oldest.done !== true) this.keys.delete(oldest.value);
    }
    return true;
  }
}

/** The identity of an event for dedupe: the transport's id, else (Supabase broadcasts may carry none)
 * the tool call that caused it. Null: no identity, never treated as a repeat. */
export function eventKey(event: ChannelEvent): string | null {
  if (event.id !== null) return `id:${event.id}`;
  if (event.kind === 'play_video' && event.payload.tool_call_id !== null) {
    return `tool_call:${event.payload.tool_call_id}`;
  }
  if (event.kind === 'session_ended' && event.payload.conversation_id !== null) {
    return `ended:${event.payload.conversation_id}`;
  }
  return null;
}

/** Events of another conversation on the same demo are not ours; events naming no conversation
 * (per-demo callback URLs) are for every viewer of the demo. */
export function isForConversation(event: ChannelEvent, conversationId: string): boolean {
  const target = event.payload.conversation_id;
  return target === null || target === '' || target === conversationId;
}

export function createEventFilter(conversationId: string): (event: ChannelEvent) => boolean {
  const seen = new RecentKeys();
  return (event) => {
    if (!isForConversation(event, conversationId)) return false;
    const key = eventKey(event);
    return key === null || seen.add(key);
  };
}
