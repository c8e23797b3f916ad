/**
 * The Electron shell: paths, the core, one locked-down window, two custom protocols, a small menu.
 * No product logic lives here; every call goes to the core through main/ipc.ts.
 */
import {
  app,
  BrowserWindow,
  dialog,
  Menu,
  net,
  powerSaveBlocker,
  protocol,
  session,
  shell,
  type MenuItemConstructorOptions,
  type Session,
} from 'electron';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { createCoreApi, type CoreApi } from '../core/api.js';
import { consoleLogger, type CoreContext, type Logger } from '../core/context.js';
import { thumbnail } from '../core/thumbs.js';
import { SPOTTER_VERSION } from '../core/version.js';
import { FILE_PROTOCOL } from '../shared/contract.js';
import { pickNative } from './dialogs.js';
import { createEmitter, registerIpc } from './ipc.js';
import {
  APP_ENTRY_URL,
  APP_ORIGIN,
  APP_SCHEME,
  CONTENT_SECURITY_POLICY,
  isAppUrl,
  isExternalLinkAllowed,
  isPermissionAllowed,
  parseFileRequest,
  rendererFileFor,
  resolveAllowedFile,
  withCsp,
} from './security.js';

// ---------------------------------------------------------------- before ready

// Both schemes are standard + secure so pages get a real origin and a secure context; spotter-file
// streams (large images, range requests). Must be registered before 'ready'.
protocol.registerSchemesAsPrivileged([
  { scheme: APP_SCHEME, privileges: { standard: true, secure: true, supportFetchAPI: true } },
  { scheme: FILE_PROTOCOL, privileges: { standard: true, secure: true, supportFetchAPI: true, stream: true } },
]);
app.enableSandbox();

// A second launch focuses the running window instead of starting a second core on the same files.
const primaryInstance = app.requestSingleInstanceLock();

// app.getAppPath() is the repo root under `electron .` and app.asar when packaged; dist/ is in both.
const appRoot = app.getAppPath();
const rendererDir = path.join(appRoot, 'dist', 'renderer');
const preloadPath = path.join(appRoot, 'dist', 'preload', 'preload.cjs');
const resourcesDir = app.isPackaged ? path.join(process.resourcesPath, 'resources') : path.join(appRoot, 'resources');
const dataDir = app.getPath('userData');
const isDev = !app.isPackaged;

function fileLogger(): Logger {
  const dir = path.join(dataDir, 'logs');
  fs.mkdirSync(dir, { recursive: true });
  return consoleLogger(isDev ? 'debug' : 'info', fs.createWriteStream(path.join(dir, 'main.log'), { flags: 'a' }));
}
const logger = fileLogger();

function defaultWorkspace(): string {
  try {
    return path.join(app.getPath('documents'), 'Spotter');
  } catch {
    return path.join(os.homedir(), 'Spotter'); // no documents folder known (bare Linux sessions)
  }
}

// ---------------------------------------------------------------- protocols

const text = (status: number, body: string) =>
  new Response(body, { status, headers: { 'content-type': 'text/plain; charset=utf-8' } });

/** app://spotter/… → files of dist/renderer only, with the CSP on every response. */
function serveRenderer(): void {
  protocol.handle(APP_SCHEME, async (request) => {
    if (request.method !== 'GET') return text(405, 'Method not allowed');
    const file = rendererFileFor(rendererDir, request.url);
    if (!file) return text(404, 'Not found');
    let res: Response;
    try {
      res = await net.fetch(pathToFileURL(file).toString());
    } catch {
      return text(404, 'Not found');
    }
    const headers = new Headers(res.headers);
    headers.set('Content-Security-Policy', CONTENT_SECURITY_POLICY);
    headers.set('X-Content-Type-Options', 'nosniff');
    return new Response(res.body, { status: res.status, headers });
  });
}

/**
 * spotter-file://file/<encoded abs path> and spotter-file://thumb/<encoded abs path>?size=N: only
 * regular files whose real path lies inside the core's allowed roots (workspace, temp imports,
 * bundled resources); anything else is 403.
 */
function serveLocalFiles(api: CoreApi, thumbsDir: string): void {
  protocol.handle(FILE_PROTOCOL, async (request) => {
    if (request.method !== 'GET') return text(405, 'Method not allowed');
    const req = parseFileRequest(request.url);
    if (!req) return text(400, 'Bad request');
    const real = await resolveAllowedFile(req.path, api.allowedRoots());
    if (!real) {
      logger.warn('spotter-file: refused', { path: req.path });
      return text(403, 'Forbidden');
    }
    try {
      const target = req.kind === 'file' ? real : await thumbnail(real, req.size, thumbsDir);
      return await net.fetch(pathToFileURL(target).toString());
    } catch (err) {
      logger.warn('spotter-file: failed', { path: real, error: err instanceof Error ? err.message : String(err) });
      return text(500, 'Cannot read file');
    }
  });
}

// ---------------------------------------------------------------- hardening

function hardenSession(ses: Session): void {
  ses.setPermissionRequestHandler((_wc, permission, callback, details) =>
    callback(isPermissionAllowed(permission, details.requestingUrl)),
  );
  ses.setPermissionCheckHandler((_wc, permission, requestingOrigin) => isPermissionAllowed(permission, requestingOrigin));
  ses.on('will-download', (event) => event.preventDefault());
  // The CSP header for the app's pages. protocol.handle already sets it on app:// responses; this
  // also covers any response Chromium routes through webRequest for the app's origin.
  ses.webRequest.onHeadersReceived((details, callback) => {
    callback(isAppUrl(details.url) ? { responseHeaders: withCsp(details.responseHeaders) } : {});
  });
}

// Every webContents (the window, and anything it might try to create): no navigation away from the
// app, no new windows (https links go to the system browser), no <webview>.
app.on('web-contents-created', (_event, contents) => {
  const guard = (event: { url: string; preventDefault(): void }) => {
    if (!isAppUrl(event.url)) {
      event.preventDefault();
      logger.warn('navigation denied', { url: event.url });
    }
  };
  contents.on('will-navigate', guard);
  contents.on('will-frame-navigate', guard);
  contents.on('will-redirect', guard);
  contents.on('will-attach-webview', (event) => event.preventDefault());
  contents.setWindowOpenHandler(({ url }) => {
    if (isExternalLinkAllowed(url)) void shell.openExternal(url);
    else logger.warn('window.open denied', { url });
    return { action: 'deny' };
  });
});

// ---------------------------------------------------------------- window and menu

function createWindow(): BrowserWindow {
  const win = new BrowserWindow({
    width: 1440,
    height: 900,
    minWidth: 960,
    minHeight: 600,
    title: 'Spotter',
    show: false,
    backgroundColor: '#1a1b1e',
    icon: path.join(resourcesDir, 'icons', 'icon.png'),
    webPreferences: {
      preload: preloadPath,
      contextIsolation: true,
      sandbox: true,
      nodeIntegration: false,
      nodeIntegrationInSubFrames: false,
      webSecurity: true,
      allowRunningInsecureContent: false,
      webviewTag: false,
      spellcheck: false,
      devTools: isDev,
    },
  });
  win.once('ready-to-show', () => win.show());
  // a page that cannot load never becomes ready-to-show: show the window anyway rather than nothing
  win.webContents.on('did-fail-load', (_event, code, description, url) => {
    logger.error('renderer failed to load', { code, description, url });
    if (!win.isVisible()) win.show();
  });
  void win.loadURL(APP_ENTRY_URL);
  return win;
}

/**
 * File > Open dataset…: pick a dataset folder (one with data.yaml, inside the workspace so its images
 * may be served) and open its page: the renderer routes by the URL hash (`#/dataset?dir=...`).
 */
async function openDataset(api: CoreApi): Promise<void> {
  const win = BrowserWindow.getFocusedWindow() ?? BrowserWindow.getAllWindows()[0] ?? createWindow();
  const { workspace } = await api['app.info']({});
  const result = await dialog.showOpenDialog(win, {
    title: 'Open dataset',
    defaultPath: path.join(workspace, 'datasets'),
    properties: ['openDirectory'],
  });
  const dir = result.filePaths[0];
  if (result.canceled || !dir) return;
  if (!(await resolveAllowedFile(path.join(dir, 'data.yaml'), api.allowedRoots()))) {
    await dialog.showMessageBox(win, {
      type: 'warning',
      message: 'Not a dataset in the workspace',
      detail: `${dir} has no data.yaml inside the workspace ${workspace}. Import it from the Import page, or switch the workspace to the folder that holds it.`,
    });
    return;
  }
  void win.loadURL(`${APP_ORIGIN}/index.html#/dataset?dir=${encodeURIComponent(dir)}`);
}

function buildMenu(api: CoreApi): Menu {
  const mac = process.platform === 'darwin';
  const template: MenuItemConstructorOptions[] = [
    ...(mac ? [{ role: 'appMenu' as const }] : []),
    {
      label: 'File',
      submenu: [
        {
          label: 'Open dataset…',
          accelerator: 'CmdOrCtrl+O',
          click: () => openDataset(api).catch((err) => logger.error('open dataset failed', { error: String(err) })),
        },
        { type: 'separator' },
        mac ? { role: 'close' } : { role: 'quit' },
      ],
    },
    // Without an Edit menu, copy/paste shortcuts do not work in text fields on macOS.
    { role: 'editMenu' },
    ...(isDev
      ? [{ label: 'View', submenu: [{ role: 'reload' }, { role: 'forceReload' }, { role: 'toggleDevTools' }] } as MenuItemConstructorOptions]
      : []),
    {
      role: 'help',
      submenu: [
        {
          label: 'About Spotter',
          click: () =>
            void dialog.showMessageBox({
              type: 'info',
              title: 'About Spotter',
              message: `Spotter ${SPOTTER_VERSION}`,
              detail: `From annotations to trained YOLO detectors.\nElectron ${process.versions.electron}, Node ${process.versions.node}\nData: ${dataDir}\nMIT licence. Ultralytics (AGPL-3.0) is installed separately into the trainer environment.`,
            }),
        },
      ],
    },
  ];
  return Menu.buildFromTemplate(template);
}

// ---------------------------------------------------------------- start

async function start(): Promise<void> {
  // execa is ESM-only and main is bundled to CommonJS: load it with import(), which esbuild keeps.
  const { execa } = await import('execa');
  const ctx: CoreContext = {
    // temporary imports live in the user's own data folder: a shared /tmp/spotter could be pre-created
    // (or symlinked) by another user of the machine
    paths: { dataDir, resourcesDir, tempDir: path.join(dataDir, 'tmp') },
    logger,
    spawn: (file, args, options) => execa(file, args, options),
    version: SPOTTER_VERSION,
  };
  const api = await createCoreApi(ctx, createEmitter(), {
    mode: 'electron',
    pick: pickNative,
    defaultWorkspace: defaultWorkspace(),
    // a training run keeps the computer from sleeping (the display may still turn off)
    keepAwake: (reason) => {
      const id = powerSaveBlocker.start('prevent-app-suspension');
      logger.info(`keeping the computer awake: ${reason}`);
      return () => {
        if (powerSaveBlocker.isStarted(id)) powerSaveBlocker.stop(id);
      };
    },
  });
  hardenSession(session.defaultSession);
  serveRenderer();
  serveLocalFiles(api, path.join(dataDir, 'thumbs'));
  registerIpc(api, logger);
  Menu.setApplicationMenu(buildMenu(api));
  createWindow();
  logger.info('started', { version: SPOTTER_VERSION, dataDir, resourcesDir, packaged: app.isPackaged });

  app.on('activate', () => {
    if (BrowserWindow.getAllWindows().length === 0) createWindow();
  });
  app.on('second-instance', () => {
    const win = BrowserWindow.getAllWindows()[0];
    if (win) {
      if (win.isMinimized()) win.restore();
      win.focus();
    }
  });
}

app.on('window-all-closed', () => {
  if (process.platform !== 'darwin') app.quit();
});
process.on('unhandledRejection', (reason) => logger.error('unhandled rejection', { reason: String(reason) }));

if (!primaryInstance) {
  app.quit();
} else {
  app
    .whenReady()
    .then(start)
    .catch((err: unknown) => {
      logger.error('start failed', { error: err instanceof Error ? (err.stack ?? err.message) : String(err) });
      dialog.showErrorBox('Spotter could not start', err instanceof Error ? err.message : String(err));
      app.quit();
    });
}
