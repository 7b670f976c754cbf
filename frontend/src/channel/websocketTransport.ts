// The built-in hub's protocol: `GET /ws/demo-<id>?token=…`, a `subscribed` frame, then one JSON
// event per text frame. The connection is kept up for as long as the page listens: after a drop it
// reconnects with capped exponential backoff and jitter (so a restarted server isn't hit by every page at
// once), reusing the token until it expires and then asking for a new session.

import type { WebSocketAccess } from '../api/types';
import { parseHubFrame } from './events';
import type { ChannelHandlers, Transport } from './transport';

/** The part of the browser's WebSocket this transport uses, so tests can hand in a fake. */
export interface WebSocketLike {
  readonly readyState: number;
  onopen: ((event: Event) => void) | null;
  onmessage: ((event: MessageEvent) => void) | null;
  onclose: ((event: CloseEvent) => void) | null;
  onerror: ((event: Event) => void) | null;
  send(data: string): void;
  close(code?: number, reason?: string): void;
}

export type WebSocketFactory = (url: string) => WebSocketLike;

export interface BackoffPolicy {
  baseMs: number;
  maxMs: number;
}

export interface WebSocketTransportOptions {
  access: WebSocketAccess;
  /** Re-creates the session for a fresh token (the old one expired or was refused). */
  renew: () => Promise<WebSocketAccess>;
  connect?: WebSocketFactory;
  backoff?: BackoffPolicy;
  /** How often to ping; a connection silent for a ping interval plus `silenceMs` is presumed dead
   * (a vanished network often gives no close event for minutes). */
  pingEveryMs?: number;
  silenceMs?: number;
  /** A token this close to its expiry is renewed before connecting rather than refused by the server. */
  expiryMarginMs?: number;
  random?: () => number;
  now?: () => number;
  /** Where `online` events come from (the window): a pending retry then happens at once. */
  network?: EventTarget | null;
}

export const DEFAULT_BACKOFF: BackoffPolicy = { baseMs: 500, maxMs: 30_000 };

/** Close code the hub uses for a token it no longer accepts: the next attempt asks for a new session. */
export const CLOSE_INVALID_TOKEN = 4401;
const CLOSE_NORMAL = 1000;
const CLOSE_PRESUMED_DEAD = 4000;

/** Delay before reconnect attempt `attempt` (0-based): exponential, capped, with "equal jitter" — half
 * fixed so retries never bunch at zero, half random so many clients spread out. */
export function backoffDelay(attempt: number, policy: BackoffPolicy, random: () => number): number {
  const ceiling = Math.min(policy.maxMs, policy.baseMs * 2 ** Math.min(attempt, 30));
  return Math.round(ceiling / 2 + (random() * ceiling) / 2);
}

export function tokenExpired(access: WebSocketAccess, now: number, marginMs: number): boolean {
  if (access.expires_at === null) return false;
  const expiresAt = Date.parse(access.expires_at);
  return !Number.isNaN(expiresAt) && expiresAt - marginMs <= now;
}

const CONNECTING = 0;

/** Closing a socket that is still connecting makes browsers log a warning; let it open, then close it. */
function closeQuietly(ws: WebSocketLike, code: number, reason: string): void {
  ws.onmessage = null;
  ws.onclose = null;
  ws.onerror = null;
  if (ws.readyState === CONNECTING) {
    ws.onopen = () => {
      ws.close(code, reason);
    };
  } else {
    ws.close(code, reason);
  }
}

/** The hub URL with the session token, and on a reconnect the id of the last event received: a hub that
 *  keeps a log (HUB_BACKEND=postgres) replays exactly what was missed, on whichever instance we land. */
function withToken(url: string, token: string, since: string | null = null): string {
  const target = new URL(url);
  target.searchParams.set('token', token);
  if (since !== null) target.searchParams.set('since', since);
  return target.href;
}

const browserWebSocket: WebSocketFactory = (url) => new WebSocket(url);

export function websocketTransport(options: WebSocketTransportOptions): Transport {
  const connectSocket = options.connect ?? browserWebSocket;
  const policy = options.backoff ?? DEFAULT_BACKOFF;
  const pingEveryMs = options.pingEveryMs ?? 25_000;
  const silenceMs = options.silenceMs ?? 10_000;
  const marginMs = options.expiryMarginMs ?? 30_000;
  const random = options.random ?? Math.random;
  const now = options.now ?? Date.now;
  const network = options.network === undefined ? globalThis.window : options.network;
  // Shared by every subscription of this transport: a renewed token serves later subscriptions too.
  let access = options.access;

  function subscribe(handlers: ChannelHandlers): () => void {
    let stopped = false;
    let socket: WebSocketLike | null = null;
    let attempt = 0;
    let mustRenew = false;
    let retryTimer: ReturnType<typeof setTimeout> | undefined;
    let pingTimer: ReturnType<typeof setInterval> | undefined;
    let lastHeardAt = 0;
    let lastEventId: string | null = null;

    const stopPinging = () => {
      clearInterval(pingTimer);
      pingTimer = undefined;
    };

    const scheduleReconnect = () => {
      if (stopped) return;
      handlers.onStateChange('reconnecting');
      const delay = backoffDelay(attempt, policy, random);
      attempt += 1;
      retryTimer = setTimeout(() => void open(), delay);
    };

    /** Forgets a socket that is closed or presumed dead and plans the next attempt. */
    const drop = (ws: WebSocketLike) => {
      if (socket !== ws) return;
      socket = null;
      stopPinging();
      scheduleReconnect();
    };

    const startPinging = (ws: WebSocketLike) => {
      stopPinging();
      pingTimer = setInterval(() => {
        if (now() - lastHeardAt > pingEveryMs + silenceMs) {
          drop(ws); // don't wait for a close event that a dead network may never deliver
          closeQuietly(ws, CLOSE_PRESUMED_DEAD, 'no answer to ping');
          return;
        }
        try {
          ws.send(JSON.stringify({ type: 'ping' }));
        } catch {
          drop(ws);
        }
      }, pingEveryMs);
    };

    const open = async () => {
      retryTimer = undefined;
      if (mustRenew || tokenExpired(access, now(), marginMs)) {
        try {
          access = await options.renew();
          mustRenew = false;
        } catch {
          scheduleReconnect(); // the server may be down too: same backoff as a failed connection
          return;
        }
      }
      if (stopped) return;
      let ws: WebSocketLike;
      try {
        ws = connectSocket(withToken(access.url, access.token, lastEventId));
      } catch {
        scheduleReconnect(); // e.g. a URL the browser refuses; keep trying rather than give up silently
        return;
      }
      socket = ws;
      ws.onmessage = (message) => {
        if (socket !== ws || stopped) return;
        lastHeardAt = now();
        const frame = parseHubFrame(message.data);
        if (frame === null || frame.kind === 'pong') return;
        if (frame.kind === 'subscribed') {
          attempt = 0;
          handlers.onStateChange('connected');
          startPinging(ws);
          return;
        }
        if (frame.id !== null) lastEventId = frame.id;
        handlers.onEvent(frame);
      };
      ws.onclose = (event) => {
        if (event.code === CLOSE_INVALID_TOKEN) mustRenew = true;
        drop(ws);
      };
      ws.onerror = () => {
        // Browsers follow an error with a close event, which does the bookkeeping.
      };
    };

    const retryNow = () => {
      if (retryTimer === undefined || stopped) return;
      clearTimeout(retryTimer);
      void open();
    };

    handlers.onStateChange('connecting');
    network?.addEventListener('online', retryNow);
    void open();

    return () => {
      stopped = true;
      network?.removeEventListener('online', retryNow);
      clearTimeout(retryTimer);
      stopPinging();
      const ws = socket;
      socket = null;
      if (ws !== null) closeQuietly(ws, CLOSE_NORMAL, 'unsubscribed');
    };
  }

  return { name: 'websocket', subscribe };
}
