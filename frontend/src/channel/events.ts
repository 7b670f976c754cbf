// The events a demo channel carries (`play_video`, `session_ended`), decoded from untrusted frames. A frame
// that does not decode is dropped: one bad message must never break the page.

import { httpUrl, isObject, nonEmpty, str } from '../api/guards';

export interface PlayVideo {
  url: string;
  title: string;
  video_id: string | null;
  demo_id: string | null;
  conversation_id: string | null;
  tool_call_id: string | null;
  expires_at: string | null;
}

export interface SessionEnded {
  conversation_id: string | null;
  reason: string | null;
}

/** `id` is the hub's event id, stable across retried deliveries; null when the transport has none. */
export type ChannelEvent =
  | { kind: 'play_video'; id: string | null; payload: PlayVideo }
  | { kind: 'session_ended'; id: string | null; payload: SessionEnded };

export type HubFrame = ChannelEvent | { kind: 'subscribed' } | { kind: 'pong' };

export function parsePlayVideo(payload: unknown): PlayVideo | null {
  if (!isObject(payload)) return null;
  const url = httpUrl(payload.url);
  if (url === null) return null;
  return {
    url,
    title: nonEmpty(payload.title) ?? 'Demo video',
    video_id: str(payload.video_id),
    demo_id: str(payload.demo_id),
    conversation_id: str(payload.conversation_id),
    tool_call_id: str(payload.tool_call_id),
    expires_at: str(payload.expires_at),
  };
}

export function parseSessionEnded(payload: unknown): SessionEnded | null {
  if (payload !== undefined && payload !== null && !isObject(payload)) return null;
  const fields = isObject(payload) ? payload : {};
  return { conversation_id: str(fields.conversation_id), reason: str(fields.reason) };
}

/** Builds a channel event from an event name, a payload and an optional id; null when it is not one. */
export function toChannelEvent(event: unknown, payload: unknown, id: unknown): ChannelEvent | null {
  const eventId = nonEmpty(id);
  if (event === 'play_video') {
    const video = parsePlayVideo(payload);
    return video && { kind: 'play_video', id: eventId, payload: video };
  }
  if (event === 'session_ended') {
    const ended = parseSessionEnded(payload);
    return ended && { kind: 'session_ended', id: eventId, payload: ended };
  }
  return null;
}

/** One text frame of the WebSocket hub. Binary frames, bad JSON and unknown events give null. */
export function parseHubFrame(data: unknown): HubFrame | null {
  if (typeof data !== 'string') return null;
  let frame: unknown;
  try {
    frame = JSON.parse(data);
  } catch {
    return null;
  }
  if (!isObject(frame)) return null;
  if (frame.event === 'subscribed') return { kind: 'subscribed' };
  if (frame.event === 'pong') return { kind: 'pong' };
  return toChannelEvent(frame.event, frame.payload, frame.id);
}
