/**
 * What the gateway knows about a client address. No GeoIP or ASN database ships with the gateway, so the
 * default resolver knows the network prefix only (/24 for IPv4, /48 for IPv6) and reports country `ZZ`;
 * a deployment plugs in a real resolver (MaxMind or the operator's own) through the same interface, and
 * the simulator plugs in its synthetic one.
 */
import { isIPv4, isIPv6 } from 'node:net';
import type { NetworkInfo } from './types.ts';

export interface NetworkResolver {
  resolve(ip: string): NetworkInfo;
}

/** The /24 or /48 prefix of an address (`unknown` when it is not an address). */
export function prefixOf(ip: string): string {
  const bare = ip.startsWith('::ffff:') && isIPv4(ip.slice(7)) ? ip.slice(7) : ip;
  if (isIPv4(bare)) return `${bare.split('.').slice(0, 3).join('.')}.0/24`;
  if (isIPv6(bare)) {
    const [head = ''] = bare.split('::');
    return `${head.split(':').slice(0, 3).join(':')}::/48`;
  }
  return 'unknown';
}

/** The default: prefix only. */
export const prefixResolver: NetworkResolver = {
  resolve: (ip) => ({ prefix: prefixOf(ip), asn: null, country: 'ZZ', lat: null, lon: null }),
};
