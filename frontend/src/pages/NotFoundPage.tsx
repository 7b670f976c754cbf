import { AppHeader } from '../components/AppHeader';
import { Link } from '../router';

export function NotFoundPage() {
  return (
    <div className="app">
      <AppHeader title="Not found" />
      <main className="page page--narrow">
        <div className="card empty-state">
          <h2>Nothing here</h2>
          <p className="muted">This address is not a page of demo-relay.</p>
          <Link href="/" className="button button--primary">
            See all demos
          </Link>
        </div>
      </main>
    </div>
  );
}
