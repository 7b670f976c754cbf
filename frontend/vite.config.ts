import react from '@vitejs/plugin-react';
import { defineConfig } from 'vitest/config';

// `vite dev` proxies the API to `demo-relay serve` on its default address. WebSocket URLs come from the
// session response and point at the backend directly (add the dev origin to ALLOWED_ORIGINS for that).
const backend = 'http://127.0.0.1:8000';

export default defineConfig({
  plugins: [react()],
  build: {
    // Into the Python package, so the wheel carries the page the service serves.
    outDir: '../src/entrypoints/http/page',
    emptyOutDir: true,
    assetsDir: 'assets',
  },
  server: {
    proxy: { '/api': backend, '/media': backend },
  },
  test: {
    environment: 'jsdom',
    include: ['src/**/*.test.{ts,tsx}'],
    setupFiles: ['src/test/setup.ts'],
    restoreMocks: true,
  },
});
