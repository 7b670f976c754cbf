// Who is signed in as an owner in this tab: an owner token (ADMIN_TOKEN, or a Supabase Auth access token),
// kept in sessionStorage only (gone with the tab, never in a URL), with the name the server knows it by.

import { useSyncExternalStore } from 'react';

const KEY = 'demo-relay:owner';
const CHANGED = 'demo-relay:owner-changed';

export interface OwnerSession {
  token: string;
  /** "admin token", or the signed-in user's email (GET /api/owner). */
  owner: string;
}

function read(): string | null {
  try {
    return window.sessionStorage.getItem(KEY);
  } catch {
    return null;
  }
}

let cachedRaw: string | null = null;
let cached: OwnerSession | null = null;

export function currentOwner(): OwnerSession | null {
  const raw = read();
  if (raw !== cachedRaw) {
    cachedRaw = raw;
    try {
      const value: unknown = raw === null ? null : JSON.parse(raw);
      cached =
        typeof value === 'object' && value !== null && 'token' in value && 'owner' in value
          ? { token: String(value.token), owner: String(value.owner) }
          : null;
    } catch {
      cached = null;
    }
  }
  return cached;
}

export function setOwner(session: OwnerSession | null): void {
  if (session === null) window.sessionStorage.removeItem(KEY);
  else window.sessionStorage.setItem(KEY, JSON.stringify(session));
  window.dispatchEvent(new Event(CHANGED));
}

function subscribe(onChange: () => void): () => void {
  window.addEventListener(CHANGED, onChange);
  window.addEventListener('storage', onChange);
  return () => {
    window.removeEventListener(CHANGED, onChange);
    window.removeEventListener('storage', onChange);
  };
}

export function useOwner(): OwnerSession | null {
  return useSyncExternalStore(subscribe, currentOwner, () => null);
}
