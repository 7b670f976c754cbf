// One small interface over the two ways a page hears its channel: the built-in WebSocket hub and
// Supabase Realtime. The page subscribes and gets events and connection states; how is the transport's.

import type { ChannelEvent } from './events';

export type ConnectionState = 'connecting' | 'connected' | 'reconnecting' | 'disconnected';

export interface ChannelHandlers {
  onEvent(event: ChannelEvent): void;
  onStateChange(state: ConnectionState): void;
}

export interface Transport {
  readonly name: 'websocket' | 'supabase';
  /** Starts listening; the returned function stops it (and no handler is called after that). */
  subscribe(handlers: ChannelHandlers): () => void;
}
