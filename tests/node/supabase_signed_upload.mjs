// Uploads one file to a signed upload URL with the official supabase-js (`uploadToSignedUrl`), as the page
// does with Supabase Storage, and prints one JSON line: {"data":{…}} or {"error":{"message","status"}}.
// Args: --url URL --key ANON_KEY --bucket B --path P --token T --file F [--type video/mp4]

import { readFile } from 'node:fs/promises';
import { parseArgs } from 'node:util';

import { serverlessClient } from './supabase_js.mjs';

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

const supabase = serverlessClient(args.url, args.key);
const file = new Blob([await readFile(args.file)], { type: args.type });
const { data, error } = await supabase.storage.from(args.bucket).uploadToSignedUrl(args.path, args.token, file);
console.log(JSON.stringify(error ? { error: { message: error.message, status: error.status ?? null } } : { data }));
