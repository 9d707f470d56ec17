/**
 * A login's features are held for learning when it is assessed, and counted into the person's history only when
 * that login completes for that person. Held for another person than the one it completed for (an attacker
 * logged in as the victim, was asked for a step-up and answered it as their own account, the second assessment
 * not recorded), it is consumed and counted for nobody: never the attacker's device and address counted as the
 * victim's own (reviewer finding, fifteenth round: it was counted for the person it named). Real Redis, PostgreSQL.
 */
import test from 'ava';
import { deviceFeatures } from '../../gateway/risk/device-stage.ts';
import { RbaStore } from '../../gateway/risk/rba-store.ts';
import { signals, stores } from './fixtures.ts';

test.serial('a login held for one person and completed for another is counted for nobody, and consumed', async (t) => {
  const s = await stores();
  t.teardown(() => s.close());
  const store = new RbaStore(s.redis, s.pool);
  const seen = deviceFeatures(signals({ accountId: 'held-victim' }), 'k');
  await s.redis.set(store.heldKey('login-1'), JSON.stringify({ accountId: 'held-victim', features: seen }));
  t.is(await store.learnHeld('login-1', 'held-attacker'), null);
  t.is(await s.redis.exists(store.heldKey('login-1')), 0, 'consumed');
  for (const scope of ['acct:held-victim', 'acct:held-attacker']) {
    const { counts } = await store.read([scope], seen);
    t.is(counts[0]!.total, 0, `nothing counted for ${scope}`);
  }
});

test.serial('a login held for the person it completed for is counted for them, once', async (t) => {
  const s = await stores();
  t.teardown(() => s.close());
  const store = new RbaStore(s.redis, s.pool);
  const seen = deviceFeatures(signals({ accountId: 'held-owner' }), 'k');
  await s.redis.set(store.heldKey('login-2'), JSON.stringify({ accountId: 'held-owner', features: seen }));
  t.truthy(await store.learnHeld('login-2', 'held-owner'));
  t.is(await store.learnHeld('login-2', 'held-owner'), null, 'counted once');
  const { counts } = await store.read(['acct:held-owner'], seen);
  t.is(counts[0]!.total, 1);
});
