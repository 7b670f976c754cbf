// Signing in as an owner: with an owner token (ADMIN_TOKEN), or with a Supabase Auth email and password
// where the server has OWNER_EMAILS (GET /api/auth-config). Either way the token is checked against
// GET /api/owner before it is kept, and a refusal is said in words next to the form.

import { useEffect, useState, type SubmitEvent } from 'react';

import { authConfig, OwnerApiError, whoIs } from './ownerApi';
import { setOwner, useOwner } from './ownerSession';

async function keep(token: string): Promise<void> {
  setOwner({ token, owner: await whoIs(token) });
}

function explain(error: unknown): string {
  if (error instanceof OwnerApiError) {
    if (error.status === 401) return 'That token is not an owner token of this server.';
    return error.message; // 403: the server names the user who is not an owner
  }
  return error instanceof Error ? error.message : 'Signing in failed.';
}

export function OwnerSignIn() {
  const [token, setToken] = useState('');
  const [problem, setProblem] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const [supabase, setSupabase] = useState<{ url: string; anon_key: string } | null>(null);
  const [email, setEmail] = useState('');
  const [password, setPassword] = useState('');

  useEffect(() => {
    void authConfig().then((config) => {
      setSupabase(config.signIn);
    }, () => undefined);
  }, []);

  const withToken = async (event: SubmitEvent<HTMLFormElement>) => {
    event.preventDefault();
    setBusy(true);
    setProblem(null);
    try {
      await keep(token.trim());
    } catch (error) {
      setProblem(explain(error));
    } finally {
      setBusy(false);
    }
  };

  const withSupabase = async (event: SubmitEvent<HTMLFormElement>) => {
    event.preventDefault();
    if (supabase === null) return;
    setBusy(true);
    setProblem(null);
    try {
      const { createClient } = await import('@supabase/supabase-js');
      const client = createClient(supabase.url, supabase.anon_key, { auth: { persistSession: false } });
      const { data, error } = await client.auth.signInWithPassword({ email: email.trim(), password });
      if (error) throw new Error(error.message);
      await keep(data.session.access_token);
    } catch (error) {
      setProblem(explain(error));
    } finally {
      setBusy(false);
    }
  };

  return (
    <section className="card owner-sign-in" aria-labelledby="owner-sign-in-title">
      <h2 id="owner-sign-in-title">Owner sign-in</h2>
      <p className="muted">Owners create demos, upload videos and mint viewer links.</p>
      <form onSubmit={(e) => void withToken(e)} className="inline-form">
        <label htmlFor="owner-token">Admin token</label>
        <input
          id="owner-token"
          type="password"
          autoComplete="off"
          value={token}
          onChange={(e) => {
            setToken(e.target.value);
          }}
          required
        />
        <button type="submit" disabled={busy || token.trim() === ''}>
          Sign in
        </button>
      </form>
      {supabase !== null && (
        <form onSubmit={(e) => void withSupabase(e)} className="inline-form">
          <label htmlFor="owner-email">Email</label>
          <input id="owner-email" type="email" value={email} onChange={(e) => { setEmail(e.target.value); }} required />
          <label htmlFor="owner-password">Password</label>
          <input
            id="owner-password"
            type="password"
            value={password}
            onChange={(e) => {
              setPassword(e.target.value);
            }}
            required
          />
          <button type="submit" disabled={busy}>
            Sign in with Supabase
          </button>
        </form>
      )}
      {problem !== null && (
        <p className="form-error" role="alert">
          {problem}
        </p>
      )}
    </section>
  );
}

/** "Signed in as …" and a way out, for the header. */
export function OwnerBadge() {
  const owner = useOwner();
  if (owner === null) return null;
  return (
    <span className="owner-badge">
      <span className="muted">Owner: {owner.owner}</span>
      <button
        type="button"
        className="link-button"
        onClick={() => {
          setOwner(null);
        }}
      >
        Sign out
      </button>
    </span>
  );
}
