// The HTTP API the page uses, with responses checked before the rest of the page trusts them.

import { frameableUrl, httpUrl, isObject, nonEmpty, str } from './guards';
import type {
  ConversationRef,
  Demo,
  Session,
  StartedConversation,
  SupabaseAccess,
  VideoSummary,
  WebSocketAccess,
} from './types';

/** What else an error answer said, for pages that explain it in words. */
export interface ApiErrorDetails {
  /** The server's own sentence (`message`), when it sent one. */
  serverMessage: string | null;
  /** `Retry-After`, in seconds from now, when the answer had one. */
  retryAfterS: number | null;
  /** The whole JSON body (extra fields such as `in_use`, `suggestions`). */
  body: unknown;
}

export class ApiError extends Error {
  readonly status: number;
  /** The server's `error` code (`unknown_demo`, …) when it sent one. */
  readonly code: string | null;
  readonly details: ApiErrorDetails;

  constructor(message: string, status: number, code: string | null = null, details: Partial<ApiErrorDetails> = {}) {
    super(message);
    this.name = 'ApiError';
    this.status = status;
    this.code = code;
    this.details = { serverMessage: null, retryAfterS: null, body: null, ...details };
  }
}

/** `Retry-After` is either delta-seconds or an HTTP date (RFC 9110 §10.2.3). */
export function retryAfterSeconds(value: string | null, now = Date.now()): number | null {
  if (value === null || value.trim() === '') return null;
  if (/^\d+$/.test(value.trim())) return Number(value.trim());
  const at = Date.parse(value);
  return Number.isNaN(at) ? null : Math.max(0, Math.ceil((at - now) / 1000));
}

async function requestJson(path: string, init: RequestInit = {}): Promise<unknown> {
  const headers = new Headers(init.headers);
  headers.set('Accept', 'application/json');
  const response = await fetch(path, { ...init, headers });
  const body: unknown = await response.json().catch(() => null);
  if (!response.ok) {
    const code = isObject(body) ? str(body.error) : null;
    throw new ApiError(`${init.method ?? 'GET'} ${path} answered ${response.status}`, response.status, code, {
      serverMessage: isObject(body) ? nonEmpty(body.message) : null,
      retryAfterS: retryAfterSeconds(response.headers.get('Retry-After')),
      body,
    });
  }
  return body;
}

function malformed(what: string): never {
  throw new ApiError(`malformed ${what} in the server's answer`, 0, 'malformed_response');
}

function parseVideo(value: unknown): VideoSummary {
  if (!isObject(value)) return malformed('video');
  const id = nonEmpty(value.id);
  const title = str(value.title);
  if (id === null || title === null) return malformed('video');
  return { id, title, duration_s: typeof value.duration_s === 'number' ? value.duration_s : null };
}

export function parseDemo(value: unknown): Demo {
  if (!isObject(value)) return malformed('demo');
  const id = nonEmpty(value.id);
  const name = str(value.name);
  if (id === null || name === null || !Array.isArray(value.videos)) return malformed('demo');
  // `public_start`: anyone with the page's address may start a conversation (DESIGN §12); absent means no.
  return { id, name, public_start: value.public_start === true, videos: value.videos.map(parseVideo) };
}

function parseWebSocketAccess(value: unknown): WebSocketAccess | null {
  if (!isObject(value)) return null;
  const url = str(value.url);
  const token = nonEmpty(value.token);
  if (url === null || token === null || !/^wss?:\/\//i.test(url)) return null;
  return { url, token, expires_at: str(value.expires_at) };
}

function parseSupabaseAccess(value: unknown): SupabaseAccess | null {
  if (!isObject(value)) return null;
  const url = httpUrl(value.url);
  const anonKey = str(value.anon_key);
  if (url === null || anonKey === null) return null;
  return {
    url,
    anon_key: anonKey,
    private: value.private === true,
    topic: nonEmpty(value.topic),
    access_token: nonEmpty(value.access_token),
    access_token_expires_at: str(value.access_token_expires_at),
  };
}

export function parseSession(value: unknown): Session {
  if (!isObject(value)) return malformed('session');
  const channel = nonEmpty(value.channel);
  const demoId = nonEmpty(value.demo_id);
  const conversationId = nonEmpty(value.conversation_id);
  if (channel === null || demoId === null || conversationId === null) return malformed('session');
  return {
    channel,
    // Anything but "supabase" means the built-in hub, which is always there.
    transport: value.transport === 'supabase' ? 'supabase' : 'websocket',
    demo_id: demoId,
    conversation_id: conversationId,
    websocket: parseWebSocketAccess(value.websocket),
    supabase: parseSupabaseAccess(value.supabase),
  };
}

export async function fetchDemos(signal?: AbortSignal): Promise<Demo[]> {
  const body = await requestJson('/api/demos', signal ? { signal } : {});
  if (!Array.isArray(body)) return malformed('demo list');
  return body.map(parseDemo);
}

export async function fetchDemo(demoId: string, signal?: AbortSignal): Promise<Demo> {
  const path = `/api/demos/${encodeURIComponent(demoId)}`;
  return parseDemo(await requestJson(path, signal ? { signal } : {}));
}

/** Registers the conversation with the demo and returns how to subscribe to the demo's channel. */
export async function createSession(
  demoId: string,
  conversation: ConversationRef,
  signal?: AbortSignal,
  ownerToken?: string,
): Promise<Session> {
  const body: Record<string, string> = { conversation_id: conversation.conversation_id };
  if (conversation.conversation_url !== null) body.conversation_url = conversation.conversation_url;
  if (conversation.grant !== undefined) body.grant = conversation.grant;
  const path = `/api/demos/${encodeURIComponent(demoId)}/sessions`;
  const init: RequestInit = {
    method: 'POST',
    headers: {
      'Content-Type': 'application/json',
      // Signed in as an owner (and no viewer link): the owner token is the proof (DESIGN §4).
      ...(conversation.grant === undefined && ownerToken ? { Authorization: `Bearer ${ownerToken}` } : {}),
    },
    body: JSON.stringify(body),
  };
  if (signal) init.signal = signal;
  return parseSession(await requestJson(path, init));
}

const demoPath = (demoId: string) => `/api/demos/${encodeURIComponent(demoId)}`;

/**
 * Starts a Tavus conversation for the demo (DESIGN §12): with the owner token, or with none when the demo
 * has `public_start`. The answer carries the session for it, so the page needs no second request.
 */
export async function startConversation(demoId: string, ownerToken: string | null): Promise<StartedConversation> {
  const answer = await requestJson(`${demoPath(demoId)}/conversations`, {
    method: 'POST',
    headers: {
      'Content-Type': 'application/json',
      ...(ownerToken === null ? {} : { Authorization: `Bearer ${ownerToken}` }),
    },
    body: '{}',
  });
  if (!isObject(answer)) return malformed('conversation');
  const conversationId = nonEmpty(answer.conversation_id);
  if (conversationId === null) return malformed('conversation');
  // The session is the sessions endpoint's answer; its ids default to the ones this answer names.
  const session = parseSession({
    demo_id: demoId,
    conversation_id: conversationId,
    ...(isObject(answer.session) ? answer.session : {}),
  });
  return {
    conversation_id: conversationId,
    conversation_url: frameableUrl(answer.conversation_url),
    status: str(answer.status),
    session,
  };
}

/** Ends a conversation the service started; `token` is the owner token or that conversation's session token. */
export async function endConversation(demoId: string, conversationId: string, token: string): Promise<void> {
  await requestJson(`${demoPath(demoId)}/conversations/${encodeURIComponent(conversationId)}/end`, {
    method: 'POST',
    headers: { 'Content-Type': 'application/json', Authorization: `Bearer ${token}` },
    body: '{}',
  });
}
