// A page with nothing to show (unknown demo, unknown address): what happened, and the way back.

import type { ReactNode } from 'react';

import { Link } from '../router';

export function EmptyState({ title, children }: { title: string; children: ReactNode }) {
  return (
    <main className="page page--narrow">
      <div className="card empty-state">
        <h2>{title}</h2>
        <p className="muted">{children}</p>
        <Link href="/" className="button button--primary">
          See all demos
        </Link>
      </div>
    </main>
  );
}
