// A button that asks the service to start a Tavus conversation for the demo (DESIGN §12) and hands the
// started conversation (with its session) to the page; a refusal is said in words next to it.

import { useState } from 'react';

import { startConversation } from '../api/client';
import type { StartedConversation } from '../api/types';
import { startFailure } from './startFailure';

interface StartConversationProps {
  demoId: string;
  /** The owner's token; null for a prospect on a demo with `public_start`. */
  ownerToken: string | null;
  /** The button's words: "Start" for a prospect, "Start test conversation" for the owner. */
  label: string;
  onStarted: (started: StartedConversation) => void;
  className?: string;
}

export function StartConversation({ demoId, ownerToken, label, onStarted, className }: StartConversationProps) {
  const [busy, setBusy] = useState(false);
  const [problem, setProblem] = useState<string | null>(null);

  const start = async () => {
    setBusy(true);
    setProblem(null);
    try {
      const started = await startConversation(demoId, ownerToken);
      setBusy(false);
      onStarted(started);
    } catch (error) {
      setBusy(false);
      setProblem(startFailure(error));
    }
  };

  return (
    <div className="start-conversation">
      <button type="button" className={className} disabled={busy} onClick={() => void start()}>
        {label}
      </button>
      {busy && (
        <span className="muted" role="status">
          Starting the conversation…
        </span>
      )}
      {problem !== null && (
        <p className="form-error" role="alert">
          {problem}
        </p>
      )}
    </div>
  );
}
