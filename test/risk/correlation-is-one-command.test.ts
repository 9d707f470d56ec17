/**
 * Issue #14 (Redis commands per login): the correlation stage's windows, last location and IdP counts are
 * one command (a Lua script by SHA) in one round trip — it was a MULTI of 21 commands, 23 built, sent and
 * answered — with the same verdicts, and every key it writes still expires. The identity's last place is the last
 * login the policy let through: an attempt refused, flagged or stepped up never moves it.
 * Real Redis; commands and round trips counted on ioredis (a command sent alone, or one pipeline/MULTI).
 */
import test from 'ava';
import { Redis } from 'ioredis';
import { redisTraffic } from '../helpers/redis-traffic.ts';
import { CorrelationStage, placeOf, rememberPlace } from '../../gateway/risk/correlation-stage.ts';
import { signals, stores } from './fixtures.ts';

test.serial('one login of the correlation stage is one Redis command in one round trip', async (t) => {
  const s = await stores();
  t.teardown(() => s.close());
  const stage = new CorrelationStage(s.redis);
  await stage.evaluate(signals({ accountId: 'warm-up' })); // the script is loaded once per server
  await s.redis.ping();
  const before = { ...redisTraffic };
  const verdict = await stage.evaluate(signals({ accountId: 'one-command', deviceId: 'one-command-device' }));
  t.is(redisTraffic.commands - before.commands, 1, 'one command');
  t.is(redisTraffic.roundTrips - before.roundTrips, 1, 'one round trip');
  t.deepEqual(verdict.factors, []);
});

test.serial('the verdicts are unchanged: identities per device, impossible travel, an IdP burst', async (t) => {
  const s = await stores();
  t.teardown(() => s.close());
  const stage = new CorrelationStage(s.redis, { thresholds: { burstMin: 3, burstFactor: 2 } });
  const idp = `idp-${process.pid}-${Date.now()}`;
  const factors: string[][] = [];
  for (let i = 0; i < 4; i += 1)
    factors.push((await stage.evaluate(signals({ idp, accountId: `stuffed-${i}`, deviceId: 'stuffer' }))).factors);
  t.deepEqual(factors[0], []);
  t.deepEqual(factors[1], []);
  t.deepEqual(factors[2], ['correlation:idp_burst'], 'the third login of a fresh IdP this minute is a burst of 3');
  t.deepEqual(factors[3], ['correlation:identities_per_device', 'correlation:idp_burst']);

  const paris = signals({ accountId: 'traveller-1', at: Date.now() - 30 * 60_000 });
  await stage.evaluate(paris);
  await rememberPlace(s.redis, 'traveller-1', placeOf(paris)!); // that login was let through (its record, with an allow)
  const tokyo = await stage.evaluate(
    signals({
      accountId: 'traveller-1',
      network: { prefix: '203.0.113.0/24', asn: null, country: 'JP', lat: 35.68, lon: 139.69 },
    }),
  );
  t.true(tokyo.factors.includes('correlation:impossible_travel'));
  const unlocated = await stage.evaluate(
    signals({
      accountId: 'traveller-1',
      network: { prefix: '198.51.100.0/24', asn: null, country: 'FR', lat: null, lon: null },
    }),
  );
  t.false(unlocated.factors.includes('correlation:impossible_travel'), 'no location, no travel');
  const [kept] = JSON.parse((await s.redis.get('corr:{corr}:acct:traveller-1:loc'))!) as Array<{ lat: number }>;
  t.is(kept!.lat, 48.85, 'the last place is the last login let through: attempts (Tokyo, unlocated) never move it');
});

test.serial('an IdP burst counts identities: one identity logging in again and again is no burst', async (t) => {
  const s = await stores();
  t.teardown(() => s.close());
  const stage = new CorrelationStage(s.redis, { thresholds: { burstMin: 3, burstFactor: 2 } });
  const idp = `idp-one-person-${process.pid}-${Date.now()}`;
  const factors: string[][] = [];
  // one session's prompt=none requests, over and over: the same identity, the same device
  for (let i = 0; i < 6; i += 1)
    factors.push((await stage.evaluate(signals({ idp, accountId: 'the-same-one', deviceId: 'own' }))).factors);
  t.false(factors.flat().includes('correlation:idp_burst'), JSON.stringify(factors));
  const another = await stage.evaluate(signals({ idp, accountId: 'someone-else', deviceId: 'theirs' }));
  t.deepEqual(another.factors, [], 'nor for the next person of that IdP');
});

test.serial('an attempt that did not complete leaves the last place: the retry is measured from it', async (t) => {
  const s = await stores();
  t.teardown(() => s.close());
  const stage = new CorrelationStage(s.redis);
  const home = signals({ accountId: 'traveller-2', at: Date.now() - 30 * 60_000 });
  await stage.evaluate(home);
  await rememberPlace(s.redis, 'traveller-2', placeOf(home)!);
  const far = { prefix: '203.0.113.0/24', asn: null, country: 'JP', lat: 35.68, lon: 139.69 };
  const first = await stage.evaluate(signals({ accountId: 'traveller-2', network: far }));
  t.true(first.factors.includes('correlation:impossible_travel'), 'the attacker’s first attempt');
  // refused, flagged or stepped up: never learnt; the attacker tries again from the same place
  const retry = await stage.evaluate(signals({ accountId: 'traveller-2', network: far }));
  t.true(retry.factors.includes('correlation:impossible_travel'), 'the retry is still impossible travel');
});

test.serial('every key the stage writes expires', async (t) => {
  const s = await stores();
  t.teardown(() => s.close());
  const prefix = s.redis.options.keyPrefix!;
  const raw = new Redis(s.redis.options.port!, s.redis.options.host!);
  t.teardown(() => raw.disconnect());
  await new CorrelationStage(s.redis).evaluate(signals({ accountId: 'expiring', idp: 'expiring-idp' }));
  await rememberPlace(s.redis, 'expiring', placeOf(signals({ accountId: 'expiring' }))!);
  const keys = await raw.keys(`${prefix}corr:*`);
  // the device's and the network's windows, the identity's two windows, the IdP's minute, and the last place
  // (written when a login is let through)
  t.is(keys.length, 6, keys.join(', '));
  for (const key of keys) t.true((await raw.pttl(key)) > 0, `${key} expires`);
});
