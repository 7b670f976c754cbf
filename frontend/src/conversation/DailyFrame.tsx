// The Tavus conversation embedded with daily-js (prebuilt call frame), so the page receives the room's
// app-messages. daily-js is loaded on demand: pages without a Daily room never download it. If it cannot
// load, the room still shows in a plain iframe (without the bridge).

import { useEffect, useRef, useState } from 'react';

import type { SendToConversation } from './toolCallBridge';

/** An app-message from the room, with a way to answer into the room (the Tavus tool result). */
export type AppMessageHandler = (data: unknown, reply: SendToConversation) => void;

interface DailyFrameProps {
  url: string;
  onAppMessage: AppMessageHandler;
}

export function DailyFrame({ url, onAppMessage }: DailyFrameProps) {
  const container = useRef<HTMLDivElement>(null);
  const handler = useRef(onAppMessage);
  const [failed, setFailed] = useState(false);

  useEffect(() => {
    handler.current = onAppMessage;
  }, [onAppMessage]);

  useEffect(() => {
    const parent = container.current;
    if (parent === null) return;
    let cancelled = false;
    let destroy: (() => Promise<void>) | null = null;
    import('./daily').then(
      ({ default: Daily }) => {
        if (cancelled) return;
        const call = Daily.createFrame(parent, {
          showLeaveButton: true,
          iframeStyle: { width: '100%', height: '100%', border: '0' },
        });
        let gone = false;
        const reply: SendToConversation = (message) => {
          // An answer that arrives after the frame went away has no room to go to.
          if (gone) return;
          try {
            call.sendAppMessage(message, '*');
          } catch {
            // Not (or no longer) in the meeting: the agent's call goes unanswered, as without the bridge.
          }
        };
        call.on('app-message', (event) => {
          handler.current(event.data, reply);
        });
        destroy = () => {
          gone = true;
          return call.destroy();
        };
        call.join({ url }).catch(() => {
          // The prebuilt UI inside the frame tells the viewer what went wrong (room gone, no camera…).
        });
      },
      () => {
        if (!cancelled) setFailed(true);
      },
    );
    return () => {
      cancelled = true;
      void destroy?.();
    };
  }, [url]);

  if (failed) {
    return (
      <iframe
        className="conversation__frame"
        src={url}
        title="Conversation with the demo agent"
        allow="camera; microphone; autoplay; display-capture"
      />
    );
  }
  return <div ref={container} className="conversation__frame" data-testid="daily-frame" />;
}
