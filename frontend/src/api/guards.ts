// Tiny runtime checks for JSON that crosses the network: the server and the realtime transports are
// outside this program, so their data is `unknown` until a guard says otherwise.

export type JsonObject = Record<string, unknown>;

export function isObject(value: unknown): value is JsonObject {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

export function str(value: unknown): string | null {
  return typeof value === 'string' ? value : null;
}

export function nonEmpty(value: unknown): string | null {
  return typeof value === 'string' && value.trim() !== '' ? value : null;
}

/** A URL the browser may load media from: absolute http(s) only (never `javascript:` or `data:`).
 * Returned as given, not re-serialised: a signed URL must reach the server byte for byte. */
export function httpUrl(value: unknown): string | null {
  if (typeof value !== 'string') return null;
  try {
    const url = new URL(value);
    return url.protocol === 'https:' || url.protocol === 'http:' ? value : null;
  } catch {
    return null;
  }
}

/** A URL the page may put in an iframe. It comes from the address bar, so it must not be able to run
 * script in our origin: https only, plain http only for a local development host. */
export function frameableUrl(value: unknown): string | null {
  const href = httpUrl(value);
  if (href === null) return null;
  const url = new URL(href);
  const local = url.hostname === 'localhost' || url.hostname === '127.0.0.1' || url.hostname === '[::1]';
  return url.protocol === 'https:' || local ? href : null;
}
