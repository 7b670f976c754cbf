// Vitest setup: unmount React trees between tests (Testing Library doesn't auto-clean without globals).
import { cleanup } from '@testing-library/react';
import { afterEach } from 'vitest';

afterEach(() => {
  cleanup();
});
