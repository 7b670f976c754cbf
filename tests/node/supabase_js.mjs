// The official supabase-js, resolved from frontend/node_modules (the version the page ships), for the Node
// scripts the Python tests run. Fails loudly (non-zero exit) when it is missing: the tests must not skip.
// Node 20 has no global WebSocket that realtime-js accepts, so `ws` is its transport.

import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const here = path.dirname(fileURLToPath(import.meta.url));
const frontend = process.env.FRONTEND_DIR ?? path.resolve(here, '..', '..', 'frontend');
const require = createRequire(path.join(frontend, 'package.json'));

export const { createClient } = await import(pathToFileURL(require.resolve('@supabase/supabase-js')).href);
export const WebSocket = require('ws');

/** A client that keeps no session of its own (a script, not a browser). */
export function serverlessClient(url, key, options = {}) {
  return createClient(url, key, {
    auth: { persistSession: false, autoRefreshToken: false },
    ...options,
    realtime: { transport: WebSocket, ...(options.realtime ?? {}) },
  });
}
