import tseslint from 'typescript-eslint';

export default tseslint.config(
  { ignores: ['dist/**', 'release/**', 'node_modules/**', '.cache/**', 'bench/tmp/**', 'e2e/artifacts/**', 'native-bin/**'] },
  ...tseslint.configs.recommended,
  {
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      '@typescript-eslint/no-non-null-assertion': 'off',
    },
  },
  {
    // Raw ipcMain/ipcRenderer live in exactly two helper files; everything else goes through the typed contract.
    files: ['electron/**/*.ts'],
    ignores: ['electron/main/ipc.ts', 'electron/preload/preload.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        { paths: [{ name: 'electron', importNames: ['ipcMain', 'ipcRenderer'], message: 'Use electron/main/ipc.ts or electron/preload/preload.ts (the typed contract).' }] },
      ],
    },
  },
  {
    // The contract is shared by both sides: no node, no DOM, no electron.
    files: ['electron/shared/**/*.ts'],
    rules: {
      'no-restricted-imports': ['error', { paths: ['electron', 'fs', 'path', 'child_process'], patterns: ['node:*'] }],
    },
  },
  {
    // The core never imports electron.
    files: ['electron/core/**/*.ts', 'electron/cli/**/*.ts', 'electron/server/**/*.ts'],
    rules: { 'no-restricted-imports': ['error', { paths: ['electron'] }] },
  },
  {
    // The renderer talks only to the typed API.
    files: ['renderer/**/*.ts', 'renderer/**/*.tsx'],
    rules: {
      'no-restricted-imports': [
        'error',
        { paths: ['electron'], patterns: ['node:*', '**/electron/core/**', '**/electron/main/**', '**/electron/server/**', '**/electron/cli/**'] },
      ],
    },
  },
);
