// The live part of DemoConfigurationPage: session → channel → layout. Events from the channel drive the
// layout reducer; the conversation and the player render from its state.

import { useCallback, useEffect, useReducer, useRef, useState } from 'react';

import { ApiError, createSession, fetchDemo } from '../api/client';
import { currentOwner } from '../owner/ownerSession';
import type { ConversationRef } from '../api/types';
import { createEventFilter } from '../channel/eventFilter';
import type { ChannelEvent } from '../channel/events';
import { AppHeader } from '../components/AppHeader';
import { ConnectionBadge } from '../components/ConnectionBadge';
import { EmptyState } from '../components/EmptyState';
import { DemoPanel } from '../components/DemoPanel';
import { RetryBanner } from '../components/RetryBanner';
import { ConversationView } from '../conversation/ConversationView';
import { forwardToolCall, isToolCallMessage } from '../conversation/toolCallBridge';
import { useAsync } from '../hooks/useAsync';
import { useChannel } from '../hooks/useChannel';
import {
  conversationMinimized,
  initialLayout,
  layoutReducer,
  type LayoutAction,
  type LayoutState,
} from '../layout/layoutReducer';
import { VideoPlayer } from '../player/VideoPlayer';

const TRANSPORT_LABELS = { websocket: 'WebSocket', supabase: 'Supabase' } as const;

function announcement(layout: LayoutState): string {
  if (layout.phase === 'playing') return `Now playing: ${layout.video.title}`;
  switch (layout.lastEnd) {
    case 'ended':
      return 'The video has ended.';
    case 'closed':
      return 'Video closed.';
    case 'session_ended':
      return 'The conversation has ended.';
    case null:
      return '';
  }
}

export function DemoStage({ demoId, conversation }: { demoId: string; conversation: ConversationRef }) {
  const sessionKey = `${demoId}\n${conversation.conversation_id}`;
  const [attempt, setAttempt] = useState(0);
  const ownerToken = currentOwner()?.token;
  const session = useAsync((signal) => createSession(demoId, conversation, signal, ownerToken), sessionKey, attempt);
  const demo = useAsync((signal) => fetchDemo(demoId, signal), demoId);
  const [layout, dispatch] = useReducer(layoutReducer, initialLayout);
  const conversationRef = useRef<HTMLElement>(null);
  const [accepts] = useState(() => createEventFilter(conversation.conversation_id));

  const onEvent = (event: ChannelEvent) => {
    if (!accepts(event)) return;
    if (event.kind === 'play_video') dispatch({ type: 'play', video: event.payload });
    else dispatch({ type: 'session_ended' });
  };
  // A fresh session of the same conversation: new tokens when the current ones are about to expire.
  const renew = () => createSession(demoId, conversation, undefined, ownerToken);
  const current = session.status === 'ready' ? session.value : null;
  // The conversation URL is framed (camera and microphone allowed) only once the server has accepted it:
  // it refuses hosts outside CONVERSATION_URL_HOSTS. Sticky, so a session renewal never drops the call.
  const [urlAccepted, setUrlAccepted] = useState(false);
  if (current !== null && !urlAccepted) setUrlAccepted(true);
  const channelState = useChannel(current, renew, onEvent);
  const connection = session.status === 'loading' ? 'connecting' : channelState;

  // Tavus tool calls seen as Daily app-messages go to the backend, bound to this session's channel.
  const sessionToken = current?.websocket?.token ?? null;
  const channel = current?.channel ?? null;
  const onAppMessage = useCallback(
    (data: unknown) => {
      if (channel !== null && sessionToken !== null && isToolCallMessage(data)) {
        void forwardToolCall(channel, sessionToken, data);
      }
    },
    [channel, sessionToken],
  );

  const act = useCallback((action: LayoutAction) => {
    // A closed player hands keyboard focus to the conversation instead of dropping it on <body>.
    if (action.type === 'closed') conversationRef.current?.focus({ preventScroll: true });
    dispatch(action);
  }, []);

  const demoName = demo.status === 'ready' ? demo.value.name : null;
  useEffect(() => {
    document.title = demoName === null ? 'Demo · demo-relay' : `${demoName} · demo-relay`;
  }, [demoName]);

  if (session.status === 'error' && session.error instanceof ApiError && session.error.status === 401) {
    // No viewer link, or one that expired or is for another conversation: trying again cannot help.
    return (
      <div className="app">
        <AppHeader title="This link does not open the demo" />
        <EmptyState title="Ask for a new viewer link">
          The link is missing its viewer grant, has expired, or is for another conversation. The demo&apos;s
          owner can send you a fresh one.
        </EmptyState>
      </div>
    );
  }

  if (session.status === 'error' && session.error instanceof ApiError && session.error.status === 404) {
    return (
      <div className="app">
        <AppHeader title="Demo not found" />
        <EmptyState title="There is no demo with this id">
          <code>{demoId}</code> is not a demo on this server.
        </EmptyState>
      </div>
    );
  }

  const minimized = conversationMinimized(layout);
  const sessionEnded = layout.phase === 'idle' && layout.lastEnd === 'session_ended';

  return (
    <div className={`app app--stage${minimized ? ' is-playing' : ''}`}>
      <AppHeader title={demoName ?? 'Demo'}>
        <ConnectionBadge state={connection} via={current === null ? null : TRANSPORT_LABELS[current.transport]} />
      </AppHeader>
      <main className="stage">
        {session.status === 'error' && (
          <RetryBanner
            message="Could not start the session."
            onRetry={() => {
              setAttempt((n) => n + 1);
            }}
          />
        )}
        <DemoPanel
          demo={demo}
          session={current}
          conversationId={conversation.conversation_id}
          playingVideoId={layout.phase === 'playing' ? layout.video.video_id : null}
          sessionEnded={sessionEnded}
        />
        {minimized && <div className="scrim" aria-hidden="true" />}
        {layout.phase === 'playing' && (
          <div className={`player-area${layout.pip === 'active' ? ' player-area--pip' : ''}`}>
            <VideoPlayer video={layout.video} pip={layout.pip} album={demoName} dispatch={act} />
          </div>
        )}
        <ConversationView
          ref={conversationRef}
          conversationId={conversation.conversation_id}
          conversationUrl={urlAccepted ? conversation.conversation_url : null}
          minimized={minimized}
          ended={sessionEnded}
          onAppMessage={onAppMessage}
        />
        <p className="visually-hidden" aria-live="polite">
          {announcement(layout)}
        </p>
      </main>
    </div>
  );
}
