import react from '@vitejs/plugin-react';
import { defineConfig } from 'vitest/config';

const backend = 'http://127.0.0.1:8000';

export default defineConfig(({ command }) => ({
  // Django serves the built files under /static/ and serves index.html itself for
  // every client-side route. The dev server keeps '/' so those routes resolve there too.
  base: command === 'build' ? '/static/' : '/',
  plugins: [react()],
  build: {
    outDir: 'dist',
    emptyOutDir: true,
  },
  server: {
    proxy: {
      '/api': backend,
      '/_allauth': backend,
      '/healthz': backend,
      '/readyz': backend,
      '/ws': { target: backend, ws: true },
    },
  },
  test: {
    environment: 'jsdom',
    setupFiles: ['./src/test/setup.ts'],
    include: ['src/**/*.test.{ts,tsx}'],
    restoreMocks: true,
    unstubGlobals: true,
    // Typing-heavy page tests take seconds on a loaded 2-core machine; 5 s made them flaky.
    testTimeout: 15000,
  },
}));
