// Uploads one file to a signed upload URL with the official supabase-js (`uploadToSignedUrl`), as the page
// does with Supabase Storage, and prints one JSON line: {"data":{…}} or {"error":{"message","status"}}.
// Args: --url URL --key ANON_KEY --bucket B --path P --token T --file F [--type video/mp4]

import { readFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';

const here = path.dirname(fileURLToPath(import.meta.url));
const frontend = process.env.FRONTEND_DIR ?? path.resolve(here, '..', '..', 'frontend');
const require = createRequire(path.join(frontend, 'package.json'));
const { createClient } = await import(pathToFileURL(require.resolve('@supabase/supabase-js')).href);
const WebSocket = require('ws');

const { values: args } = parseArgs({
  options: {
    url: { type: 'string' },
    key: { type: 'string' },
    bucket: { type: 'string' },
    path: { type: 'string' },
    token: { type: 'string' },
    file: { type: 'string' },
    type: { type: 'string', default: 'video/mp4' },
  },
});

const supabase = createClient(args.url, args.key, {
  auth: { persistSession: false, autoRefreshToken: false },
  realtime: { transport: WebSocket },
});
const file = new Blob([await readFile(args.file)], { type: args.type });
const { data, error } = await supabase.storage.from(args.bucket).uploadToSignedUrl(args.path, args.token, file);
console.log(JSON.stringify(error ? { error: { message: error.message, status: error.status ?? null } } : { data }));
