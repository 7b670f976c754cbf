// The Tavus conversation (its `conversation_url` in an iframe) or a placeholder. It is rendered once and
// only restyled between full size and the corner: re-mounting the iframe would drop the live call.

import type { RefObject } from 'react';

import { DailyFrame, type AppMessageHandler } from './DailyFrame';
import { isDailyRoom } from './toolCallBridge';

interface ConversationViewProps {
  conversationId: string;
  conversationUrl: string | null;
  minimized: boolean;
  ended: boolean;
  /** Set: a Daily room is embedded with daily-js and its app-messages are handed here, with a way to answer. */
  onAppMessage?: AppMessageHandler | undefined;
  ref?: RefObject<HTMLElement | null>;
}

export function ConversationView({
  conversationId,
  conversationUrl,
  minimized,
  ended,
  onAppMessage,
  ref,
}: ConversationViewProps) {
  return (
    <section
      ref={ref}
      className={`conversation${minimized ? ' conversation--minimized' : ''}`}
      data-testid="conversation"
      aria-label="Conversation"
      tabIndex={-1}
    >
      {conversationUrl !== null && onAppMessage !== undefined && isDailyRoom(conversationUrl) ? (
        <DailyFrame url={conversationUrl} onAppMessage={onAppMessage} />
      ) : conversationUrl !== null ? (
        <iframe
          className="conversation__frame"
          src={conversationUrl}
          title="Conversation with the demo agent"
          allow="camera; microphone; autoplay; display-capture"
        />
      ) : (
        <div className="conversation__placeholder">
          <div className="conversation__avatar" aria-hidden="true">
            <span />
          </div>
          <p className="conversation__heading">{ended ? 'Conversation ended' : 'Conversation'}</p>
          <p className="conversation__detail">
            {ended ? (
              'The agent has left. Videos it sends later still play here.'
            ) : (
              <>
                No video call attached. Add <code>conversation_url</code> to the address to show it here.
              </>
            )}
          </p>
          <p className="conversation__id">
            <span className="visually-hidden">Conversation id </span>
            {conversationId}
          </p>
        </div>
      )}
    </section>
  );
}
