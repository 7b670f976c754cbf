// The owner's side of a demo's page (DESIGN §8, §11, §12): its videos (upload with real progress, inline
// rename, delete with confirmation, durations), its Tavus persona (sync state, test conversation), the
// play_video tool definition with a copy button, a viewer link for a conversation, and the recent
// conversations with what each one played.

import { useCallback, useEffect, useRef, useState, type DragEvent, type SubmitEvent } from 'react';

import type { StartedConversation } from '../api/types';
import {
  authConfig,
  deleteVideo,
  fetchConversations,
  fetchOwnerDemo,
  fetchTool,
  mintViewerLink,
  OwnerApiError,
  renameVideo,
  uploadVideo,
  uploadVideoDirect,
  type ConversationRecord,
  type OwnerDemo,
  type OwnerVideo,
  type SupabaseProject,
  type TavusConfig,
} from './ownerApi';
import type { OwnerSession } from './ownerSession';
import { TavusSettings } from './TavusSettings';

/** How often the demo is read again while its persona sync is pending or failed (retrying on the server). */
export const SYNC_POLL_MS = 3000;

interface Upload {
  key: string;
  name: string;
  fraction: number;
  state: 'uploading' | 'done' | 'failed';
  error: string | null;
}

const say = (error: unknown) => (error instanceof Error ? error.message : 'Something went wrong.');

function titleOf(fileName: string): string {
  const base = fileName.split(/[\\/]/).pop() ?? fileName;
  const dot = base.lastIndexOf('.');
  return (dot > 0 ? base.slice(0, dot) : base).replace(/_/g, ' ').trim();
}

function seconds(value: number | null): string {
  return value === null ? '—' : `${value.toFixed(1)} s`;
}

function megabytes(value: number | null): string {
  return value === null ? '' : `${(value / 1024 / 1024).toFixed(1)} MB`;
}

async function copy(text: string): Promise<boolean> {
  try {
    await navigator.clipboard.writeText(text);
    return true;
  } catch {
    return false;
  }
}

function VideoRow({
  video,
  onRename,
  onDelete,
}: {
  video: OwnerVideo;
  onRename: (title: string) => Promise<void>;
  onDelete: () => Promise<void>;
}) {
  const [title, setTitle] = useState(video.title);
  const [problem, setProblem] = useState<string | null>(null);
  const [confirming, setConfirming] = useState(false);

  const save = async (event?: SubmitEvent<HTMLFormElement>) => {
    event?.preventDefault();
    if (title.trim() === video.title) return;
    try {
      setProblem(null);
      await onRename(title);
    } catch (error) {
      setProblem(say(error));
    }
  };

  return (
    <li data-testid="video-row" className="video-row">
      <form onSubmit={(e) => void save(e)} className="video-row__title">
        <input
          aria-label={`Title of ${video.title}`}
          value={title}
          onChange={(e) => {
            setTitle(e.target.value);
          }}
          onBlur={() => void save()}
        />
        <button type="submit" className="link-button" disabled={title.trim() === video.title}>
          Rename
        </button>
      </form>
      <span className="video-row__meta muted">
        {seconds(video.duration_s)} · {video.content_type ?? ''} {megabytes(video.size_bytes)}
      </span>
      {confirming ? (
        <span className="video-row__confirm">
          <button
            type="button"
            className="danger"
            onClick={() => {
              void onDelete().catch((error: unknown) => {
                setProblem(say(error));
                setConfirming(false);
              });
            }}
          >
            Confirm delete
          </button>
          <button
            type="button"
            className="link-button"
            onClick={() => {
              setConfirming(false);
            }}
          >
            Cancel
          </button>
        </span>
      ) : (
        <button
          type="button"
          className="link-button"
          onClick={() => {
            setConfirming(true);
          }}
        >
          Delete
        </button>
      )}
      {problem !== null && (
        <p className="form-error" role="alert">
          {problem}
        </p>
      )}
    </li>
  );
}

interface OwnerDemoPanelProps {
  demoId: string;
  owner: OwnerSession;
  /** A test conversation started: the page follows it. */
  onStarted: (started: StartedConversation) => void;
}

export function OwnerDemoPanel({ demoId, owner, onStarted }: OwnerDemoPanelProps) {
  const [demo, setDemo] = useState<OwnerDemo | null>(null);
  const [problem, setProblem] = useState<string | null>(null);
  const [uploads, setUploads] = useState<Upload[]>([]);
  const [tool, setTool] = useState<string | null>(null);
  const [copied, setCopied] = useState<string | null>(null);
  const [conversations, setConversations] = useState<ConversationRecord[]>([]);
  const [linkFor, setLinkFor] = useState('');
  const [link, setLink] = useState<string | null>(null);
  const [linkProblem, setLinkProblem] = useState<string | null>(null);
  const counter = useRef(0);
  const [directTo, setDirectTo] = useState<SupabaseProject | null>(null);
  const [tavus, setTavus] = useState<TavusConfig | null>(null);

  useEffect(() => {
    let live = true;
    void authConfig().then((config) => {
      if (!live) return;
      setDirectTo(config.directUploads);
      setTavus(config.tavus);
    }, () => undefined);
    return () => {
      live = false;
    };
  }, []);

  const refresh = useCallback(async () => {
    try {
      const [demoNow, toolNow, conversationsNow] = await Promise.all([
        fetchOwnerDemo(owner.token, demoId),
        fetchTool(demoId),
        fetchConversations(owner.token, demoId),
      ]);
      setDemo(demoNow);
      setTool(JSON.stringify(toolNow, null, 2));
      setConversations(conversationsNow);
      setProblem(null);
    } catch (error) {
      setProblem(say(error));
    }
  }, [demoId, owner.token]);

  useEffect(() => {
    // Loads from the server (an external system); the state is set when the answers arrive.
    const timer = window.setTimeout(() => void refresh(), 0);
    return () => {
      window.clearTimeout(timer);
    };
  }, [refresh]);

  // The sync runs on the server off the request path and retries with backoff: follow it until it settles.
  const syncState = demo?.tavus.sync.state;
  useEffect(() => {
    if (syncState !== 'pending' && syncState !== 'failed') return;
    let live = true;
    const timer = window.setInterval(() => {
      fetchOwnerDemo(owner.token, demoId).then(
        (fresh) => {
          if (live) setDemo(fresh);
        },
        () => undefined, // a missed poll is retried on the next tick
      );
    }, SYNC_POLL_MS);
    return () => {
      live = false;
      window.clearInterval(timer);
    };
  }, [syncState, owner.token, demoId]);

  const start = (files: Iterable<File>) => {
    for (const file of files) {
      counter.current += 1;
      const key = `${String(counter.current)}:${file.name}`;
      setUploads((all) => [...all, { key, name: file.name, fraction: 0, state: 'uploading', error: null }]);
      const update = (patch: Partial<Upload>) => {
        setUploads((all) => all.map((u) => (u.key === key ? { ...u, ...patch } : u)));
      };
      const progress = (fraction: number) => {
        update({ fraction });
      };
      // Supabase Storage: straight to the bucket; else through the service. Both with real progress.
      const sent =
        directTo === null
          ? uploadVideo(owner.token, demoId, file, titleOf(file.name), progress)
          : uploadVideoDirect(owner.token, demoId, file, titleOf(file.name), directTo, progress);
      sent.then(
        () => {
          update({ fraction: 1, state: 'done' });
          void refresh();
        },
        (error: unknown) => {
          const words =
            error instanceof OwnerApiError && error.status === 415
              ? `${file.name} is not an MP4, QuickTime or WebM video.`
              : error instanceof OwnerApiError && error.status === 413
                ? `${file.name} is larger than this server takes.`
                : say(error);
          update({ state: 'failed', error: words });
        },
      );
    }
  };

  const onDrop = (event: DragEvent) => {
    event.preventDefault();
    start(Array.from(event.dataTransfer.files));
  };

  const mint = async (event: SubmitEvent<HTMLFormElement>) => {
    event.preventDefault();
    setLinkProblem(null);
    try {
      const minted = await mintViewerLink(owner.token, demoId, linkFor.trim(), null);
      setLink(minted.url);
      setCopied((await copy(minted.url)) ? 'link' : null);
    } catch (error) {
      setLinkProblem(say(error));
    }
  };

  return (
    <section className="owner-panel" aria-label="Demo settings">
      {problem !== null && (
        <p className="form-error" role="alert">
          {problem}
        </p>
      )}
      <div className="card">
        <h2>Videos{demo ? ` of ${demo.name}` : ''}</h2>
        <div
          className="drop-zone"
          onDragOver={(e) => {
            e.preventDefault();
          }}
          onDrop={onDrop}
        >
          <label htmlFor="upload-video" className="drop-zone__label">
            Drop videos here, or choose files
          </label>
          <input
            id="upload-video"
            aria-label="Upload video"
            type="file"
            multiple
            accept="video/mp4,video/quicktime,video/webm"
            onChange={(e) => {
              if (e.target.files) start(Array.from(e.target.files));
              e.target.value = '';
            }}
          />
        </div>
        {uploads.length > 0 && (
          <ul className="uploads">
            {uploads.map((u) => (
              <li key={u.key} className={`upload upload--${u.state}`}>
                <span>{u.name}</span>
                <progress
                  role="progressbar"
                  aria-label={`Upload of ${u.name}`}
                  aria-valuemin={0}
                  aria-valuemax={100}
                  aria-valuenow={Math.round(u.fraction * 100)}
                  max={100}
                  value={Math.round(u.fraction * 100)}
                />
                <span className="muted">
                  {u.state === 'done' ? 'uploaded' : u.state === 'failed' ? 'failed' : `${String(Math.round(u.fraction * 100))} %`}
                </span>
                {u.error !== null && (
                  <p className="form-error" role="alert">
                    {u.error}
                  </p>
                )}
              </li>
            ))}
          </ul>
        )}
        {demo !== null && demo.videos.length === 0 && <p className="muted">No videos yet.</p>}
        {demo !== null && demo.videos.length > 0 && (
          <ul className="video-list">
            {demo.videos.map((video) => (
              <VideoRow
                key={video.id}
                video={video}
                onRename={async (title) => {
                  await renameVideo(owner.token, demoId, video.id, title);
                  await refresh();
                }}
                onDelete={async () => {
                  await deleteVideo(owner.token, demoId, video.id);
                  await refresh();
                }}
              />
            ))}
          </ul>
        )}
      </div>

      {demo !== null && (
        <TavusSettings key={demo.id} demo={demo} token={owner.token} tavus={tavus} onDemo={setDemo} onStarted={onStarted} />
      )}

      <div className="card">
        <h2>Viewer link</h2>
        <form onSubmit={(e) => void mint(e)} className="inline-form">
          <label htmlFor="viewer-conversation">Viewer's conversation id</label>
          <input
            id="viewer-conversation"
            value={linkFor}
            onChange={(e) => {
              setLinkFor(e.target.value);
            }}
            required
          />
          <button type="submit" disabled={linkFor.trim() === ''}>
            Viewer link
          </button>
        </form>
        {linkProblem !== null && (
          <p className="form-error" role="alert">
            {linkProblem}
          </p>
        )}
        {link !== null && (
          <p>
            <a href={link} data-testid="viewer-link">
              {link}
            </a>{' '}
            <span className="muted">{copied === 'link' ? '(copied)' : ''}</span>
          </p>
        )}
      </div>

      <div className="card">
        <h2>Tool definition</h2>
        <p className="muted">The play_video tool for the Tavus persona; its titles follow the videos above.</p>
        <button
          type="button"
          onClick={() => {
            if (tool !== null) void copy(tool).then((ok) => { setCopied(ok ? 'tool' : null); });
          }}
        >
          Copy tool definition
        </button>{' '}
        <span className="muted">{copied === 'tool' ? '(copied)' : ''}</span>
        {tool !== null && <pre className="tool-json">{tool}</pre>}
      </div>

      <div className="card">
        <h2>Recent conversations</h2>
        {conversations.length === 0 && <p className="muted">None yet.</p>}
        <ul className="conversation-list">
          {conversations.map((c) => (
            <li key={c.conversation_id} data-testid="conversation-row">
              <strong>{c.conversation_id}</strong> <span className="muted">{c.status}</span>
              <span className="muted"> · {new Date(c.created_at).toLocaleString()}</span>
              {c.plays.length > 0 ? (
                <ol>
                  {c.plays.map((p) => (
                    <li key={`${p.played_at}-${p.title}`}>
                      {p.title} <span className="muted">{new Date(p.played_at).toLocaleTimeString()}</span>
                    </li>
                  ))}
                </ol>
              ) : (
                <span className="muted"> · nothing played</span>
              )}
            </li>
          ))}
        </ul>
      </div>
    </section>
  );
}
