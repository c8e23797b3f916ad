/** The native picker behind the `dialog.pick` call (serve mode has none; the UI shows a path field). */
import { BrowserWindow, dialog, type OpenDialogOptions } from 'electron';
import type { CoreApiOptions } from '../core/api.js';

export type Pick = NonNullable<CoreApiOptions['pick']>;

export const pickNative: Pick = async (kind, title) => {
  const options: OpenDialogOptions =
    kind === 'folder'
      ? { title: title ?? 'Choose a folder', properties: ['openDirectory', 'multiSelections', 'createDirectory'] }
      : {
          title: title ?? 'Choose files',
          properties: ['openFile', 'multiSelections'],
          filters: [
            { name: 'Annotation exports', extensions: ['zip', 'json', 'xml', 'yaml', 'yml', 'txt'] },
            { name: 'All files', extensions: ['*'] },
          ],
        };
  // Modal to the window when there is one, so the picker cannot end up behind it.
  const win = BrowserWindow.getFocusedWindow() ?? BrowserWindow.getAllWindows()[0];
  const result = win ? await dialog.showOpenDialog(win, options) : await dialog.showOpenDialog(options);
  return result.canceled || result.filePaths.length === 0 ? null : result.filePaths;
};
