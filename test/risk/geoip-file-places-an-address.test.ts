/**
 * `risk.geoipFile`: the operator's GeoIP CSV (DB-IP City Lite as downloaded, or the gateway's own layout) places
 * an address, IPv4 and IPv6, so that the impossible-travel and new-location checks can fire; an address it does
 * not hold is `ZZ` with no coordinates, as without a file. A malformed file stops the boot naming its line, and a
 * gateway booted with a file resolves through it.
 */
import test from 'ava';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ConfigError } from '../../gateway/errors.ts';
import { geoipFileResolver } from '../../gateway/risk/geoip-file.ts';
import { startGatewayFixture } from '../helpers/gateway-fixture.ts';

const DBIP = fileURLToPath(new URL('./geoip/dbip-city-lite.csv', import.meta.url));
const OWN = fileURLToPath(new URL('./geoip/own-layout.csv', import.meta.url));

test('a DB-IP City Lite file places IPv4 and IPv6 addresses; an address it lacks is ZZ', (t) => {
  const geo = geoipFileResolver(DBIP);
  t.is(geo.ranges, 5);
  t.deepEqual(geo.resolve('203.0.113.7'), {
    prefix: '203.0.113.0/24',
    asn: null,
    country: 'FR',
    lat: 48.8566,
    lon: 2.35222,
  });
  t.like(geo.resolve('::ffff:198.51.100.9'), { country: 'JP', lat: 35.6895 });
  t.like(geo.resolve('1.0.0.0'), { country: 'AU' }, 'the first address of a range');
  t.like(geo.resolve('1.0.0.255'), { country: 'AU' }, 'its last');
  t.like(geo.resolve('2001:db8::1'), { country: 'FR' });
  t.like(geo.resolve('2001:db8:1:2::3'), { country: 'JP', lon: 139.692 });
  for (const ip of ['1.0.1.0', '8.8.8.8', '2001:db8:2::1', 'not-an-address'])
    t.like(geo.resolve(ip), { country: 'ZZ', lat: null, lon: null }, ip);
});

test('the own layout places an address with its ASN, and without coordinates when it has none', (t) => {
  const geo = geoipFileResolver(OWN);
  t.like(geo.resolve('192.0.2.5'), { country: 'DE', lat: 52.52, asn: 'AS3320' });
  t.like(geo.resolve('192.0.2.200'), { country: 'DE', lat: null, lon: null, asn: null });
});

test('a malformed file is a ConfigError naming risk.geoipFile and the line', (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'geoip-'));
  const cases: Array<[string, RegExp]> = [
    ['1.0.0.0,1.0.0.255,AU,-27,153\n0.0.0.0,0.255.255.255,AU,-27,153\n', /line 2: ranges must be sorted/],
    ['1.0.0.0,1.0.0.255,AU,-27,153\n1.0.0.128,1.0.1.0,AU,-27,153\n', /line 2: ranges must be sorted/],
    ['1.0.0.9,1.0.0.1,AU,-27,153\n', /line 1: the range ends before it starts/],
    ['1.0.0.0,2001:db8::,AU,-27,153\n', /line 1: .* is not a range of one address family/],
    ['1.0.0.0,1.0.0.255,Australia,-27,153\n', /line 1: country "Australia" is not ISO 3166/],
    ['1.0.0.0,1.0.0.255,AU,-127,153\n', /line 1: coordinate "-127"/],
    ['1.0.0.0,1.0.0.255,AU\n', /line 1: 3 fields/],
    ['1.0.0.0,1.0.0.255,"AU,-27,153\n', /line 1: an unclosed quote/],
  ];
  for (const [content, message] of cases) {
    const file = join(dir, 'geoip.csv');
    writeFileSync(file, content);
    const error = t.throws(() => geoipFileResolver(file), { instanceOf: ConfigError });
    t.is(error?.path, 'risk.geoipFile');
    t.regex(error?.message ?? '', message);
  }
  t.throws(() => geoipFileResolver(join(dir, 'absent.csv')), { instanceOf: ConfigError, message: /cannot read/ });
});

test('a gateway booted with risk.geoipFile places the addresses of its logins through it', async (t) => {
  const fx = await startGatewayFixture({
    rawConfig: (raw) => {
      raw.risk = { ...(raw.risk as object), geoipFile: DBIP };
    },
  });
  t.teardown(() => fx.stop());
  t.like(fx.gateway.services.fraud.resolver.resolve('198.51.100.9'), { country: 'JP', lat: 35.6895 });
});
