// The Daily app-message bridge (optional delivery path). Tavus's default way to deliver a tool call is an
// app-message in the conversation's Daily room (`event_type: "conversation.tool_call"`), which only the
// participants see. When the page embeds the room with daily-js it is such a participant, so it forwards
// those messages to the backend (POST /api/sessions/{channel}/tool-calls, authenticated by the session
// token), which runs the same use case as the webhook: the video then arrives over the channel as usual.
// Several viewers forward the same call; the backend dedupes it by its tool_call_id.
//
// An app-message tool has no HTTP answer the agent could read, so the page answers in the room itself
// (DESIGN §12): a `conversation.tool_result` with the backend's `output` tells the agent the video is on
// screen, or why not (a wrong title comes back with the real ones, so the agent can call again).

import { isObject, nonEmpty, str } from '../api/guards';

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

/** The backend's answer to a forwarded tool call: status 0 (and no body) when it could not be reached. */
export interface ForwardResult {
  status: number;
  body: unknown;
}

/** Forwards one tool-call app-message; resolves to the backend's status and parsed JSON body. */
export async function forwardToolCall(channel: string, sessionToken: string, message: unknown): Promise<ForwardResult> {
  let response: Response;
  try {
    response = await fetch(`/api/sessions/${encodeURIComponent(channel)}/tool-calls`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json', Authorization: `Bearer ${sessionToken}` },
      body: JSON.stringify(message),
    });
  } catch {
    return { status: 0, body: null }; // offline: the agent hears why below, as the page is all it has
  }
  const body: unknown = await response.json().catch(() => null);
  return { status: response.status, body };
}

/** An app-message the page sends into the conversation (Tavus's Interactions Protocol). */
export interface ConversationMessage {
  message_type: 'conversation';
  event_type: 'conversation.tool_result' | 'conversation.append_llm_context';
  conversation_id: string;
  properties: Record<string, string>;
}

/** The call's id, where Tavus puts it (`properties.tool_call_id`) or at the top level. */
export function toolCallIdOf(message: Record<string, unknown>): string | null {
  const properties = isObject(message.properties) ? message.properties : {};
  return nonEmpty(properties.tool_call_id) ?? nonEmpty(message.tool_call_id);
}

const quoted = (titles: string[]) => titles.map((title) => `"${title}"`).join(', ');

/** What the agent should hear: success with the backend's sentence, an error with the reason, or nothing. */
export function toolOutcome(result: ForwardResult): { status: 'success' | 'error'; output: string } | null {
  const body = isObject(result.body) ? result.body : {};
  if (result.status >= 200 && result.status < 300) {
    // "duplicate": another viewer's page forwarded (and answered) this call; "ignored": not our tool.
    if (body.status !== 'played') return null;
    const title = isObject(body.video) ? nonEmpty(body.video.title) : null;
    const output = nonEmpty(body.output) ?? (title === null ? 'The video is playing for the viewer.' : `Now playing "${title}" for the viewer.`);
    return { status: 'success', output };
  }
  if (result.status === 0) {
    return { status: 'error', output: "The viewer's page could not reach the video service; nothing is playing." };
  }
  if (body.error === 'video_not_found') {
    const asked = str(body.video_title) ?? '';
    const suggestions = Array.isArray(body.suggestions)
      ? body.suggestions.filter((s): s is string => typeof s === 'string')
      : [];
    const offer =
      suggestions.length === 0
        ? 'This demo has no videos yet.'
        : `Titles you can play: ${quoted(suggestions)}. Call play_video again with one of them.`;
    return { status: 'error', output: `There is no video titled "${asked}". ${offer}` };
  }
  const reason = nonEmpty(body.message) ?? nonEmpty(body.error) ?? `the service answered ${result.status}`;
  return { status: 'error', output: `The video could not be played: ${reason}.` };
}

/**
 * The app-message answering `call` after the backend's `result`, or null when nothing is to be said.
 * `fallbackConversationId`: the page's own conversation, for a call that did not name one.
 */
export function toolReply(
  call: Record<string, unknown>,
  result: ForwardResult,
  fallbackConversationId: string,
): ConversationMessage | null {
  const outcome = toolOutcome(result);
  if (outcome === null) return null;
  const conversationId = nonEmpty(call.conversation_id) ?? fallbackConversationId;
  const toolCallId = toolCallIdOf(call);
  if (toolCallId === null) {
    // Legacy inline tools carry no id to answer to: the sentence joins the agent's context instead.
    return {
      message_type: 'conversation',
      event_type: 'conversation.append_llm_context',
      conversation_id: conversationId,
      properties: { context: outcome.output },
    };
  }
  return {
    message_type: 'conversation',
    event_type: 'conversation.tool_result',
    conversation_id: conversationId,
    properties: { tool_call_id: toolCallId, output: outcome.output, status: outcome.status },
  };
}

/** Sends one app-message into the Daily room (DailyFrame hands it out: `call.sendAppMessage(m, '*')`). */
export type SendToConversation = (message: ConversationMessage) => void;

/** Forwards a tool call to the backend, then answers it in the conversation; resolves to what was sent. */
export async function bridgeToolCall(
  channel: string,
  sessionToken: string,
  call: Record<string, unknown>,
  send: SendToConversation,
  fallbackConversationId: string,
): Promise<ConversationMessage | null> {
  const result = await forwardToolCall(channel, sessionToken, call);
  const reply = toolReply(call, result, fallbackConversationId);
  if (reply !== null) send(reply);
  return reply;
}
