import { defineConfig } from 'vite';
import react from '@vitejs/plugin-react';

// import.meta.dirname (Node >= 20.11) rather than node:path/url: the renderer's lint forbids node:*.
const here = import.meta.dirname;

// The renderer is loaded from a custom protocol (Electron) or from `spotter serve`:
// relative asset URLs (base './') work in both.
export default defineConfig({
  root: here,
  base: './',
  plugins: [react()],
  build: {
    outDir: '../dist/renderer', // relative to root
    emptyOutDir: true,
    target: 'es2022',
    sourcemap: true,
    chunkSizeWarningLimit: 1500,
  },
  server: { port: 5173, strictPort: false },
});
