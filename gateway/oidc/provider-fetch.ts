/**
 * How oidc-provider reaches an RP's server (its `jwks_uri`, its back-channel logout URI):
 *
 * - its SSRF guard (no special-use address, checked on the connected socket) stays for every URL except the
 *   loopback back-channel URIs the operator registered (config/clients.ts allows http only on loopback: a
 *   development or test RP on the same host);
 * - no redirect is followed unless the caller asked (the back-channel logout asks `manual`): a `jwks_uri` that
 *   answers 302 to another place, `http://` included, is an error, not the RP's keys;
 * - what the answer's body may weigh (`PROVIDER_FETCH_LIMITS`, the provider's `fetchResponseBodyLimits`): counted in
 *   decoded bytes, so a compressed bomb is cut off too. The library reads a `jwks_uri` answer whole by default.
 */
import { LOOPBACK_HOSTS } from '../config/check.ts';

/** `fetchResponseBodyLimits`: a JWKS of a few keys with their certificate chains is well under 256 KiB. */
export const PROVIDER_FETCH_LIMITS = {
  jwks_uri: 256 * 1024,
  sector_identifier_uri: 64 * 1024,
  'client_id metadata document': 5 * 1024,
};

/**
 * @example
 * configuration.fetch = fetchAllowingRegisteredLoopback(['http://127.0.0.1:8080/backchannel']);
 */
export function fetchAllowingRegisteredLoopback(
  registered: readonly string[],
): (url: URL | string, options: RequestInit & { dispatcher?: unknown }) => Promise<Response> {
  const loopback = new Set(
    registered.filter((u) => LOOPBACK_HOSTS.includes(new URL(u).hostname)).map((u) => new URL(u).href),
  );
  return (url, options) => {
    const href = new URL(url).href;
    const bounded = { ...options, redirect: options.redirect ?? 'error' };
    if (loopback.has(href)) {
      const { dispatcher: _guard, ...rest } = bounded;
      return globalThis.fetch(href, rest);
    }
    return globalThis.fetch(url, bounded);
  };
}
