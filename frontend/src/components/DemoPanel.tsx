// The side panel: what this page is following and which videos the agent can ask for.

import type { Demo, Session } from '../api/types';
import type { AsyncState } from '../hooks/useAsync';

interface DemoPanelProps {
  demo: AsyncState<Demo>;
  session: Session | null;
  conversationId: string;
  playingVideoId: string | null;
  sessionEnded: boolean;
}

function formatDuration(seconds: number | null): string | null {
  if (seconds === null) return null;
  const whole = Math.round(seconds);
  return `${Math.floor(whole / 60)}:${String(whole % 60).padStart(2, '0')}`;
}

const TRANSPORT_NAMES = { websocket: 'WebSocket hub', supabase: 'Supabase Realtime' } as const;

export function DemoPanel({ demo, session, conversationId, playingVideoId, sessionEnded }: DemoPanelProps) {
  return (
    <aside className="panel" aria-label="Demo details">
      {sessionEnded && (
        <p className="notice" role="status">
          The conversation has ended.
        </p>
      )}
      <dl className="facts">
        <div>
          <dt>Conversation</dt>
          <dd>
            <code>{conversationId}</code>
          </dd>
        </div>
        <div>
          <dt>Channel</dt>
          <dd>{session === null ? '…' : TRANSPORT_NAMES[session.transport]}</dd>
        </div>
      </dl>
      <h2 className="panel__title">Videos the agent can play</h2>
      {demo.status === 'loading' && <p className="muted">Loading…</p>}
      {demo.status === 'error' && <p className="muted">The video list could not be loaded.</p>}
      {demo.status === 'ready' &&
        (demo.value.videos.length === 0 ? (
          <p className="muted">No videos yet. Add one with demo-relay add-video.</p>
        ) : (
          <ul className="video-list">
            {demo.value.videos.map((video) => {
              const playing = video.id === playingVideoId;
              const duration = formatDuration(video.duration_s);
              return (
                <li key={video.id} className={`video-list__item${playing ? ' is-playing' : ''}`}>
                  <span className="video-list__title">{video.title}</span>
                  {playing ? (
                    <span className="tag tag--live">Playing</span>
                  ) : (
                    duration !== null && <span className="video-list__duration">{duration}</span>
                  )}
                </li>
              );
            })}
          </ul>
        ))}
      <p className="panel__hint muted">
        When the agent calls <code>play_video</code>, the video opens in picture-in-picture and the conversation
        moves to the corner.
      </p>
    </aside>
  );
}
