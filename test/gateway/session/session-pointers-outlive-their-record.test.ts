/**
 * Issue #14: the hot tier writes a session's pointers (cookie id, sids → its record) to outlive the record
 * (twice its remaining life), and a save that knows the session's previous state (read in the same request)
 * writes only the pointers that state did not have, until the record would outlive them. A pointer is only
 * a shortcut (the reader checks the record it leads to), so a pointer outliving its record is harmless.
 * Real Redis; commands counted on ioredis.
 */
import test from 'ava';
import { HotTier, type HotRecord } from '../../../gateway/session/hot-tier.ts';
import type { StoredRecord } from '../../../gateway/session/durable-tier.ts';
import { createRedis } from '../../../gateway/store/redis.ts';
import { redisTraffic } from '../../helpers/redis-traffic.ts';
import { redisPrefix, redisUrl } from '../../helpers/services.ts';

const redis = createRedis({ url: redisUrl(), keyPrefix: redisPrefix() });
test.after.always(() => redis.quit());
const hot = new HotTier(redis, 2_000);

const key = (s: string) => Buffer.from(s.padEnd(32, '.'));
function session(recordKey: Buffer, lifeSeconds: number, sids: string[]): StoredRecord {
  const now = Date.now();
  return {
    recordKey,
    kind: 'Session',
    lookupKey: key(`jti-${recordKey.toString().slice(0, 6)}`),
    sidKeys: sids.map(key),
    grantKey: null,
    accountKey: null,
    idp: null,
    version: 1,
    state: 'active',
    dekVersion: 1,
    sealed: 'sealed',
    createdAt: new Date(now),
    expiresAt: new Date(now + lifeSeconds * 1000),
  };
}
const commands = async (work: () => Promise<unknown>) => {
  const before = redisTraffic.commands;
  await work();
  return redisTraffic.commands - before;
};

test.serial('pointers outlive their record; a save again writes only the new ones', async (t) => {
  const recordKey = key('rec-a');
  await hot.put(session(key('warm-up'), 60, [])); // the script loaded once per server
  t.is(await commands(() => hot.put(session(recordKey, 600, ['sid-1']))), 3, 'the record and its two pointers');
  const pointerTtl = await redis.ttl(`s2j:${key('jti-rec-a.').toString('hex')}`);
  t.true(pointerTtl > 1100 && pointerTtl <= 1200, `the cookie pointer lives twice the record's life (${pointerTtl})`);
  const read = (await hot.get(recordKey)) as HotRecord;
  t.true(read.pointersUntil! > read.expiresAt.getTime());
  t.is(await commands(() => hot.put(session(recordKey, 600, ['sid-1']), read)), 1, 'the record only');
  t.is(
    await commands(() => hot.put(session(recordKey, 600, ['sid-1', 'sid-2']), read)),
    2,
    'the record and the new sid pointer',
  );
  t.deepEqual(await hot.pointer('sid', key('sid-2')), recordKey);
  const sidTtl = await redis.ttl(`s2s:${key('sid-2').toString('hex')}`);
  t.true(sidTtl > 1100, `the new pointer lives as long as the others (${sidTtl})`);
  t.deepEqual(await hot.pointer('lookup', key('jti-rec-a.')), recordKey);
});

test.serial(
  'a record that would outlive its pointers writes them all again; so does a save without a previous state',
  async (t) => {
    const recordKey = key('rec-b');
    await hot.put(session(recordKey, 100, ['sid-b']));
    const read = (await hot.get(recordKey)) as HotRecord;
    t.is(await commands(() => hot.put(session(recordKey, 600, ['sid-b']), read)), 3, 'longer than the pointers');
    t.is(await commands(() => hot.put(session(recordKey, 600, ['sid-b']))), 3, 'nothing known of the pointers');
    const old = { ...read, pointersUntil: 0 }; // what the code before this one wrote: no `pu`
    t.is(await commands(() => hot.put(session(recordKey, 60, ['sid-b']), old)), 3);
  },
);
