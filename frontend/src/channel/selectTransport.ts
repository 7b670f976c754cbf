// The backend names the transport per session (NOTIFIER / NOTIFIER_SESSIONS); the page follows it.

import type { Session, WebSocketAccess } from '../api/types';
import { supabaseTransport, type RealtimeJoin } from './supabaseTransport';
import type { Transport } from './transport';
import { websocketTransport, type WebSocketFactory } from './websocketTransport';

export interface TransportDeps {
  /** A fresh session's WebSocket access, for when the token has expired. */
  renew: () => Promise<WebSocketAccess>;
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
    return supabaseTransport(session.supabase, session.channel, deps.join);
  }
  // "websocket", or "supabase" without Supabase credentials (a misconfigured server): the hub is part of
  // the service, so it is the fallback rather than a page that never connects.
  if (session.websocket !== null) {
    const options: Parameters<typeof websocketTransport>[0] = { access: session.websocket, renew: deps.renew };
    if (deps.connect) options.connect = deps.connect;
    return websocketTransport(options);
  }
  return unavailableTransport;
}
