// The Daily app-message bridge (optional delivery path). Tavus's default way to deliver a tool call is an
// app-message in the conversation's Daily room (`event_type: "conversation.tool_call"`), which only the
// participants see. When the page embeds the room with daily-js it is such a participant, so it forwards
// those messages to the backend (POST /api/sessions/{channel}/tool-calls, authenticated by the session
// token), which runs the same use case as the webhook: the video then arrives over the channel as usual.
// Several viewers forward the same call; the backend dedupes it by its tool_call_id.

import { isObject } from '../api/guards';

export const TOOL_CALL_EVENT = 'conversation.tool_call';

/** True for a Tavus tool-call app-message (whatever the tool: the backend decides what it handles). */
export function isToolCallMessage(data: unknown): data is Record<string, unknown> {
  return isObject(data) && data.event_type === TOOL_CALL_EVENT && isObject(data.properties);
}

/** A Daily room URL (Tavus conversation URLs are `https://tavus.daily.co/<room>`). */
export function isDailyRoom(url: string): boolean {
  try {
    const { protocol, hostname } = new URL(url);
    return protocol === 'https:' && (hostname === 'daily.co' || hostname.endsWith('.daily.co'));
  } catch {
    return false;
  }
}

/** Forwards one tool-call app-message; resolves to the backend's status code (0 when unreachable). */
export async function forwardToolCall(channel: string, sessionToken: string, message: unknown): Promise<number> {
  try {
    const response = await fetch(`/api/sessions/${encodeURIComponent(channel)}/tool-calls`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json', Authorization: `Bearer ${sessionToken}` },
      body: JSON.stringify(message),
    });
    return response.status;
  } catch {
    return 0; // offline: the agent's call is lost for this viewer, as it would be without the bridge
  }
}
