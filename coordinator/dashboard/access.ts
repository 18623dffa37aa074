import { randomBytes, timingSafeEqual } from 'node:crypto';
import { isIP } from 'node:net';
import { epError } from '../../core/errors.ts';

/** Loopback binds are reachable only from this machine; everything else needs a token. */
export function isLoopbackHost(host: string): boolean {
  const h = host.replace(/^\[|\]$/g, '').toLowerCase();
  if (h === 'localhost') return true;
  if (isIP(h) === 4) return h.startsWith('127.');
  return h === '::1';
}

export interface AccessPolicy {
  /** null: no token required (loopback bind without a configured token) */
  token: string | null;
  /** the token was generated here and must be printed at start */
  generated: boolean;
}

const MIN_TOKEN_LENGTH = 16;

/**
 * Loopback without a token: open. Any other bind: the configured token (--http-token or
 * EDGEPROBE_DASHBOARD_TOKEN), else a fresh random one the caller prints.
 */
export function accessPolicy(host: string, configured: string | undefined): AccessPolicy {
  if (configured !== undefined && configured !== '') {
    if (configured.length < MIN_TOKEN_LENGTH) throw epError('EP_DASHBOARD_TOKEN_SHORT', { length: configured.length, min: MIN_TOKEN_LENGTH });
    return { token: configured, generated: false };
  }
  if (isLoopbackHost(host)) return { token: null, generated: false };
  return { token: randomBytes(24).toString('base64url'), generated: true };
}

export const TOKEN_COOKIE = 'edgeprobe_dashboard';

/** The one route served without the token: GET of the registered `/login` route (Fastify's matched route, not the raw URL). */
export function isLoginRoute(method: string, routeUrl: string | undefined): boolean {
  return (method === 'GET' || method === 'HEAD') && routeUrl === '/login';
}

/** The token from `Authorization: Bearer`, the cookie the login link sets, or `?token=` (EventSource cannot set headers). */
export function presentedToken(headers: Record<string, string | string[] | undefined>, query: Record<string, unknown>): string | null {
  const auth = headers.authorization;
  if (typeof auth === 'string' && auth.startsWith('Bearer ')) return auth.slice(7).trim();
  const cookie = typeof headers.cookie === 'string' ? headers.cookie : '';
  for (const part of cookie.split(';')) {
    const [k, ...v] = part.trim().split('=');
    if (k === TOKEN_COOKIE) return decodeURIComponent(v.join('='));
  }
  return typeof query.token === 'string' ? query.token : null;
}

export function tokenMatches(expected: string, presented: string | null): boolean {
  if (presented === null) return false;
  const a = Buffer.from(expected);
  const b = Buffer.from(presented);
  return a.length === b.length && timingSafeEqual(a, b);
}
