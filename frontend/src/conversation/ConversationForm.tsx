// Shown when the page was opened without `?conversation_id=`: asks which Tavus conversation to follow.

import { useId, useState, type SubmitEvent } from 'react';

import { frameableUrl } from '../api/guards';
import type { ConversationRef } from '../api/types';

export function ConversationForm({ onSubmit }: { onSubmit: (conversation: ConversationRef) => void }) {
  const idField = useId();
  const urlField = useId();
  const urlHelp = useId();
  const [urlError, setUrlError] = useState<string | null>(null);

  const submit = (event: SubmitEvent<HTMLFormElement>) => {
    event.preventDefault();
    const data = new FormData(event.currentTarget);
    const text = (name: string) => {
      const value = data.get(name);
      return typeof value === 'string' ? value.trim() : '';
    };
    const conversationId = text('conversation_id');
    const rawUrl = text('conversation_url');
    const conversationUrl = rawUrl === '' ? null : frameableUrl(rawUrl);
    if (rawUrl !== '' && conversationUrl === null) {
      setUrlError('Use the https:// address Tavus gave for the conversation.');
      return;
    }
    if (conversationId !== '') onSubmit({ conversation_id: conversationId, conversation_url: conversationUrl });
  };

  return (
    <form className="card form" onSubmit={submit}>
      <h2 className="form__title">Which conversation?</h2>
      <p className="muted">
        The page plays the videos the agent picks during a Tavus conversation. Enter the conversation it should
        follow.
      </p>
      <label className="field" htmlFor={idField}>
        <span className="field__label">Conversation id</span>
        <input
          id={idField}
          name="conversation_id"
          required
          autoComplete="off"
          spellCheck={false}
          placeholder="c7f3a1b2e9d0"
        />
      </label>
      <label className="field" htmlFor={urlField}>
        <span className="field__label">
          Conversation URL <span className="muted">(optional)</span>
        </span>
        <input
          id={urlField}
          name="conversation_url"
          type="url"
          inputMode="url"
          placeholder="https://tavus.daily.co/…"
          aria-describedby={urlHelp}
          aria-invalid={urlError !== null}
          onChange={() => {
            setUrlError(null);
          }}
        />
        <span className={urlError === null ? 'field__help' : 'field__error'} id={urlHelp}>
          {urlError ?? 'Shows the live call on this page.'}
        </span>
      </label>
      <button type="submit" className="button button--primary button--block">
        Start session
      </button>
    </form>
  );
}
