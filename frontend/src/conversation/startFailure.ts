// Why a conversation could not start, in words the person who clicked can act on (DESIGN §12's errors).

import { ApiError } from '../api/client';
import { isObject } from '../api/guards';

/** How many conversation slots are taken, as the 429 answer says (`in_use`, else its limit). */
function slotsInUse(body: unknown): string {
  if (isObject(body)) {
    for (const key of ['in_use', 'max_concurrent', 'limit']) {
      const value = body[key];
      if (typeof value === 'number' && Number.isFinite(value)) return String(value);
    }
  }
  return 'all';
}

export function startFailure(error: unknown): string {
  if (!(error instanceof ApiError)) {
    // fetch rejects only when the request never got an answer.
    return "The service can't be reached. Check the connection and try again.";
  }
  const { serverMessage, retryAfterS, body } = error.details;
  // A 429 is the capacity answer even from a proxy that drops the body.
  switch (error.code ?? (error.status === 429 ? 'tavus_capacity' : null)) {
    case 'tavus_capacity': {
      const wait = retryAfterS === null ? 'in a moment' : `in ${retryAfterS} s`;
      return `No free conversation slot right now (${slotsInUse(body)} in use). Try again ${wait}.`;
    }
    case 'tavus_unavailable':
      return "Tavus can't be reached right now. Try again shortly.";
    case 'tavus_unauthorized':
      return "Tavus refused this service's API key. The owner must fix TAVUS_API_KEY.";
    case 'tavus_rejected':
    case 'tavus_not_configured':
      // The server says what to change (an unknown persona, no persona set, no TAVUS_API_KEY).
      return serverMessage ?? 'Tavus is not set up for this demo.';
  }
  if (error.status === 401 || error.status === 403) {
    return 'Only the demo’s owner can start a conversation here. Sign in, or ask for a link.';
  }
  if (error.status === 404) return 'There is no demo with this id on this server.';
  return serverMessage ?? `The conversation could not be started (the service answered ${error.status}).`;
}
