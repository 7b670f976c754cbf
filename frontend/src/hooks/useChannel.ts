// Subscribes to the session's channel through the transport the backend named, and unsubscribes when the
// session changes or the page goes away.

import { useEffect, useRef, useState } from 'react';

import type { Session } from '../api/types';
import type { ChannelEvent } from '../channel/events';
import { createTransport } from '../channel/selectTransport';
import type { ConnectionState } from '../channel/transport';

export function useChannel(
  session: Session | null,
  renew: () => Promise<Session>,
  onEvent: (event: ChannelEvent) => void,
): ConnectionState {
  const [state, setState] = useState<{ session: Session | null; value: ConnectionState }>({
    session: null,
    value: 'disconnected',
  });
  // The latest callbacks, without re-subscribing each time the page re-renders.
  const latest = useRef({ renew, onEvent });
  useEffect(() => {
    latest.current = { renew, onEvent };
  });

  useEffect(() => {
    if (session === null) return;
    const transport = createTransport(session, { renew: () => latest.current.renew() });
    return transport.subscribe({
      onEvent: (event) => {
        latest.current.onEvent(event);
      },
      onStateChange: (value) => {
        setState({ session, value });
      },
    });
  }, [session]);

  if (session === null) return 'disconnected';
  // Until this session's transport reports, it is connecting (not whatever an earlier one last said).
  return state.session === session ? state.value : 'connecting';
}
