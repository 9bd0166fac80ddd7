import { StrictMode } from 'react';
import { createRoot } from 'react-dom/client';
import { createQueryClient } from './api/queryClient';
import { App } from './App';
import { applyTheme, readStoredTheme } from './theme/theme';
import './styles/index.css';

// Before the first render, so a stored dark choice never flashes light.
applyTheme(readStoredTheme());

const container = document.getElementById('root');
if (!container) {
  throw new Error('index.html has no #root element');
}

createRoot(container).render(
  <StrictMode>
    <App queryClient={createQueryClient()} />
  </StrictMode>,
);
