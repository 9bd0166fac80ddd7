import '@testing-library/jest-dom/vitest';
import { cleanup, configure } from '@testing-library/react';
import { afterEach, beforeEach, vi } from 'vitest';
import { FakeSocket } from './fakeSocket';

// Pages load lazily behind the session check; on a busy CI machine (test files run in
// parallel) the first render can take longer than Testing Library's 1 s default.
configure({ asyncUtilTimeout: 5000 });

// jsdom would dial a real server; pages get a socket that stays silent unless a test drives it.
beforeEach(() => {
  FakeSocket.instances = [];
  vi.stubGlobal('WebSocket', FakeSocket);
});

afterEach(() => {
  cleanup();
  window.localStorage.clear();
  delete document.documentElement.dataset['theme'];
  document.cookie = 'csrftoken=; expires=Thu, 01 Jan 1970 00:00:00 GMT; path=/';
});
