/**
 * Who is asking: the client address, read only from what a trusted party wrote.
 *
 * - the TCP peer is the client unless it is one of the configured trusted proxies;
 * - when it is, `X-Forwarded-For` is read from the right: each entry a trusted proxy appended is skipped,
 *   and the first address that is not a trusted proxy is the client (the leftmost entries are written by
 *   the client and never believed);
 * - an entry that is not an IP address stops the walk: the last trusted hop's view is kept.
 */
import { BlockList, isIP } from 'node:net';

/** The trusted reverse proxies, as a matcher built once from the configuration. */
export interface TrustedProxies {
  has(address: string): boolean;
  /** True when no proxy is trusted (X-Forwarded-* are then ignored entirely). */
  readonly none: boolean;
}

/** Strips the IPv4-mapped IPv6 prefix (`::ffff:10.0.0.1`) so that IPv4 rules match. */
export function plainAddress(address: string): string {
  const lower = address.trim().toLowerCase();
  return lower.startsWith('::ffff:') && isIP(lower.slice(7)) === 4 ? lower.slice(7) : lower;
}

/**
 * Builds the matcher from addresses and CIDR blocks (`10.0.0.0/8`, `::1`, `fd00::/8`). The entries are
 * validated at boot (gateway/config/load.ts): an entry that is neither throws here too.
 *
 * @example
 * const trusted = trustedProxies(['127.0.0.1', '10.0.0.0/8']);
 * trusted.has('10.1.2.3'); // true
 */
export function trustedProxies(entries: readonly string[]): TrustedProxies {
  const list = new BlockList();
  for (const entry of entries) {
    const [address, prefix] = entry.split('/') as [string, string | undefined];
    const family = isIP(address);
    if (family === 0) throw new Error(`not an IP address or CIDR block: ${entry}`);
    const type = family === 4 ? 'ipv4' : 'ipv6';
    if (prefix === undefined) list.addAddress(address, type);
    else list.addSubnet(address, Number(prefix), type);
  }
  return {
    none: entries.length === 0,
    has(candidate) {
      const address = plainAddress(candidate);
      const family = isIP(address);
      return family !== 0 && list.check(address, family === 4 ? 'ipv4' : 'ipv6');
    },
  };
}

/**
 * The client address of a request from `peer` carrying `forwardedFor` (the raw X-Forwarded-For value).
 *
 * @example
 * clientAddress('10.0.0.2', '6.6.6.6, 203.0.113.7', trustedProxies(['10.0.0.0/8'])); // '203.0.113.7'
 */
export function clientAddress(peer: string, forwardedFor: string | undefined, trusted: TrustedProxies): string {
  let client = plainAddress(peer);
  if (!trusted.has(client) || !forwardedFor) return client;
  const hops = forwardedFor.split(',').map(plainAddress);
  for (let i = hops.length - 1; i >= 0; i--) {
    const hop = hops[i]!;
    if (isIP(hop) === 0) break;
    client = hop;
    if (!trusted.has(hop)) break;
  }
  return client;
}
