// The owner's side in jsdom, HTTP faked at fetch and XMLHttpRequest: a sign-in is checked before it is kept
// (and kept for the tab only), refusals are said in words, an owner opens sessions with the owner token,
// an upload shows its real progress and, when refused, why, and the Tavus section saves, syncs and
// follows the persona's sync state.

import { act, fireEvent, render, screen, waitFor } from '@testing-library/react';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';

import { createSession } from '../api/client';
import { OwnerDemoPanel, SYNC_POLL_MS } from './OwnerDemoPanel';
import { OwnerSignIn } from './OwnerSignIn';
import { currentOwner, setOwner } from './ownerSession';

const json = (body: unknown, status = 200) =>
  new Response(JSON.stringify(body), { status, headers: { 'Content-Type': 'application/json' } });

let fetchMock: ReturnType<typeof vi.fn<typeof fetch>>;

beforeEach(() => {
  window.sessionStorage.clear();
  fetchMock = vi.fn<typeof fetch>();
  vi.stubGlobal('fetch', fetchMock);
});

afterEach(() => {
  vi.unstubAllGlobals();
});

function route(handlers: Record<string, (init: RequestInit | undefined) => Response>) {
  fetchMock.mockImplementation((input, init) => {
    const url = typeof input === 'string' ? input : input instanceof URL ? input.pathname : input.url;
    const key = `${init?.method ?? 'GET'} ${url}`;
    const handler = handlers[key];
    return Promise.resolve(handler ? handler(init) : json({ error: 'not_found', message: key }, 404));
  });
}

describe('OwnerSignIn', () => {
  it('keeps a token only once GET /api/owner accepts it, and says why it refused one', async () => {
    route({
      'GET /api/auth-config': () => json({ supabase: null, direct_uploads: null }),
      'GET /api/owner': (init) =>
        new Headers(init?.headers).get('Authorization') === 'Bearer right-token-0123456789'
          ? json({ owner: 'admin token' })
          : json({ error: 'unauthorized', message: 'the owner token is not valid' }, 401),
    });
    render(<OwnerSignIn />);
    fireEvent.change(screen.getByLabelText('Admin token'), { target: { value: 'wrong' } });
    fireEvent.click(screen.getByRole('button', { name: 'Sign in' }));
    expect(await screen.findByRole('alert')).toHaveProperty('textContent', 'That token is not an owner token of this server.');
    expect(currentOwner()).toBeNull();

    fireEvent.change(screen.getByLabelText('Admin token'), { target: { value: 'right-token-0123456789' } });
    fireEvent.click(screen.getByRole('button', { name: 'Sign in' }));
    await waitFor(() => {
      expect(currentOwner()).toEqual({ token: 'right-token-0123456789', owner: 'admin token' });
    });
    expect(window.sessionStorage.length).toBe(1); // the tab's storage, not localStorage or a URL
    expect(window.localStorage.length).toBe(0);
  });

  it('offers Supabase email and password only where the server has owners there', async () => {
    route({ 'GET /api/auth-config': () => json({ supabase: { url: 'https://p.supabase.test', anon_key: 'anon' } }) });
    render(<OwnerSignIn />);
    expect(await screen.findByRole('button', { name: 'Sign in with Supabase' })).toBeTruthy();
  });
});

it('an owner signed in opens a session with the owner token; a viewer link sends its grant instead', async () => {
  setOwner({ token: 'owner-token-0123456789', owner: 'admin token' });
  const session = {
    channel: 'demo-d1',
    transport: 'websocket',
    demo_id: 'd1',
    conversation_id: 'c1',
    websocket: { url: 'ws://relay.test/ws/demo-d1', token: 't', expires_at: null },
    supabase: null,
  };
  route({ 'POST /api/demos/d1/sessions': () => json(session, 201) });
  await createSession('d1', { conversation_id: 'c1', conversation_url: null }, undefined, currentOwner()?.token);
  expect(new Headers(fetchMock.mock.calls[0]?.[1]?.headers).get('Authorization')).toBe('Bearer owner-token-0123456789');
  await createSession('d1', { conversation_id: 'c1', conversation_url: null, grant: 'g' }, undefined, 'owner-token-0123456789');
  expect(new Headers(fetchMock.mock.calls[1]?.[1]?.headers).get('Authorization')).toBeNull();
});

class FakeXhr {
  static last: FakeXhr | null = null;
  upload: { onprogress: ((event: { lengthComputable: boolean; loaded: number; total: number }) => void) | null } = {
    onprogress: null,
  };
  onload: (() => void) | null = null;
  onerror: (() => void) | null = null;
  onabort: (() => void) | null = null;
  status = 0;
  responseText = '';
  method = '';
  url = '';
  headers: Record<string, string> = {};
  body: FormData | null = null;
  constructor() {
    FakeXhr.last = this;
  }
  open(method: string, url: string) {
    this.method = method;
    this.url = url;
  }
  setRequestHeader(name: string, value: string) {
    this.headers[name] = value;
  }
  send(body: FormData) {
    this.body = body;
  }
  abort() {
    this.onabort?.();
  }
  progress(loaded: number, total: number) {
    this.upload.onprogress?.({ lengthComputable: true, loaded, total });
  }
  answer(status: number, body: unknown) {
    this.status = status;
    this.responseText = JSON.stringify(body);
    this.onload?.();
  }
}

describe('OwnerDemoPanel', () => {
  const demo = { id: 'd1', name: 'Acme', videos: [] as unknown[] };
  beforeEach(() => {
    vi.stubGlobal('XMLHttpRequest', FakeXhr);
    route({
      'GET /api/auth-config': () => json({ supabase: null, direct_uploads: null }),
      'GET /api/demos/d1': () => json(demo),
      'GET /api/demos/d1/tool': () => json({ function: {} }),
      'GET /api/demos/d1/conversations': () => json([]),
    });
  });

  it('shows an upload\'s real progress, then 100 % once listed', async () => {
    render(<OwnerDemoPanel demoId="d1" owner={{ token: 'tok-0123456789abcdef', owner: 'admin token' }} onStarted={() => undefined} />);
    await screen.findByText('No videos yet.');
    fireEvent.change(screen.getByLabelText('Upload video'), {
      target: { files: [new File([new Uint8Array(10)], 'Pricing_tour.mp4', { type: 'video/mp4' })] },
    });
    const xhr = FakeXhr.last;
    expect(xhr?.method).toBe('POST');
    expect(xhr?.headers.Authorization).toBe('Bearer tok-0123456789abcdef');
    expect(xhr?.body?.get('title')).toBe('Pricing tour');
    xhr?.progress(4, 10);
    await waitFor(() => {
      expect(screen.getByRole('progressbar').getAttribute('aria-valuenow')).toBe('40');
    });
    xhr?.answer(201, { id: 'v9', title: 'Pricing tour', duration_s: 6, size_bytes: 10, content_type: 'video/mp4' });
    await waitFor(() => {
      expect(screen.getByRole('progressbar').getAttribute('aria-valuenow')).toBe('100');
    });
  });

  it('says in words why an upload was refused, next to it', async () => {
    render(<OwnerDemoPanel demoId="d1" owner={{ token: 'tok-0123456789abcdef', owner: 'admin token' }} onStarted={() => undefined} />);
    await screen.findByText('No videos yet.');
    fireEvent.change(screen.getByLabelText('Upload video'), {
      target: { files: [new File(['hello'], 'notes.mp4', { type: 'video/mp4' })] },
    });
    FakeXhr.last?.answer(415, { error: 'unsupported_media_type', message: 'the file is not a video' });
    expect((await screen.findByRole('alert')).textContent).toBe('notes.mp4 is not an MP4, QuickTime or WebM video.');
  });
});

describe('OwnerDemoPanel: the Tavus section', () => {
  const owner = { token: 'tok-0123456789abcdef', owner: 'admin token' };
  const demoWith = (sync: Record<string, unknown>, extra: Record<string, unknown> = {}) => ({
    id: 'd1',
    name: 'Acme',
    public_start: false,
    videos: [],
    tavus: { persona_id: null, replica_id: null, sync: { state: 'off', synced_at: null, error: null, ...sync } },
    ...extra,
  });
  const base = {
    'GET /api/auth-config': () => json({ supabase: null, direct_uploads: null, tavus: { enabled: true, delivery: 'app_message' } }),
    'GET /api/demos/d1/tool': () => json({ function: {} }),
    'GET /api/demos/d1/conversations': () => json([]),
  };
  const syncText = () => screen.getByTestId('persona-sync').textContent;

  afterEach(() => {
    vi.useRealTimers();
  });

  it('saves persona, replica and public start with PATCH; "Sync now" shows the state it returns', async () => {
    let patched: unknown = null;
    route({
      ...base,
      'GET /api/demos/d1': () => json(demoWith({})),
      'PATCH /api/demos/d1': (init) => {
        patched = JSON.parse(init?.body as string);
        return json(demoWith({ state: 'pending' }, { public_start: true, tavus: { persona_id: 'p9', replica_id: null, sync: { state: 'pending' } } }));
      },
      'POST /api/demos/d1/tavus/sync': (init) =>
        new Headers(init?.headers).get('Authorization') === `Bearer ${owner.token}`
          ? json(demoWith({ state: 'synced', synced_at: '2026-12-07T03:00:00Z' }))
          : json({ error: 'unauthorized' }, 401),
    });
    render(<OwnerDemoPanel demoId="d1" owner={owner} onStarted={() => undefined} />);
    await screen.findByTestId('persona-sync');
    expect(syncText()).toContain('off');

    fireEvent.change(screen.getByLabelText('Persona ID'), { target: { value: ' p9 ' } });
    fireEvent.click(screen.getByLabelText('Anyone with the link may start a conversation'));
    fireEvent.click(screen.getByRole('button', { name: 'Save' }));
    await waitFor(() => {
      expect(syncText()).toContain('pending');
    });
    expect(patched).toEqual({ tavus: { persona_id: 'p9', replica_id: null }, public_start: true });
    expect(screen.getByRole('status').textContent).toBe('Saved.');

    fireEvent.click(screen.getByRole('button', { name: 'Sync now' }));
    await waitFor(() => {
      expect(syncText()).toContain('synced');
    });
    expect(syncText()).toContain(new Date('2026-12-07T03:00:00Z').toLocaleString());
    expect(screen.getByRole('button', { name: 'Start test conversation' })).toBeTruthy();
  });

  it('shows a failed sync with its error and follows it by itself until it settles', async () => {
    vi.useFakeTimers();
    const answers = [
      demoWith({ state: 'failed', error: 'Tavus answered 404: persona not found' }),
      demoWith({ state: 'pending' }),
      demoWith({ state: 'synced', synced_at: '2026-12-07T03:00:00Z' }),
    ];
    let reads = 0;
    route({
      ...base,
      'GET /api/demos/d1': () => json(answers[Math.min(reads++, answers.length - 1)]),
    });
    render(<OwnerDemoPanel demoId="d1" owner={owner} onStarted={() => undefined} />);
    await act(() => vi.advanceTimersByTimeAsync(0));
    expect(syncText()).toContain('failed');
    expect(syncText()).toContain('Tavus answered 404: persona not found');

    await act(() => vi.advanceTimersByTimeAsync(SYNC_POLL_MS));
    expect(syncText()).toContain('pending');
    await act(() => vi.advanceTimersByTimeAsync(SYNC_POLL_MS));
    expect(syncText()).toContain('synced');

    const settled = reads;
    await act(() => vi.advanceTimersByTimeAsync(SYNC_POLL_MS * 5));
    expect(reads).toBe(settled); // nothing left to follow
  });

  it('says why "Sync now" failed', async () => {
    route({
      ...base,
      'GET /api/demos/d1': () => json(demoWith({})),
      'POST /api/demos/d1/tavus/sync': () =>
        json({ error: 'tavus_not_configured', message: 'This demo has no Tavus persona yet.' }, 409),
    });
    render(<OwnerDemoPanel demoId="d1" owner={owner} onStarted={() => undefined} />);
    fireEvent.click(await screen.findByRole('button', { name: 'Sync now' }));
    expect((await screen.findByRole('alert')).textContent).toBe('This demo has no Tavus persona yet.');
  });
});
