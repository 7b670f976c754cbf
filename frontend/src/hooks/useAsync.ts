// Loads something once per key, cancelling the request when the key changes or the component goes away.

import { useEffect, useState } from 'react';

export type AsyncState<T> =
  | { status: 'loading' }
  | { status: 'ready'; value: T }
  | { status: 'error'; error: unknown };

/** `load` runs again when `key` or `attempt` (bump it to retry) changes. */
export function useAsync<T>(load: (signal: AbortSignal) => Promise<T>, key: string, attempt = 0): AsyncState<T> {
  const [state, setState] = useState<{ key: string; attempt: number; result: AsyncState<T> }>({
    key,
    attempt,
    result: { status: 'loading' },
  });

  useEffect(() => {
    const controller = new AbortController();
    load(controller.signal).then(
      (value) => {
        if (!controller.signal.aborted) setState({ key, attempt, result: { status: 'ready', value } });
      },
      (error: unknown) => {
        if (!controller.signal.aborted) setState({ key, attempt, result: { status: 'error', error } });
      },
    );
    return () => {
      controller.abort();
    };
    // `load` is a fresh closure each render; the key says when it means something new.
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [key, attempt]);

  // A result for an older key or attempt is stale: show loading until the new one lands.
  return state.key === key && state.attempt === attempt ? state.result : { status: 'loading' };
}
