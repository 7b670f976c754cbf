import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';

import react from '@vitejs/plugin-react';
import type { Plugin } from 'vite';
import { defineConfig } from 'vitest/config';

/**
 * The service's OpenAPI viewer (/schema) from our own origin, never a CDN: Swagger UI's files, pinned in
 * package.json, go into the build under a versioned folder (the assets route caches them for a year).
 */
function openapiViewer(): Plugin {
  const root = path.dirname(createRequire(import.meta.url).resolve('swagger-ui-dist/package.json'));
  const { version } = JSON.parse(readFileSync(path.join(root, 'package.json'), 'utf8')) as { version: string };
  const files = ['swagger-ui-bundle.js', 'swagger-ui-standalone-preset.js', 'swagger-ui.css'];
  return {
    name: 'openapi-viewer',
    apply: 'build',
    generateBundle() {
      for (const file of files) {
        this.emitFile({
          type: 'asset',
          fileName: `assets/openapi-${version}/${file}`,
          source: readFileSync(path.join(root, file)),
        });
      }
    },
  };
}

// `vite dev` proxies the API to `demo-relay serve` on its default address. WebSocket URLs come from the
// session response and point at the backend directly (add the dev origin to ALLOWED_ORIGINS for that).
const backend = 'http://127.0.0.1:8000';

export default defineConfig({
  plugins: [react(), openapiViewer()],
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
