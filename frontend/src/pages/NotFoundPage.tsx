import { AppHeader } from '../components/AppHeader';
import { EmptyState } from '../components/EmptyState';

export function NotFoundPage() {
  return (
    <div className="app">
      <AppHeader title="Not found" />
      <EmptyState title="Nothing here">This address is not a page of demo-relay.</EmptyState>
    </div>
  );
}
