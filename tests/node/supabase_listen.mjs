// Subscribes to one Realtime channel with the official supabase-js (resolved from frontend/node_modules)
// and reports on stdout, one JSON object per line:
//   {"type":"status","status":"SUBSCRIBED"}            (every subscribe status; errors carry "error")
//   {"type":"broadcast","message":{...}}                 (exactly what the .on('broadcast') callback got)
//   {"type":"sent","result":"ok"}                        (after a "send" command)
// Commands on stdin, one per line: `send <json payload>` pushes a broadcast of --event over the socket
// (supabase-js encodes it as a vsn 2.0.0 binary frame), `quit` (or end of input) leaves and exits 0.
//
// Args: --url URL --key APIKEY [--topic demo-x] [--event play_video] [--private] [--token JWT]
//       [--vsn 1.0.0|2.0.0] [--heartbeat-ms N] [--self] [--ack]
// Node 20 has no global WebSocket that realtime-js accepts, so `ws` is passed as the transport.

import readline from 'node:readline';
import { parseArgs } from 'node:util';

import { createClient, WebSocket } from './supabase_js.mjs';

const { values: args } = parseArgs({
  options: {
    url: { type: 'string' },
    key: { type: 'string' },
    topic: { type: 'string', default: 'demo-x' },
    event: { type: 'string', default: 'play_video' },
    private: { type: 'boolean', default: false },
    token: { type: 'string' },
    vsn: { type: 'string' },
    'heartbeat-ms': { type: 'string' },
    self: { type: 'boolean', default: false },
    ack: { type: 'boolean', default: false },
  },
});
if (!args.url || !args.key) {
  console.error('usage: supabase_listen.mjs --url URL --key APIKEY [options]');
  process.exit(2);
}

const emit = (line) => process.stdout.write(`${JSON.stringify(line)}\n`);

const realtime = { transport: WebSocket };
if (args.vsn) realtime.vsn = args.vsn;
if (args['heartbeat-ms']) realtime.heartbeatIntervalMs = Number(args['heartbeat-ms']);
const supabase = createClient(args.url, args.key, {
  realtime,
  auth: { persistSession: false, autoRefreshToken: false },
});
if (args.token) await supabase.realtime.setAuth(args.token);

const channel = supabase.channel(args.topic, {
  config: { private: args.private, broadcast: { self: args.self, ack: args.ack } },
});
channel
  .on('broadcast', { event: args.event }, (message) => emit({ type: 'broadcast', message }))
  .subscribe((status, err) => emit({ type: 'status', status, ...(err ? { error: String(err.message ?? err) } : {}) }));

let quitting = false;
async function quit() {
  if (quitting) return;
  quitting = true;
  await supabase.removeAllChannels();
  process.exit(0);
}

const commands = readline.createInterface({ input: process.stdin });
commands.on('line', async (line) => {
  const [command, ...rest] = line.trim().split(' ');
  if (command === 'send') {
    const result = await channel.send({ type: 'broadcast', event: args.event, payload: JSON.parse(rest.join(' ')) });
    emit({ type: 'sent', result });
  } else if (command === 'quit') {
    await quit();
  }
});
commands.on('close', quit);
