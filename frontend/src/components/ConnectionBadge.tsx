// The connection indicator. The state word sits alone in the element tests read
// (`data-testid="connection-state"` reads exactly `connected` once subscribed); the dot is decoration.

import type { ConnectionState } from '../channel/transport';

const LABELS: Record<ConnectionState, string> = {
  connecting: 'Connecting to the demo channel',
  connected: 'Connected: videos the agent plays appear here',
  reconnecting: 'Connection lost, reconnecting',
  disconnected: 'Not connected',
};

export function ConnectionBadge({ state, via }: { state: ConnectionState; via: string | null }) {
  return (
    <div className={`connection connection--${state}`} title={LABELS[state]} role="status">
      <span className="connection__dot" aria-hidden="true" />
      <span data-testid="connection-state">{state}</span>
      {via !== null && state === 'connected' && <span className="connection__via">via {via}</span>}
    </div>
  );
}
