// Wire shapes of the demo-relay HTTP API. Names stay snake_case like the wire.

export interface VideoSummary {
  id: string;
  title: string;
  duration_s: number | null;
}

export interface Demo {
  id: string;
  name: string;
  /** Anyone with the page's address may start a conversation with the demo's agent (DESIGN §12). */
  public_start: boolean;
  videos: VideoSummary[];
}

export interface WebSocketAccess {
  url: string;
  token: string;
  /** RFC 3339; the token is reusable for reconnects until then. */
  expires_at: string | null;
}

export interface SupabaseAccess {
  url: string;
  anon_key: string;
  private: boolean;
  /** The topic to join: the channel, or on private channels the conversation's own `demo-<id>:<conversation>`. */
  topic?: string | null;
  /** Private channels: a short-lived Realtime JWT for `supabase.realtime.setAuth()`. */
  access_token?: string | null;
  /** RFC 3339; the page renews the token (a fresh session) shortly before then. */
  access_token_expires_at?: string | null;
}

export type TransportName = 'websocket' | 'supabase';

export interface Session {
  channel: string;
  transport: TransportName;
  demo_id: string;
  conversation_id: string;
  websocket: WebSocketAccess | null;
  supabase: SupabaseAccess | null;
}

/** What the page knows about the Tavus conversation it accompanies. */
export interface ConversationRef {
  conversation_id: string;
  conversation_url: string | null;
  /** A viewer link's proof that this page may follow the conversation; sent with every session request. */
  grant?: string;
}

/** A Tavus conversation the service started for the page (POST /api/demos/{id}/conversations). */
export interface StartedConversation {
  conversation_id: string;
  /** The Daily room to frame; null when the answer had none the page may frame. */
  conversation_url: string | null;
  status: string | null;
  session: Session;
}
