/**
 * The hot tier never lets a late write undo a revocation: a re-warm that read PostgreSQL before the
 * revocation (version 1, active) and lands in Redis after it (version 2, revoked) is dropped, also when
 * Redis did not hold the session when the revocation was applied (a version-only entry stands in, read as
 * a miss so that the reader goes to PostgreSQL). Real Redis.
 */
import test from 'ava';
import { randomBytes } from 'node:crypto';
import { HotTier } from '../../../gateway/session/hot-tier.ts';
import type { StoredRecord } from '../../../gateway/session/durable-tier.ts';
import { createRedis } from '../../../gateway/store/redis.ts';
import { redisPrefix, redisUrl } from '../../helpers/services.ts';
import { storedRecord } from '../../helpers/stored-record.ts';

function session(version: number, state: StoredRecord['state']): StoredRecord {
  return storedRecord('Session', { recordKey: KEY, lookupKey: null, accountKey: null, version, state });
}
const KEY = randomBytes(32);

test('a late write of an older version never undoes a revocation in Redis', async (t) => {
  const redis = createRedis({ url: redisUrl(), keyPrefix: redisPrefix() });
  t.teardown(() => redis.quit());
  const hot = new HotTier(redis, 1_000);

  // Redis does not hold the session when the revocation is applied
  t.is(await hot.setState([session(2, 'revoked')]), true);
  t.is(await hot.get(KEY), null, 'a version-only entry is a miss');
  t.is(await hot.put(session(1, 'active')), true);
  t.is(await hot.get(KEY), null, 'the late version-1 write was dropped');

  // the revoked record itself (read back from PostgreSQL) is written
  await hot.put(session(2, 'revoked'));
  t.like(await hot.get(KEY), { version: 2, state: 'revoked' });
  // same version, not revoked: dropped too
  await hot.put(session(2, 'active'));
  t.like(await hot.get(KEY), { version: 2, state: 'revoked' });
  // a newer version is written
  await hot.put(session(3, 'active'));
  t.like(await hot.get(KEY), { version: 3, state: 'active' });
  // and an older revocation does not lower it
  await hot.setState([session(2, 'revoked')]);
  t.like(await hot.get(KEY), { version: 3, state: 'active' });
});
