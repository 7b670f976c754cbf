// The owner API (DESIGN §11) as the page calls it: every request carries the owner token; errors come back
// as OwnerApiError with the server's sentence, so the page can show it next to what caused it.

import { isObject, nonEmpty, str } from '../api/guards';

export class OwnerApiError extends Error {
  readonly status: number;
  readonly code: string | null;
  readonly field: string | null;

  constructor(message: string, status: number, code: string | null, field: string | null) {
    super(message);
    this.name = 'OwnerApiError';
    this.status = status;
    this.code = code;
    this.field = field;
  }
}

export interface OwnerVideo {
  id: string;
  title: string;
  duration_s: number | null;
  size_bytes: number | null;
  content_type: string | null;
}

export type SyncState = 'off' | 'pending' | 'synced' | 'failed';

/** The demo's Tavus persona and how its last sync went (DESIGN §12). */
export interface DemoTavus {
  persona_id: string | null;
  replica_id: string | null;
  sync: { state: SyncState; synced_at: string | null; error: string | null };
}

export interface OwnerDemo {
  id: string;
  name: string;
  public_start: boolean;
  tavus: DemoTavus;
  videos: OwnerVideo[];
}

/** What an owner may change of a demo with PATCH (any subset). */
export interface DemoPatch {
  name?: string;
  public_start?: boolean;
  tavus?: { persona_id: string | null; replica_id: string | null };
}

export interface Play {
  video_id: string | null;
  title: string;
  played_at: string;
}

export interface ConversationRecord {
  conversation_id: string;
  status: string;
  created_at: string;
  ended_at: string | null;
  plays: Play[];
}

function errorOf(status: number, body: unknown): OwnerApiError {
  const code = isObject(body) ? str(body.error) : null;
  let field = isObject(body) ? str(body.field) : null;
  let message = isObject(body) ? (str(body.message) ?? `the server answered ${status}`) : `the server answered ${status}`;
  if (isObject(body) && Array.isArray(body.problems) && isObject(body.problems[0])) {
    field = field ?? str(body.problems[0].key);
    message = str(body.problems[0].message) ?? message;
  }
  return new OwnerApiError(message, status, code, field);
}

async function call(token: string, path: string, init: RequestInit = {}): Promise<unknown> {
  const headers = new Headers(init.headers);
  headers.set('Accept', 'application/json');
  headers.set('Authorization', `Bearer ${token}`);
  const response = await fetch(path, { ...init, headers });
  const body: unknown = response.status === 204 ? null : await response.json().catch(() => null);
  if (!response.ok) throw errorOf(response.status, body);
  return body;
}

const json = (method: string, body: unknown): RequestInit => ({
  method,
  headers: { 'Content-Type': 'application/json' },
  body: JSON.stringify(body),
});

function video(value: unknown): OwnerVideo {
  if (!isObject(value) || nonEmpty(value.id) === null) throw new OwnerApiError('malformed video', 0, null, null);
  const num = (v: unknown) => (typeof v === 'number' ? v : null);
  return {
    id: String(value.id),
    title: str(value.title) ?? '',
    duration_s: num(value.duration_s),
    size_bytes: num(value.size_bytes),
    content_type: str(value.content_type),
  };
}

const SYNC_STATES: readonly string[] = ['off', 'pending', 'synced', 'failed'] satisfies SyncState[];

function tavusOf(value: unknown): DemoTavus {
  const tavus = isObject(value) ? value : {};
  const sync = isObject(tavus.sync) ? tavus.sync : {};
  const state = str(sync.state);
  return {
    persona_id: nonEmpty(tavus.persona_id),
    replica_id: nonEmpty(tavus.replica_id),
    sync: {
      // A server without the Tavus fields has nothing to sync.
      state: state !== null && SYNC_STATES.includes(state) ? (state as SyncState) : 'off',
      synced_at: nonEmpty(sync.synced_at),
      error: nonEmpty(sync.error),
    },
  };
}

function demo(value: unknown): OwnerDemo {
  if (!isObject(value) || nonEmpty(value.id) === null || !Array.isArray(value.videos)) {
    throw new OwnerApiError('malformed demo', 0, null, null);
  }
  return {
    id: String(value.id),
    name: str(value.name) ?? '',
    public_start: value.public_start === true,
    tavus: tavusOf(value.tavus),
    videos: value.videos.map(video),
  };
}

const demoPath = (demoId: string) => `/api/demos/${encodeURIComponent(demoId)}`;

export async function whoIs(token: string): Promise<string> {
  const body = await call(token, '/api/owner');
  return isObject(body) ? (str(body.owner) ?? 'owner') : 'owner';
}

export async function createDemo(token: string, name: string): Promise<OwnerDemo> {
  return demo(await call(token, '/api/demos', json('POST', { name })));
}

export async function fetchOwnerDemo(token: string, demoId: string): Promise<OwnerDemo> {
  return demo(await call(token, demoPath(demoId)));
}

export async function updateDemo(token: string, demoId: string, patch: DemoPatch): Promise<OwnerDemo> {
  return demo(await call(token, demoPath(demoId), json('PATCH', patch)));
}

/** Runs the persona sync now (instead of waiting for the background retry) and answers the demo after it. */
export async function syncPersona(token: string, demoId: string): Promise<OwnerDemo> {
  return demo(await call(token, `${demoPath(demoId)}/tavus/sync`, { method: 'POST' }));
}

export async function renameVideo(token: string, demoId: string, videoId: string, title: string): Promise<OwnerVideo> {
  return video(await call(token, `${demoPath(demoId)}/videos/${encodeURIComponent(videoId)}`, json('PATCH', { title })));
}

export async function deleteVideo(token: string, demoId: string, videoId: string): Promise<void> {
  await call(token, `${demoPath(demoId)}/videos/${encodeURIComponent(videoId)}`, { method: 'DELETE' });
}

export async function fetchConversations(token: string, demoId: string): Promise<ConversationRecord[]> {
  const body = await call(token, `${demoPath(demoId)}/conversations`);
  return Array.isArray(body) ? (body as ConversationRecord[]) : [];
}

export async function fetchTool(demoId: string): Promise<unknown> {
  const response = await fetch(`${demoPath(demoId)}/tool`, { headers: { Accept: 'application/json' } });
  const body: unknown = await response.json().catch(() => null);
  if (!response.ok) throw errorOf(response.status, body);
  return body;
}

export async function mintViewerLink(
  token: string,
  demoId: string,
  conversationId: string,
  conversationUrl: string | null,
): Promise<{ url: string; expires_at: string }> {
  const body: Record<string, string> = { conversation_id: conversationId };
  if (conversationUrl) body.conversation_url = conversationUrl;
  const answer = await call(token, `${demoPath(demoId)}/viewer-links`, json('POST', body));
  if (!isObject(answer) || str(answer.url) === null) throw new OwnerApiError('malformed viewer link', 0, null, null);
  return { url: String(answer.url), expires_at: str(answer.expires_at) ?? '' };
}

export interface SupabaseProject {
  url: string;
  anon_key: string;
}

function project(value: unknown): SupabaseProject | null {
  if (!isObject(value)) return null;
  const url = str(value.url);
  const anonKey = str(value.anon_key);
  return url && anonKey ? { url, anon_key: anonKey } : null;
}

export interface TavusConfig {
  /** The server has TAVUS_API_KEY: it can start conversations and sync personas. */
  enabled: boolean;
  delivery: 'app_message' | 'api';
}

export interface AuthConfig {
  signIn: SupabaseProject | null;
  directUploads: SupabaseProject | null;
  tavus: TavusConfig;
}

const TAVUS_OFF: TavusConfig = { enabled: false, delivery: 'app_message' };

function tavusConfig(value: unknown): TavusConfig {
  // A server that predates the field has no Tavus integration.
  if (!isObject(value)) return TAVUS_OFF;
  return { enabled: value.enabled === true, delivery: value.delivery === 'api' ? 'api' : 'app_message' };
}

/** How owners sign in (Supabase Auth, where set up), where uploads go (the Supabase bucket, where used),
 * and whether the server speaks to Tavus. */
export async function authConfig(): Promise<AuthConfig> {
  const response = await fetch('/api/auth-config', { headers: { Accept: 'application/json' } });
  const body: unknown = await response.json().catch(() => null);
  if (!response.ok || !isObject(body)) return { signIn: null, directUploads: null, tavus: TAVUS_OFF };
  return { signIn: project(body.supabase), directUploads: project(body.direct_uploads), tavus: tavusConfig(body.tavus) };
}

function sendWithProgress(
  request: XMLHttpRequest,
  body: FormData,
  onProgress: (fraction: number) => void,
  signal?: AbortSignal,
): Promise<unknown> {
  return new Promise((resolve, reject) => {
    request.upload.onprogress = (event) => {
      if (event.lengthComputable && event.total > 0) onProgress(event.loaded / event.total);
    };
    request.onload = () => {
      let parsed: unknown;
      try {
        parsed = JSON.parse(request.responseText);
      } catch {
        parsed = null;
      }
      if (request.status >= 200 && request.status < 300) resolve(parsed);
      else reject(errorOf(request.status, parsed));
    };
    request.onerror = () => {
      reject(new OwnerApiError('the upload was interrupted (network error)', 0, null, null));
    };
    request.onabort = () => {
      reject(new OwnerApiError('the upload was cancelled', 0, 'aborted', null));
    };
    signal?.addEventListener('abort', () => {
      request.abort();
    });
    request.send(body);
  });
}

/**
 * Uploads one file straight to the Supabase bucket (DESIGN §11): the relay signs an upload URL, the file
 * goes there with real progress (the request supabase-js's uploadToSignedUrl makes, sent with
 * XMLHttpRequest for its upload events), and the relay lists it once the object's bytes pass its checks.
 */
export async function uploadVideoDirect(
  token: string,
  demoId: string,
  file: File,
  title: string,
  supabase: SupabaseProject,
  onProgress: (fraction: number) => void,
  signal?: AbortSignal,
): Promise<OwnerVideo> {
  const grant = await call(token, `${demoPath(demoId)}/videos/direct`, json('POST', { filename: file.name, size_bytes: file.size }));
  if (!isObject(grant) || str(grant.signed_url) === null || str(grant.path) === null) {
    throw new OwnerApiError('malformed upload grant', 0, null, null);
  }
  const request = new XMLHttpRequest();
  request.open('PUT', String(grant.signed_url));
  request.setRequestHeader('apikey', supabase.anon_key);
  request.setRequestHeader('Authorization', `Bearer ${supabase.anon_key}`);
  request.setRequestHeader('x-upsert', 'false');
  const body = new FormData();
  body.append('cacheControl', '3600');
  body.append('', file, file.name);
  await sendWithProgress(request, body, (f) => {
    onProgress(Math.min(f, 0.99)); // 100 % once the relay has listed it
  }, signal);
  const listed = video(await call(token, `${demoPath(demoId)}/videos/direct/done`, json('POST', { path: String(grant.path), title })));
  onProgress(1);
  return listed;
}

/**
 * Uploads one file with real progress (XMLHttpRequest's upload events; fetch has none), as
 * multipart/form-data `title` + `file`. `onProgress` gets the fraction sent, 0…1.
 */
export async function uploadVideo(
  token: string,
  demoId: string,
  file: File,
  title: string,
  onProgress: (fraction: number) => void,
  signal?: AbortSignal,
): Promise<OwnerVideo> {
  const request = new XMLHttpRequest();
  request.open('POST', `${demoPath(demoId)}/videos`);
  request.setRequestHeader('Authorization', `Bearer ${token}`);
  request.setRequestHeader('Accept', 'application/json');
  const form = new FormData();
  form.append('title', title);
  form.append('file', file, file.name);
  const listed = video(await sendWithProgress(request, form, onProgress, signal));
  onProgress(1);
  return listed;
}
