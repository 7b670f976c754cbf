// The backend names the transport per session (NOTIFIER / NOTIFIER_SESSIONS); the page follows it.

import type { Session } from '../api/types';
import { supabaseTransport, type RealtimeJoin } from './supabaseTransport';
import type { Transport } from './transport';
import { websocketTransport, type WebSocketFactory } from './websocketTransport';

export interface TransportDeps {
  /** A fresh session (same conversation), for when a token is about to expire. */
  renew: () => Promise<Session>;
  connect?: WebSocketFactory;
  join?: RealtimeJoin;
}

/** A session that offers nothing this page can use (a misconfigured server): shown, not thrown. */
export const unavailableTransport: Transport = {
  name: 'websocket',
  subscribe(handlers) {
    handlers.onStateChange('disconnected');
    return () => undefined;
  },
};

export function createTransport(session: Session, deps: TransportDeps): Transport {
  if (session.transport === 'supabase' && session.supabase !== null) {
    const renewAccess = async () => {
      const fresh = await deps.renew();
      if (fresh.supabase === null) throw new Error('the new session has no Supabase access');
      return fresh.supabase;
    };
    return supabaseTransport(session.supabase, session.supabase.topic ?? session.channel, deps.join, renewAccess);
  }
  // "websocket", or "supabase" without Supabase credentials (a misconfigured server): the hub is part of
  // the service, so it is the fallback rather than a page that never connects.
  if (session.websocket !== null) {
    const renewAccess = async () => {
      const fresh = await deps.renew();
      if (fresh.websocket === null) throw new Error('the new session has no WebSocket access');
      return fresh.websocket;
    };
    const options: Parameters<typeof websocketTransport>[0] = { access: session.websocket, renew: renewAccess };
    if (deps.connect) options.connect = deps.connect;
    return websocketTransport(options);
  }
  return unavailableTransport;
}
