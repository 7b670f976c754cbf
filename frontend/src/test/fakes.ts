// Hand-written fakes shared by the unit tests: a WebSocket the test drives, and sample wire data.

import type { Session } from '../api/types';
import type { PlayVideo } from '../channel/events';
import type { WebSocketLike } from '../channel/websocketTransport';

/** A WebSocket whose server side is the test: `accept()`, `receive(frame)`, `drop(code)`. */
export class FakeWebSocket implements WebSocketLike {
  static instances: FakeWebSocket[] = [];

  static latest(): FakeWebSocket {
    const socket = FakeWebSocket.instances.at(-1);
    if (socket === undefined) throw new Error('no WebSocket was opened');
    return socket;
  }

  static reset(): void {
    FakeWebSocket.instances = [];
  }

  readyState = 0;
  onopen: ((event: Event) => void) | null = null;
  onmessage: ((event: MessageEvent) => void) | null = null;
  onclose: ((event: CloseEvent) => void) | null = null;
  onerror: ((event: Event) => void) | null = null;
  readonly sent: string[] = [];
  closedWith: { code: number | undefined; reason: string | undefined } | null = null;

  constructor(readonly url: string) {
    FakeWebSocket.instances.push(this);
  }

  send(data: string): void {
    this.sent.push(data);
  }

  close(code?: number, reason?: string): void {
    this.closedWith = { code, reason };
    this.readyState = 3;
  }

  /** The server accepts the upgrade and sends `subscribed`, as the hub does. */
  accept(channel = 'demo-d1'): void {
    this.readyState = 1;
    this.onopen?.(new Event('open'));
    this.receive({ event: 'subscribed', payload: { channel } });
  }

  receive(frame: unknown): void {
    const data = typeof frame === 'string' ? frame : JSON.stringify(frame);
    this.onmessage?.(new MessageEvent('message', { data }));
  }

  drop(code = 1006): void {
    this.readyState = 3;
    this.onclose?.(new CloseEvent('close', { code }));
  }

  get token(): string | null {
    return new URL(this.url).searchParams.get('token');
  }
}

export const FAR_FUTURE = '2999-01-01T00:00:00+00:00';

export function sampleSession(overrides: Partial<Session> = {}): Session {
  return {
    channel: 'demo-d1',
    transport: 'websocket',
    demo_id: 'd1',
    conversation_id: 'c1',
    websocket: { url: 'ws://relay.test/ws/demo-d1', token: 'token-1', expires_at: FAR_FUTURE },
    supabase: null,
    ...overrides,
  };
}

export function sampleVideo(overrides: Partial<PlayVideo> = {}): PlayVideo {
  return {
    url: 'https://media.test/overview.mp4',
    title: 'Product Overview',
    video_id: 'v1',
    demo_id: 'd1',
    conversation_id: 'c1',
    tool_call_id: 'call_1',
    expires_at: null,
    ...overrides,
  };
}

/** A hub frame as the server sends it. */
export function playFrame(id: string, payload: Partial<PlayVideo> = {}): Record<string, unknown> {
  return {
    channel: 'demo-d1',
    event: 'play_video',
    payload: sampleVideo(payload),
    id,
    sent_at: '2026-11-25T10:00:00Z',
  };
}
