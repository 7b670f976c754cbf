// `/demos/<demo_id>`: follows one Tavus conversation of a demo. The conversation comes from
// `?conversation_id=` (and optionally `?conversation_url=`, and a viewer link's `?grant=`), else a small
// form asks for it; or the service starts one (DESIGN §12: the owner's test conversation, or a
// prospect's "Start" on a demo with `public_start`), which the page follows until it ends.

import { useState } from 'react';

import { fetchDemo } from '../api/client';
import { frameableUrl } from '../api/guards';
import type { ConversationRef, StartedConversation } from '../api/types';
import { AppHeader } from '../components/AppHeader';
import { ConversationForm } from '../conversation/ConversationForm';
import { StartConversation } from '../conversation/StartConversation';
import { useAsync } from '../hooks/useAsync';
import { navigate } from '../router';
import { DemoStage } from './DemoStage';
import { OwnerDemoPanel } from '../owner/OwnerDemoPanel';
import { OwnerBadge, OwnerSignIn } from '../owner/OwnerSignIn';
import { authConfig } from '../owner/ownerApi';
import { useOwner } from '../owner/ownerSession';

export function conversationFromQuery(search: string): ConversationRef | null {
  const params = new URLSearchParams(search);
  const conversationId = params.get('conversation_id')?.trim() ?? '';
  if (conversationId === '') return null;
  const grant = params.get('grant')?.trim() ?? '';
  return {
    conversation_id: conversationId,
    conversation_url: frameableUrl(params.get('conversation_url')),
    ...(grant === '' ? {} : { grant }),
  };
}

/** A prospect's way in when the owner allows it: the demo has `public_start` and the server has Tavus. */
function PublicStart({ demoId, onStarted }: { demoId: string; onStarted: (started: StartedConversation) => void }) {
  const demo = useAsync((signal) => fetchDemo(demoId, signal), demoId);
  const config = useAsync(() => authConfig(), 'auth-config');
  if (demo.status !== 'ready' || config.status !== 'ready') return null;
  if (!demo.value.public_start || !config.value.tavus.enabled) return null;
  return (
    <section className="card form" aria-labelledby="public-start-title">
      <h2 className="form__title" id="public-start-title">
        Talk to the demo agent
      </h2>
      <p className="muted">
        Start a video conversation with the agent of {demo.value.name}. It shows you the product as you talk.
      </p>
      <StartConversation
        demoId={demoId}
        ownerToken={null}
        label="Start"
        className="button button--primary button--block"
        onStarted={onStarted}
      />
    </section>
  );
}

export function DemoConfigurationPage({ demoId, search }: { demoId: string; search: string }) {
  const conversation = conversationFromQuery(search);
  const owner = useOwner();
  // A conversation the service started for this page. Kept in memory only: its session token is the
  // prospect's only proof, which must not land in the address or in history.
  const [started, setStarted] = useState<{ demoId: string; conversation: StartedConversation } | null>(null);
  const live = started !== null && started.demoId === demoId ? started.conversation : null;
  const onStarted = (value: StartedConversation) => {
    setStarted({ demoId, conversation: value });
  };

  if (conversation === null && live !== null) {
    return (
      <DemoStage
        key={`${demoId}\n${live.conversation_id}`}
        demoId={demoId}
        conversation={{ conversation_id: live.conversation_id, conversation_url: live.conversation_url }}
        started={{
          session: live.session,
          onEnded: () => {
            setStarted(null);
          },
        }}
      />
    );
  }

  if (conversation === null) {
    const start = (chosen: ConversationRef) => {
      // Into the address, so a reload (or a shared link) follows the same conversation.
      const params = new URLSearchParams({ conversation_id: chosen.conversation_id });
      if (chosen.conversation_url !== null) params.set('conversation_url', chosen.conversation_url);
      navigate(`${window.location.pathname}?${params.toString()}`, { replace: true });
    };
    return (
      <div className="app">
        <AppHeader title={owner === null ? 'Start a demo session' : 'Demo settings'}>
          <OwnerBadge />
        </AppHeader>
        <main className={owner === null ? 'page page--narrow' : 'page'}>
          {owner !== null && <OwnerDemoPanel demoId={demoId} owner={owner} onStarted={onStarted} />}
          {owner === null && <PublicStart demoId={demoId} onStarted={onStarted} />}
          <ConversationForm onSubmit={start} />
          {owner === null && <OwnerSignIn />}
        </main>
      </div>
    );
  }
  // Keyed: another conversation is a new session, new channel filter, fresh layout.
  return <DemoStage key={`${demoId}\n${conversation.conversation_id}`} demoId={demoId} conversation={conversation} />;
}
