// `/`: the demos on this server, each a card leading to its DemoConfigurationPage.

import { useEffect, useState, type SubmitEvent } from 'react';

import { fetchDemos } from '../api/client';
import { AppHeader } from '../components/AppHeader';
import { PlayIcon } from '../components/Icons';
import { RetryBanner } from '../components/RetryBanner';
import { useAsync } from '../hooks/useAsync';
import { OwnerBadge, OwnerSignIn } from '../owner/OwnerSignIn';
import { createDemo } from '../owner/ownerApi';
import { useOwner } from '../owner/ownerSession';
import { Link, navigate } from '../router';

function NewDemoForm({ token }: { token: string }) {
  const [name, setName] = useState('');
  const [problem, setProblem] = useState<string | null>(null);
  const submit = async (event: SubmitEvent<HTMLFormElement>) => {
    event.preventDefault();
    setProblem(null);
    try {
      const demo = await createDemo(token, name.trim());
      navigate(`/demos/${encodeURIComponent(demo.id)}`);
    } catch (error) {
      setProblem(error instanceof Error ? error.message : 'The demo could not be created.');
    }
  };
  return (
    <form className="card inline-form" onSubmit={(e) => void submit(e)}>
      <label htmlFor="new-demo-name">Demo name</label>
      <input
        id="new-demo-name"
        value={name}
        onChange={(e) => {
          setName(e.target.value);
        }}
        required
      />
      <button type="submit" disabled={name.trim() === ''}>
        New demo
      </button>
      {problem !== null && (
        <p className="form-error" role="alert">
          {problem}
        </p>
      )}
    </form>
  );
}

export function DemoListPage() {
  const [attempt, setAttempt] = useState(0);
  const demos = useAsync((signal) => fetchDemos(signal), 'demos', attempt);
  const owner = useOwner();

  useEffect(() => {
    document.title = 'Demos · demo-relay';
  }, []);

  return (
    <div className="app">
      <AppHeader title="Demos">
        <OwnerBadge />
      </AppHeader>
      <main className="page">
        {owner === null ? <OwnerSignIn /> : <NewDemoForm token={owner.token} />}
        <p className="lede">
          Pick a demo to open its page next to a Tavus conversation. When the agent calls <code>play_video</code>,
          the video plays in picture-in-picture.
        </p>
        {demos.status === 'loading' && (
          <p className="muted" role="status">
            Loading demos…
          </p>
        )}
        {demos.status === 'error' && (
          <RetryBanner
            message="The demos could not be loaded."
            onRetry={() => {
              setAttempt((n) => n + 1);
            }}
          />
        )}
        {demos.status === 'ready' && demos.value.length === 0 && (
          <div className="card empty-state">
            <h2>No demos yet</h2>
            <p className="muted">
              <code>demo-relay seed</code> adds a sample demo.
            </p>
          </div>
        )}
        {demos.status === 'ready' && demos.value.length > 0 && (
          <ul className="demo-grid">
            {demos.value.map((demo) => (
              <li key={demo.id}>
                <Link href={`/demos/${encodeURIComponent(demo.id)}`} className="card demo-card">
                  <span className="demo-card__icon" aria-hidden="true">
                    <PlayIcon size={20} />
                  </span>
                  <span className="demo-card__name">{demo.name}</span>
                  <span className="demo-card__meta">
                    {demo.videos.length === 1 ? '1 video' : `${demo.videos.length} videos`}
                  </span>
                  {demo.videos.length > 0 && (
                    <span className="demo-card__videos">{demo.videos.map((video) => video.title).join(' · ')}</span>
                  )}
                </Link>
              </li>
            ))}
          </ul>
        )}
      </main>
    </div>
  );
}
