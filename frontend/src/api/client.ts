// The HTTP API the page uses, with responses checked before the rest of the page trusts them.

import { httpUrl, isObject, nonEmpty, str } from './guards';
import type {
  ConversationRef,
  Demo,
  Session,
  SupabaseAccess,
  VideoSummary,
  WebSocketAccess,
} from './types';

export class ApiError extends Error {
  readonly status: number;
  /** The server's `error` code (`unknown_demo`, …) when it sent one. */
  readonly code: string | null;

  constructor(message: string, status: number, code: string | null = null) {
    super(message);
    this.name = 'ApiError';
    this.status = status;
    this.code = code;
  }
}

async function requestJson(path: string, init: RequestInit = {}): Promise<unknown> {
  const headers = new Headers(init.headers);
  headers.set('Accept', 'application/json');
  const response = await fetch(path, { ...init, headers });
  const body: unknown = await response.json().catch(() => null);
  if (!response.ok) {
    const code = isObject(body) ? str(body.error) : null;
    throw new ApiError(`${init.method ?? 'GET'} ${path} answered ${response.status}`, response.status, code);
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
  return { id, name, videos: value.videos.map(parseVideo) };
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
