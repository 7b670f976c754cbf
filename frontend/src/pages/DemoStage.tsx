// The live part of DemoConfigurationPage: session → channel → layout. Events from the channel drive the
// layout reducer; the conversation and the player render from its state. A conversation the service
// started for this page (DESIGN §12) comes with its session already open and can be ended from here.

import { useCallback, useEffect, useReducer, useRef, useState } from 'react';

import { ApiError, createSession, endConversation, fetchDemo } from '../api/client';
import { currentOwner } from '../owner/ownerSession';
import type { ConversationRef, Session } from '../api/types';
import { createEventFilter } from '../channel/eventFilter';
import type { ChannelEvent } from '../channel/events';
import { AppHeader } from '../components/AppHeader';
import { ConnectionBadge } from '../components/ConnectionBadge';
import { EmptyState } from '../components/EmptyState';
import { DemoPanel } from '../components/DemoPanel';
import { RetryBanner } from '../components/RetryBanner';
import { ConversationView } from '../conversation/ConversationView';
import { bridgeToolCall, isToolCallMessage, type SendToConversation } from '../conversation/toolCallBridge';
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

/** A conversation the service started for this page: its first session, and the way back to the idle page. */
export interface StartedStage {
  session: Session;
  /** After "End", or when the channel says the conversation is over. */
  onEnded: () => void;
}

/** Answers to "end" that mean the conversation is already over (or was never ours to end): leave anyway. */
const ALREADY_OVER = new Set([403, 404, 409, 410]);

function EndControl({ onEnd }: { onEnd: () => Promise<void> }) {
  const [busy, setBusy] = useState(false);
  return (
    <button
      type="button"
      className="button button--small"
      disabled={busy}
      onClick={() => {
        setBusy(true);
        void onEnd().finally(() => {
          setBusy(false);
        });
      }}
    >
      End
    </button>
  );
}

interface DemoStageProps {
  demoId: string;
  conversation: ConversationRef;
  started?: StartedStage | undefined;
}

export function DemoStage({ demoId, conversation, started }: DemoStageProps) {
  const sessionKey = `${demoId}\n${conversation.conversation_id}`;
  const [attempt, setAttempt] = useState(0);
  const ownerToken = currentOwner()?.token;
  // The newest session (renewals replace it): its token proves who we are to the bridge, renewals and "End".
  const latest = useRef<Session | null>(started?.session ?? null);
  const latestToken = () => latest.current?.websocket?.token;
  // A fresh session of the same conversation, for a retry or when the current tokens are about to expire.
  // A started conversation has no grant: its own session token (or the owner's) is the proof (DESIGN §12).
  const openSession = async (signal?: AbortSignal) => {
    const fresh =
      started === undefined
        ? await createSession(demoId, conversation, signal, ownerToken)
        : await createSession(
            demoId,
            { conversation_id: conversation.conversation_id, conversation_url: null },
            signal,
            ownerToken ?? latestToken(),
          );
    latest.current = fresh;
    return fresh;
  };
  const session = useAsync(
    (signal) => (started !== undefined && attempt === 0 ? Promise.resolve(started.session) : openSession(signal)),
    sessionKey,
    attempt,
  );
  const demo = useAsync((signal) => fetchDemo(demoId, signal), demoId);
  const [layout, dispatch] = useReducer(layoutReducer, initialLayout);
  const conversationRef = useRef<HTMLElement>(null);
  const [accepts] = useState(() => createEventFilter(conversation.conversation_id));
  const [endProblem, setEndProblem] = useState<string | null>(null);

  const onEvent = (event: ChannelEvent) => {
    if (!accepts(event)) return;
    if (event.kind === 'play_video') dispatch({ type: 'play', video: event.payload });
    else {
      dispatch({ type: 'session_ended' });
      // A conversation started here is over for good: back to the page that offers a new one.
      started?.onEnded();
    }
  };
  const renew = () => openSession();
  const current = session.status === 'ready' ? session.value : null;
  // The conversation URL is framed (camera and microphone allowed) only once the server has accepted it:
  // it refuses hosts outside CONVERSATION_URL_HOSTS. Sticky, so a session renewal never drops the call.
  const [urlAccepted, setUrlAccepted] = useState(false);
  if (current !== null && !urlAccepted) setUrlAccepted(true);
  const channelState = useChannel(current, renew, onEvent);
  const connection = session.status === 'loading' ? 'connecting' : channelState;

  useEffect(() => {
    if (current !== null) latest.current = current;
  }, [current]);

  // Tavus tool calls seen as Daily app-messages go to the backend, bound to this session's channel, and
  // the backend's answer goes back into the room for the agent.
  const channel = current?.channel ?? null;
  const conversationId = conversation.conversation_id;
  const onAppMessage = useCallback(
    (data: unknown, reply: SendToConversation) => {
      const token = latest.current?.websocket?.token ?? null;
      if (channel !== null && token !== null && isToolCallMessage(data)) {
        void bridgeToolCall(channel, token, data, reply, conversationId);
      }
    },
    [channel, conversationId],
  );

  const end = async () => {
    if (started === undefined) return;
    const token = currentOwner()?.token ?? latestToken();
    setEndProblem(null);
    try {
      if (token === undefined) throw new Error('no session to end it with');
      await endConversation(demoId, conversationId, token);
    } catch (error) {
      if (!(error instanceof ApiError && ALREADY_OVER.has(error.status))) {
        setEndProblem('The conversation could not be ended. Check the connection and try again.');
        return;
      }
    }
    started.onEnded();
  };

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
        {started !== undefined && <EndControl onEnd={end} />}
        <ConnectionBadge state={connection} via={current === null ? null : TRANSPORT_LABELS[current.transport]} />
      </AppHeader>
      <main className="stage">
        {endProblem !== null && (
          <div className="banner" role="alert">
            <span>{endProblem}</span>
          </div>
        )}
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
