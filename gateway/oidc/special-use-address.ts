/**
 * The special-use addresses (RFC 6890 and its updates) a request to a URL an RP registered must never reach: this
 * host, private networks, link-local (the cloud metadata service at 169.254.169.254), carrier-grade NAT, benchmark,
 * documentation and reserved ranges. The same list oidc-provider's own outward requests are held to
 * (`lib/helpers/fetch_request.js`), kept here with `net.BlockList`, which also matches an IPv4 address written as
 * IPv4-mapped IPv6 (`::ffff:7f00:1`).
 */
import { BlockList, isIP } from 'node:net';

const IPV4: ReadonlyArray<readonly [string, number]> = [
  ['0.0.0.0', 8],
  ['10.0.0.0', 8],
  ['100.64.0.0', 10],
  ['127.0.0.0', 8],
  ['169.254.0.0', 16],
  ['172.16.0.0', 12],
  ['192.0.0.0', 24],
  ['192.0.2.0', 24],
  ['192.31.196.0', 24],
  ['192.52.193.0', 24],
  ['192.88.99.0', 24],
  ['192.168.0.0', 16],
  ['192.175.48.0', 24],
  ['198.18.0.0', 15],
  ['198.51.100.0', 24],
  ['203.0.113.0', 24],
  ['240.0.0.0', 4],
];

const IPV6: ReadonlyArray<readonly [string, number]> = [
  ['::', 128],
  ['::1', 128],
  // IPv4-compatible (deprecated) and IPv4-translated forms of an IPv4 address, never a public destination
  ['::', 96],
  ['::ffff:0:0:0', 96],
  ['64:ff9b::', 96],
  ['64:ff9b:1::', 48],
  ['100::', 64],
  ['2001::', 23],
  ['2001:db8::', 32],
  ['2002::', 16],
  ['2620:4f:8000::', 48],
  ['3fff::', 20],
  ['5f00::', 16],
  ['fc00::', 7],
  ['fe80::', 10],
];

const SPECIAL_USE = new BlockList();
for (const [network, prefix] of IPV4) SPECIAL_USE.addSubnet(network, prefix, 'ipv4');
for (const [network, prefix] of IPV6) SPECIAL_USE.addSubnet(network, prefix, 'ipv6');

/**
 * Whether a connection to `address` (an IP address as DNS or a socket gives it) must be refused. Anything that is not
 * an IP address is refused too.
 *
 * @example
 * isSpecialUseAddress('169.254.169.254'); // true
 */
export function isSpecialUseAddress(address: string): boolean {
  const family = isIP(address);
  if (family === 0) return true;
  return SPECIAL_USE.check(address, family === 4 ? 'ipv4' : 'ipv6');
}
