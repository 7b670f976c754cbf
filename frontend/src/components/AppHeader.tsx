import type { ReactNode } from 'react';

import { Link } from '../router';

/** The bar across the top: product name, where you are, and (on the demo page) the connection state. */
export function AppHeader({ title, children }: { title?: string | undefined; children?: ReactNode }) {
  return (
    <header className="app-header">
      <Link href="/" className="brand">
        <span className="brand__mark" aria-hidden="true" />
        <span className="brand__name">demo-relay</span>
      </Link>
      {title !== undefined && (
        <>
          <span className="app-header__sep" aria-hidden="true">
            /
          </span>
          <h1 className="app-header__title">{title}</h1>
        </>
      )}
      <div className="app-header__end">{children}</div>
    </header>
  );
}
