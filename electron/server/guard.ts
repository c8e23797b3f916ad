/**
 * Who may talk to serve mode: the per-launch token, and the Host / Origin checks that stop a web
 * page in the user's browser from reaching the server through DNS rebinding or cross-site requests.
 */
import type { IncomingMessage } from 'node:http';
import { timingSafeEqual } from 'node:crypto';

const LOOPBACK_NAMES = new Set(['127.0.0.1', 'localhost', '[::1]', '::1']);

export function isLoopbackHost(host: string): boolean {
  const h = host.toLowerCase();
  return LOOPBACK_NAMES.has(h) || /^127(\.\d{1,3}){3}$/.test(h);
}

/** The host name of a Host header value (`name:port`, `[v6]:port`), lower-cased. */
export function hostName(hostHeader: string): string {
  const h = hostHeader.trim().toLowerCase();
  if (h.startsWith('[')) return h.slice(0, h.indexOf(']') + 1);
  const colon = h.lastIndexOf(':');
  return colon >= 0 ? h.slice(0, colon) : h;
}

export interface GuardOptions {
  token: string;
  /** extra host names accepted in Host (the bound address when remote access is allowed) */
  extraHosts: string[];
  /** skip the Host check (bound to a wildcard address with allowRemote; the token still applies) */
  anyHost: boolean;
}

export type GuardResult = { ok: true } | { ok: false; status: 401 | 403; message: string };

/**
 * Host must name the loopback interface (any port: an SSH tunnel may map another local port onto
 * ours); a rebinding attacker's page sends its own domain name here. Origin, when the browser sends
 * one, must be this very Host over http — a page elsewhere cannot call us even if it knew the token.
 */
export function checkHostAndOrigin(req: IncomingMessage, opts: GuardOptions): GuardResult {
  const host = req.headers.host;
  if (!host) return { ok: false, status: 403, message: 'missing Host header' };
  const name = hostName(host);
  if (!opts.anyHost && !isLoopbackHost(name) && !opts.extraHosts.includes(name)) {
    return { ok: false, status: 403, message: `Host "${host}" is not allowed (serve mode answers on loopback only)` };
  }
  const origin = req.headers.origin;
  if (origin !== undefined) {
    const own = [`http://${host.toLowerCase()}`, `https://${host.toLowerCase()}`];
    if (!own.includes(origin.toLowerCase())) {
      return { ok: false, status: 403, message: `Origin "${origin}" is not allowed` };
    }
  }
  return { ok: true };
}

export function tokenEquals(given: string | undefined | null, token: string): boolean {
  if (!given) return false;
  const a = Buffer.from(given);
  const b = Buffer.from(token);
  return a.length === b.length && timingSafeEqual(a, b);
}

/** The token from `Authorization: Bearer`, `x-spotter-token`, or `?token=` (for <img> URLs and the WebSocket). */
export function requestToken(req: IncomingMessage, url: URL): string | undefined {
  const auth = req.headers.authorization;
  if (auth?.startsWith('Bearer ')) return auth.slice(7).trim();
  const header = req.headers['x-spotter-token'];
  if (typeof header === 'string') return header;
  return url.searchParams.get('token') ?? undefined;
}
