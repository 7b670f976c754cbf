// The owner's Tavus section of a demo (DESIGN §12): which persona and replica talk for it, whether anyone
// with the page's address may start a conversation, how the persona's play_video sync stands (with "Sync
// now"), and a test conversation when the server has TAVUS_API_KEY.

import { useId, useState, type SubmitEvent } from 'react';

import type { StartedConversation } from '../api/types';
import { StartConversation } from '../conversation/StartConversation';
import { syncPersona, updateDemo, type DemoTavus, type OwnerDemo, type TavusConfig } from './ownerApi';

const say = (error: unknown) => (error instanceof Error ? error.message : 'Something went wrong.');

function when(iso: string | null): string {
  if (iso === null) return '';
  const at = new Date(iso);
  return Number.isNaN(at.getTime()) ? iso : at.toLocaleString();
}

/** The sync state in words; the state word itself always appears (tests and people look for it). */
export function SyncStatus({ sync }: { sync: DemoTavus['sync'] }) {
  return (
    <p className={`persona-sync persona-sync--${sync.state}`} data-testid="persona-sync" aria-live="polite">
      Persona sync: <strong>{sync.state}</strong>
      {sync.state === 'synced' && sync.synced_at !== null && <> at {when(sync.synced_at)}</>}
      {sync.state === 'pending' && <> (updating the persona&apos;s play_video tool…)</>}
      {sync.state === 'failed' && (
        <>
          {' '}
          — {sync.error ?? 'the last attempt failed'}. It is retried by itself; Sync now tries at once.
        </>
      )}
      {sync.state === 'off' && <> (no persona, or no TAVUS_API_KEY on the server)</>}
    </p>
  );
}

interface TavusSettingsProps {
  demo: OwnerDemo;
  token: string;
  /** null until GET /api/auth-config has answered. */
  tavus: TavusConfig | null;
  onDemo: (demo: OwnerDemo) => void;
  onStarted: (started: StartedConversation) => void;
}

export function TavusSettings({ demo, token, tavus, onDemo, onStarted }: TavusSettingsProps) {
  const ids = { persona: useId(), replica: useId(), open: useId() };
  // The form starts from the demo as loaded; later polls must not overwrite what the owner is typing.
  const [personaId, setPersonaId] = useState(demo.tavus.persona_id ?? '');
  const [replicaId, setReplicaId] = useState(demo.tavus.replica_id ?? '');
  const [publicStart, setPublicStart] = useState(demo.public_start);
  const [busy, setBusy] = useState<'save' | 'sync' | null>(null);
  const [saved, setSaved] = useState(false);
  const [problem, setProblem] = useState<string | null>(null);

  const run = async (what: 'save' | 'sync', request: () => Promise<OwnerDemo>) => {
    setBusy(what);
    setProblem(null);
    setSaved(false);
    try {
      onDemo(await request());
      if (what === 'save') setSaved(true);
    } catch (error) {
      setProblem(say(error));
    } finally {
      setBusy(null);
    }
  };

  const save = (event: SubmitEvent<HTMLFormElement>) => {
    event.preventDefault();
    const orNull = (value: string) => (value.trim() === '' ? null : value.trim());
    void run('save', () =>
      updateDemo(token, demo.id, {
        tavus: { persona_id: orNull(personaId), replica_id: orNull(replicaId) },
        public_start: publicStart,
      }),
    );
  };

  return (
    <div className="card tavus-settings">
      <h2>Tavus</h2>
      <form onSubmit={save} className="inline-form">
        <label htmlFor={ids.persona}>Persona ID</label>
        <input
          id={ids.persona}
          value={personaId}
          autoComplete="off"
          spellCheck={false}
          placeholder="p1a2b3c4"
          onChange={(e) => {
            setPersonaId(e.target.value);
            setSaved(false);
          }}
        />
        <label htmlFor={ids.replica}>Replica ID</label>
        <input
          id={ids.replica}
          value={replicaId}
          autoComplete="off"
          spellCheck={false}
          placeholder="the persona's default"
          onChange={(e) => {
            setReplicaId(e.target.value);
            setSaved(false);
          }}
        />
        <label className="checkbox" htmlFor={ids.open}>
          <input
            id={ids.open}
            type="checkbox"
            checked={publicStart}
            onChange={(e) => {
              setPublicStart(e.target.checked);
              setSaved(false);
            }}
          />
          Anyone with the link may start a conversation
        </label>
        <button type="submit" disabled={busy !== null}>
          Save
        </button>
        {saved && (
          <span className="muted" role="status">
            Saved.
          </span>
        )}
      </form>
      <div className="tavus-settings__sync">
        <SyncStatus sync={demo.tavus.sync} />
        <button
          type="button"
          disabled={busy !== null}
          onClick={() => void run('sync', () => syncPersona(token, demo.id))}
        >
          Sync now
        </button>
      </div>
      {problem !== null && (
        <p className="form-error" role="alert">
          {problem}
        </p>
      )}
      {tavus?.enabled === true ? (
        <>
          <p className="muted">
            {tavus.delivery === 'api'
              ? 'Tavus calls play_video on this service’s webhook.'
              : 'play_video reaches this service through the viewer’s page (a Daily app-message).'}
          </p>
          <StartConversation demoId={demo.id} ownerToken={token} label="Start test conversation" onStarted={onStarted} />
        </>
      ) : (
        tavus !== null && (
          <p className="muted">
            Conversations start here once the server has a <code>TAVUS_API_KEY</code>.
          </p>
        )
      )}
    </div>
  );
}
