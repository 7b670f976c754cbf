// `/demos/<demo_id>`: follows one Tavus conversation of a demo. The conversation comes from
// `?conversation_id=` (and optionally `?conversation_url=`, and a viewer link's `?grant=`), else a small
// form asks for it.

import { frameableUrl } from '../api/guards';
import type { ConversationRef } from '../api/types';
import { AppHeader } from '../components/AppHeader';
import { ConversationForm } from '../conversation/ConversationForm';
import { navigate } from '../router';
import { DemoStage } from './DemoStage';
import { OwnerDemoPanel } from '../owner/OwnerDemoPanel';
import { OwnerBadge, OwnerSignIn } from '../owner/OwnerSignIn';
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

export function DemoConfigurationPage({ demoId, search }: { demoId: string; search: string }) {
  const conversation = conversationFromQuery(search);
  const owner = useOwner();

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
          {owner !== null && <OwnerDemoPanel demoId={demoId} owner={owner} />}
          <ConversationForm onSubmit={start} />
          {owner === null && <OwnerSignIn />}
        </main>
      </div>
    );
  }
  // Keyed: another conversation is a new session, new channel filter, fresh layout.
  return <DemoStage key={`${demoId}\n${conversation.conversation_id}`} demoId={demoId} conversation={conversation} />;
}
