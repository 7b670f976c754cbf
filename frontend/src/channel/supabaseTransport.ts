// Supabase Realtime as the channel transport: the server broadcasts on topic "demo-<id>",
// the page joins that channel with supabase-js. supabase-js keeps the socket up and rejoins by itself;
// this transport maps its statuses onto ours and decodes the broadcasts.
//
// supabase-js is loaded on demand (a separate chunk): pages on the WebSocket hub never download it.

import type { SupabaseClient } from '@supabase/supabase-js';

import { isObject } from '../api/guards';
import type { SupabaseAccess } from '../api/types';
import { toChannelEvent } from './events';
import type { ChannelHandlers, ConnectionState, Transport } from './transport';

/** What supabase-js hands a broadcast callback: the sender's payload under `.payload`. */
export interface BroadcastMessage {
  event?: string;
  payload?: unknown;
  meta?: { id?: string };
}

export interface JoinRequest {
  access: SupabaseAccess;
  /** A fresh session's Supabase access, for renewing a private channel's token before it expires. */
  renew?: (() => Promise<SupabaseAccess>) | undefined;
  topic: string;
  events: readonly string[];
  onMessage: (event: string, message: BroadcastMessage) => void;
  /** supabase-js's channel statuses: SUBSCRIBED, TIMED_OUT, CLOSED, CHANNEL_ERROR. */
  onStatus: (status: string) => void;
}

/** Joins a Realtime channel; resolves to a function that leaves it. The seam tests replace. */
export type RealtimeJoin = (request: JoinRequest) => Promise<() => void>;

export const CHANNEL_EVENTS = ['play_video', 'session_ended'] as const;

export function stateForStatus(status: string): ConnectionState | null {
  switch (status) {
    case 'SUBSCRIBED':
      return 'connected';
    case 'CHANNEL_ERROR':
    case 'TIMED_OUT':
      return 'reconnecting'; // supabase-js retries the join with its own backoff
    case 'CLOSED':
      return 'disconnected';
    default:
      return null;
  }
}

// One client per project and key: several clients in one page make supabase-js warn. Leaving a channel is
// asynchronous; joining the same topic again before it has finished would get the old, closing channel back,
// so a join waits for the previous leave of its topic.
//
// supabase-js runs Realtime with an `accessToken` callback and asks it again on connect, on every join and
// heartbeat; by default that is its auth session's token, else the anon key. The page has no Supabase user,
// so the callback is ours and answers with the latest private-channel token the sessions endpoint handed out:
// without it the anon key replaces the token set with setAuth, and a rejoin after a lost connection is refused
// ("Unauthorized: You do not have permissions to read from this Channel topic"). With `accessToken` given,
// supabase-js creates no auth client at all (nothing to persist, refresh or read from the URL).
const clients = new Map<string, SupabaseClient>();
/** A token this close to its expiry is renewed (supabase-js asks for the token on every 25 s heartbeat,
 * and pushes a changed one to its joined channels). */
export const RENEW_BEFORE_MS = 120_000;

interface RealtimeToken {
  token: string;
  expiresAt: number | null; // epoch ms
  renew: (() => Promise<SupabaseAccess>) | null;
  renewing: Promise<void> | null;
}

/** Per client: the Realtime token of the latest private session (none: the anon key). */
const realtimeTokens = new Map<string, RealtimeToken>();

function expiryOf(access: SupabaseAccess): number | null {
  const at = access.access_token_expires_at ? Date.parse(access.access_token_expires_at) : Number.NaN;
  return Number.isNaN(at) ? null : at;
}

/** What the accessToken callback answers: the private session's token, renewed when about to expire. */
export async function currentRealtimeToken(key: string, now: () => number = Date.now): Promise<string | null> {
  const entry = realtimeTokens.get(key);
  if (entry === undefined) return null;
  const renew = entry.renew;
  if (renew !== null && entry.expiresAt !== null && entry.expiresAt - now() < RENEW_BEFORE_MS) {
    // One renewal at a time; if it fails, the current token is still the best there is.
    entry.renewing ??= renew()
      .then((fresh) => {
        if (fresh.access_token) {
          entry.token = fresh.access_token;
          entry.expiresAt = expiryOf(fresh);
        }
      })
      .catch(() => undefined)
      .finally(() => {
        entry.renewing = null;
      });
    await entry.renewing;
  }
  return entry.token;
}
const leaving = new Map<string, Promise<unknown>>();

const projectKey = (access: SupabaseAccess) => `${access.url}\n${access.anon_key}`;

async function clientFor(access: SupabaseAccess): Promise<SupabaseClient> {
  const key = projectKey(access);
  const cached = clients.get(key);
  if (cached) return cached;
  const { createClient } = await import('@supabase/supabase-js');
  const raced = clients.get(key); // another join created it while the chunk loaded
  if (raced) return raced;
  const client = createClient(access.url, access.anon_key, {
    accessToken: () => currentRealtimeToken(key),
  });
  clients.set(key, client);
  return client;
}

export const supabaseJoin: RealtimeJoin = async ({ access, renew, topic, events, onMessage, onStatus }) => {
  const client = await clientFor(access);
  await leaving.get(topic)?.catch(() => undefined);
  // Private channels are admitted by an RLS policy on realtime.messages that reads this JWT; it must be set
  // before the join, which sends it, and stay what the accessToken callback answers (see clientFor).
  if (access.private && access.access_token) {
    realtimeTokens.set(projectKey(access), {
      token: access.access_token,
      expiresAt: expiryOf(access),
      renew: renew ?? null,
      renewing: null,
    });
    await client.realtime.setAuth(access.access_token);
  }
  let channel = client.channel(topic, { config: { private: access.private } });
  for (const event of events) {
    channel = channel.on('broadcast', { event }, (message) => {
      onMessage(event, message);
    });
  }
  channel.subscribe((status) => {
    onStatus(status);
  });
  return () => {
    const removal = client.removeChannel(channel);
    leaving.set(topic, removal);
    void removal.finally(() => {
      if (leaving.get(topic) === removal) leaving.delete(topic);
    });
  };
};

export function supabaseTransport(
  access: SupabaseAccess,
  topic: string,
  join: RealtimeJoin = supabaseJoin,
  renew?: () => Promise<SupabaseAccess>,
): Transport {
  function subscribe(handlers: ChannelHandlers): () => void {
    let stopped = false;
    let leave: (() => void) | null = null;

    handlers.onStateChange('connecting');
    join({
      access,
      renew,
      topic,
      events: CHANNEL_EVENTS,
      onMessage: (event, message) => {
        if (stopped) return;
        // The server puts its event id (stable across retried deliveries) in the payload as `event_id`.
        const eventId = isObject(message.payload) ? message.payload.event_id : undefined;
        const decoded = toChannelEvent(event, message.payload, eventId ?? message.meta?.id);
        if (decoded !== null) handlers.onEvent(decoded);
      },
      onStatus: (status) => {
        const state = stateForStatus(status);
        if (!stopped && state !== null) handlers.onStateChange(state);
      },
    }).then(
      (leaveChannel) => {
        if (stopped) leaveChannel();
        else leave = leaveChannel;
      },
      () => {
        if (!stopped) handlers.onStateChange('disconnected'); // the library failed to load
      },
    );

    return () => {
      stopped = true;
      leave?.();
      leave = null;
    };
  }

  return { name: 'supabase', subscribe };
}
