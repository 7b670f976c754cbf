import { DemoConfigurationPage } from './pages/DemoConfigurationPage';
import { DemoListPage } from './pages/DemoListPage';
import { NotFoundPage } from './pages/NotFoundPage';
import { matchRoute, useLocation } from './router';

export function App() {
  const location = useLocation();
  const queryAt = location.indexOf('?');
  const pathname = queryAt === -1 ? location : location.slice(0, queryAt);
  const search = queryAt === -1 ? '' : location.slice(queryAt);
  const route = matchRoute(pathname);
  switch (route.name) {
    case 'home':
      return <DemoListPage />;
    case 'demo':
      return <DemoConfigurationPage demoId={route.demoId} search={search} />;
    case 'not_found':
      return <NotFoundPage />;
  }
}
