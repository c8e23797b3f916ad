/**
 * The shell's security decisions as pure functions (no electron import), so they can be unit-tested
 * without the runtime: which URLs are the app's own, what the CSP is, which local files the
 * `spotter-file:` protocol may serve, and how app:// URLs map onto the built renderer.
 */
import fs from 'node:fs/promises';
import path from 'node:path';
import { isInside } from '../core/fsutil.js';
import { thumbSize } from '../core/thumbs.js';

/**
 * The renderer is served from a privileged custom scheme rather than file://: a file:// page could
 * read any other file:// URL and has an opaque origin, while app://spotter serves only dist/renderer,
 * gives the page a real origin to check IPC senders and navigations against, and lets absolute
 * asset paths ("/assets/x.js") from the Vite build resolve.
 */
export const APP_SCHEME = 'app';
export const APP_HOST = 'spotter';
export const APP_ORIGIN = `${APP_SCHEME}://${APP_HOST}`;
export const APP_ENTRY_URL = `${APP_ORIGIN}/index.html`;

/**
 * The renderer's meta-tag policy, sent as a header too so it holds even without the tag. Differs
 * only in connect-src: no `ws:` (that is serve mode's transport; Electron talks over IPC), and adds
 * frame-ancestors, which a meta tag cannot carry.
 */
export const CONTENT_SECURITY_POLICY = [
  "default-src 'self'",
  "img-src 'self' data: blob: spotter-file:",
  "style-src 'self' 'unsafe-inline'",
  "connect-src 'self'",
  "object-src 'none'",
  "base-uri 'none'",
  "form-action 'none'",
  "frame-ancestors 'none'",
].join('; ');

function parse(url: string): URL | null {
  try {
    return new URL(url);
  } catch {
    return null;
  }
}

/**
 * True for URLs of the app's own pages. Compares scheme and host, not `URL.origin`: WHATWG URL gives
 * non-special schemes such as app: an opaque origin ("null") in Node.
 */
export function isAppUrl(url: string): boolean {
  const u = parse(url);
  return u !== null && u.protocol === `${APP_SCHEME}:` && u.host === APP_HOST;
}

/** Links the window may hand to the system browser: https only (no http, file, custom schemes). */
export function isExternalLinkAllowed(url: string): boolean {
  const u = parse(url);
  return u !== null && u.protocol === 'https:' && u.host !== '';
}

/**
 * Permissions the app's own page may use: writing to the clipboard (copy a path or a command).
 * Camera, microphone, notifications, geolocation, MIDI… are never needed; foreign origins get nothing.
 */
export function isPermissionAllowed(permission: string, requestingUrl: string | undefined): boolean {
  return permission === 'clipboard-sanitized-write' && requestingUrl !== undefined && isAppUrl(requestingUrl);
}

/** Response headers with the CSP forced on (any header of the same name, in any case, replaced). */
export function withCsp(headers: Record<string, string | string[]> | undefined): Record<string, string | string[]> {
  const out: Record<string, string | string[]> = {};
  for (const [k, v] of Object.entries(headers ?? {})) {
    if (k.toLowerCase() !== 'content-security-policy') out[k] = v;
  }
  out['Content-Security-Policy'] = [CONTENT_SECURITY_POLICY];
  return out;
}

export type FileRequest = { kind: 'file'; path: string } | { kind: 'thumb'; path: string; size: number };

/**
 * Parse `spotter-file://file/<encodeURIComponent(abs path)>` and
 * `spotter-file://thumb/<encodeURIComponent(abs path)>?size=N`. Returns null for anything else,
 * including relative paths (the renderer must name absolute files).
 */
export function parseFileRequest(url: string): FileRequest | null {
  const u = parse(url);
  if (!u || (u.host !== 'file' && u.host !== 'thumb')) return null;
  let p: string;
  try {
    p = decodeURIComponent(u.pathname.slice(1));
  } catch {
    return null;
  }
  if (p === '' || p.includes('\0') || !path.isAbsolute(p)) return null;
  if (u.host === 'file') return { kind: 'file', path: p };
  // thumbSize clamps to what the cache renders; a missing or non-numeric size gets its default
  return { kind: 'thumb', path: p, size: thumbSize(Number.parseInt(u.searchParams.get('size') ?? '', 10)) };
}

/**
 * The real path of `file` when it is a regular file inside one of `roots`, else null. Both sides are
 * resolved with realpath, so a symlink inside a root that points outside it is refused, and a root
 * reached through a symlink (e.g. /tmp on macOS) still matches.
 */
export async function resolveAllowedFile(file: string, roots: readonly string[]): Promise<string | null> {
  let real: string;
  try {
    real = await fs.realpath(file);
    if (!(await fs.stat(real)).isFile()) return null;
  } catch {
    return null;
  }
  for (const root of roots) {
    let realRoot: string;
    try {
      realRoot = await fs.realpath(root);
    } catch {
      continue; // a root that does not exist (yet) allows nothing
    }
    if (isInside(realRoot, real)) return real;
  }
  return null;
}

/**
 * The file under `rendererDir` an app:// URL names, or null when the URL is not the app's or would
 * leave the folder. `/` maps to index.html; paths without an extension fall back to index.html
 * (client-side routes), so reload on any route works.
 */
export function rendererFileFor(rendererDir: string, url: string): string | null {
  if (!isAppUrl(url)) return null;
  let rel: string;
  try {
    rel = decodeURIComponent(new URL(url).pathname);
  } catch {
    return null;
  }
  if (rel.includes('\0')) return null;
  if (rel === '/' || rel === '' || path.posix.extname(rel) === '') rel = '/index.html';
  const file = path.resolve(rendererDir, '.' + rel);
  return isInside(rendererDir, file) && file !== path.resolve(rendererDir) ? file : null;
}
