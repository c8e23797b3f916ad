import '@mantine/core/styles.css';
import './app.css';
import { StrictMode } from 'react';
import { createRoot } from 'react-dom/client';
import { Alert, MantineProvider, createTheme } from '@mantine/core';
import { createTransport } from './api';
import type { Transport } from './api/types';
import { createSpotterStore } from './state/store';
import { subscribeEvents } from './state/events';
import { SpotterProvider } from './state/react';
import { hashToPage } from './state/route';
import { App } from './App';
import { errorMessage } from './lib/paths';

const theme = createTheme({
  primaryColor: 'blue',
  defaultRadius: 'sm',
  fontFamily: 'system-ui, -apple-system, "Segoe UI", Roboto, "Helvetica Neue", Arial, sans-serif',
  fontFamilyMonospace: 'ui-monospace, SFMono-Regular, Menlo, Consolas, "Liberation Mono", monospace',
});

const root = createRoot(document.getElementById('root')!);

let transport: Transport | null = null;
let startError: string | null = null;
try {
  transport = createTransport();
} catch (e) {
  startError = errorMessage(e);
}

if (!transport) {
  document.documentElement.dataset.appState = 'error';
  root.render(
    <MantineProvider theme={theme} defaultColorScheme="auto">
      <Alert color="red" title="Spotter could not start" m="xl" data-testid="app-error">
        {startError}
      </Alert>
    </MantineProvider>,
  );
} else {
  const store = createSpotterStore(transport);
  subscribeEvents(transport, store);
  // back/forward buttons (serve mode in a browser)
  window.addEventListener('popstate', () => store.getState().navigate(hashToPage(window.location.hash)));
  void store.getState().init();
  root.render(
    <StrictMode>
      <MantineProvider theme={theme} defaultColorScheme="auto">
        <SpotterProvider store={store} transport={transport}>
          <App />
        </SpotterProvider>
      </MantineProvider>
    </StrictMode>,
  );
}
