import { createContext, useContext, type ReactNode } from 'react';
import { useStore } from 'zustand';
import type { Transport } from '../api/types';
import type { SpotterStore, State } from './store';

const StoreContext = createContext<SpotterStore | null>(null);
const TransportContext = createContext<Transport | null>(null);

export function SpotterProvider(props: { store: SpotterStore; transport: Transport; children: ReactNode }) {
  return (
    <TransportContext.Provider value={props.transport}>
      <StoreContext.Provider value={props.store}>{props.children}</StoreContext.Provider>
    </TransportContext.Provider>
  );
}

/** Subscribe to one slice of state; components re-render only when what the selector returns changes. */
export function useSpotter<T>(selector: (s: State) => T): T {
  const store = useContext(StoreContext);
  if (!store) throw new Error('useSpotter outside SpotterProvider');
  return useStore(store, selector);
}

export function useTransport(): Transport {
  const t = useContext(TransportContext);
  if (!t) throw new Error('useTransport outside SpotterProvider');
  return t;
}
