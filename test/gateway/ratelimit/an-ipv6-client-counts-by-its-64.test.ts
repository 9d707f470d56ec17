/**
 * Per-address buckets count an IPv6 client by its /64 (ratelimit/address-key.ts): a client that holds a /64 and
 * takes a fresh address for every request is still one client. An IPv4-mapped address is its IPv4 address. Through
 * the real middleware and Redis (the per-address bucket of an endpoint; the IdP share uses the same key).
 */
import test from 'ava';
import { addressKey } from '../../../gateway/ratelimit/address-key.ts';
import { startRateLimitBed, statuses } from './ratelimit-bed.ts';

for (const [address, key] of [
  ['192.0.2.1', '192.0.2.1'],
  ['2001:db8:1:2:aaaa::1', '2001:db8:1:2::/64'],
  ['2001:db8:1:2:ffff:ffff:ffff:ffff', '2001:db8:1:2::/64'],
  ['2001:0db8:0000:0001::', '2001:db8:0:1::/64'],
  ['::ffff:192.0.2.7', '192.0.2.7'],
  ['::ffff:c000:207', '192.0.2.7'],
] as const)
  test(`${address} is counted as ${key}`, (t) => {
    t.is(addressKey(address), key);
  });

test('addresses of one /64 share a per-address bucket; another /64 has its own', async (t) => {
  const bed = await startRateLimitBed(
    { perIp: { capacity: 3, perSecond: 0.01 }, failures: { capacity: 1000, perSecond: 0.01 } },
    [],
  );
  t.teardown(() => bed.stop());
  let n = 0;
  const from = (prefix: string) => () =>
    fetch(`${bed.url}/auth`, { headers: { 'x-forwarded-for': `${prefix}:${(++n).toString(16)}` } });
  t.deepEqual(
    (await statuses(4, from('2001:db8:aa:1:0:0:0'))).map((a) => a.status),
    [200, 200, 200, 429],
    'a fresh address per request, one /64',
  );
  t.is((await from('2001:db8:aa:2:0:0:0')()).status, 200, 'the next /64');
});
