// Signs in to Supabase Auth with the official supabase-js (resolved from frontend/node_modules), as the
// page's owner sign-in does, and prints one JSON line:
//   {"access_token":"…","expires_at":…,"user":{"id","email"},"checked":{"id","email"}}  (checked: getUser())
//   {"error":{"status":400,"code":"invalid_credentials","message":"…"}}                   (a refused sign-in)
// Then signs out. Args: --url URL --key ANON_KEY --email E --password P

import { parseArgs } from 'node:util';

import { serverlessClient } from './supabase_js.mjs';

const { values: args } = parseArgs({
  options: {
    url: { type: 'string' },
    key: { type: 'string' },
    email: { type: 'string' },
    password: { type: 'string' },
  },
});

const supabase = serverlessClient(args.url, args.key);
const { data, error } = await supabase.auth.signInWithPassword({ email: args.email, password: args.password });
if (error) {
  console.log(JSON.stringify({ error: { status: error.status, code: error.code, message: error.message } }));
  process.exit(0);
}
const checked = await supabase.auth.getUser();
if (checked.error) {
  console.log(JSON.stringify({ error: { status: checked.error.status, code: checked.error.code, message: checked.error.message, step: 'getUser' } }));
  process.exit(0);
}
console.log(
  JSON.stringify({
    access_token: data.session.access_token,
    expires_at: data.session.expires_at,
    user: { id: data.user.id, email: data.user.email },
    checked: { id: checked.data.user.id, email: checked.data.user.email },
  }),
);
const out = await supabase.auth.signOut();
if (out.error) process.exit(3);
