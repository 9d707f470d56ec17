/**
 * A reader that missed Redis reads the record from PostgreSQL and writes it back (`HotTier.rewarm`). When an end
 * lands between that read and that write, the write must not make the ended record current again in Redis (it
 * stayed so until it expired, a session's whole life: a logout undone for every instance reading Redis first).
 * An end leaves an end mark (read as a miss) that a re-warm does not overwrite, and that a write (PostgreSQL
 * first: a legitimate reopen) does. Real Redis.
 */
import test, { type ExecutionContext } from 'ava';
import { randomBytes } from 'node:crypto';
import { HotTier } from '../../../gateway/session/hot-tier.ts';
import type { StoredRecord } from '../../../gateway/session/durable-tier.ts';
import { createRedis } from '../../../gateway/store/redis.ts';
import { redisPrefix, redisUrl } from '../../helpers/services.ts';
import { storedRecord } from '../../helpers/stored-record.ts';

function session(key: Buffer, version: number, state: StoredRecord['state'], sealed = 'payload'): StoredRecord {
  return storedRecord('Session', { recordKey: key, lookupKey: null, accountKey: null, version, state, sealed });
}

function hotTier(t: ExecutionContext) {
  const redis = createRedis({ url: redisUrl(), keyPrefix: redisPrefix() });
  t.teardown(() => redis.quit());
  return new HotTier(redis, 1_000);
}

test('a re-warm landing after an end is dropped: the record stays a miss', async (t) => {
  const hot = hotTier(t);
  const key = randomBytes(32);
  await hot.put(session(key, 1, 'active'));
  const readBeforeTheEnd = session(key, 1, 'active');
  t.is(await hot.delete([key]), true);
  t.is(await hot.rewarm(readBeforeTheEnd), true);
  t.is(await hot.get(key), null, 'the ended record is not current in Redis');
});

test('a write after an end (a legitimate reopen, PostgreSQL first) replaces the end mark', async (t) => {
  const hot = hotTier(t);
  const key = randomBytes(32);
  await hot.delete([key]);
  await hot.put(session(key, 1, 'active', 'reopened'));
  t.like(await hot.get(key), { state: 'active', sealed: 'reopened' });
});

test('a re-warm does not overwrite a copy of the same version written since its read missed', async (t) => {
  const hot = hotTier(t);
  const key = randomBytes(32);
  await hot.put(session(key, 1, 'active', 'written-since'));
  await hot.rewarm(session(key, 1, 'active', 'read-before'));
  t.like(await hot.get(key), { sealed: 'written-since' });
});

test('a re-warm fills a miss, and a newer version read from PostgreSQL replaces an older copy', async (t) => {
  const hot = hotTier(t);
  const key = randomBytes(32);
  await hot.rewarm(session(key, 1, 'active', 'first'));
  t.like(await hot.get(key), { version: 1, sealed: 'first' });
  await hot.rewarm(session(key, 2, 'active', 'newer'));
  t.like(await hot.get(key), { version: 2, sealed: 'newer' });
});

test('a re-warm of the revoked record over a revocation’s version-only entry is written', async (t) => {
  const hot = hotTier(t);
  const key = randomBytes(32);
  await hot.setState([session(key, 2, 'revoked')]);
  t.is(await hot.get(key), null);
  await hot.rewarm(session(key, 1, 'active'));
  t.is(await hot.get(key), null, 'an older version read before the revocation is dropped');
  await hot.rewarm(session(key, 2, 'revoked'));
  t.like(await hot.get(key), { version: 2, state: 'revoked' });
});

test('an end mark keeps a revocation’s guard: an older version is not written over it', async (t) => {
  const hot = hotTier(t);
  const key = randomBytes(32);
  await hot.setState([session(key, 2, 'revoked')]);
  await hot.delete([key]);
  await hot.put(session(key, 1, 'active'));
  t.is(await hot.get(key), null, 'the version-1 write landed after the revocation and the end: dropped');
});

test('a revocation over an end mark takes its place: the revoked row read back is cached', async (t) => {
  const hot = hotTier(t);
  const key = randomBytes(32);
  await hot.put(session(key, 1, 'active'));
  await hot.delete([key]);
  await hot.setState([session(key, 2, 'revoked')]);
  await hot.rewarm(session(key, 1, 'active'));
  t.is(await hot.get(key), null, 'older than the revocation');
  await hot.rewarm(session(key, 2, 'revoked'));
  t.like(await hot.get(key), { version: 2, state: 'revoked' });
});

test('an eviction (a write Redis missed) keeps the revocation’s guard, and lets the current row back', async (t) => {
  const hot = hotTier(t);
  const key = randomBytes(32);
  await hot.put(session(key, 2, 'revoked'));
  t.deepEqual(await hot.evict([key]), [key]);
  t.is(await hot.get(key), null, 'the copy is gone');
  await hot.put(session(key, 1, 'active'));
  t.is(await hot.get(key), null, 'a late write of the version before the revocation is still dropped');
  await hot.rewarm(session(key, 2, 'revoked', 'current'));
  t.like(await hot.get(key), { version: 2, state: 'revoked', sealed: 'current' });
});

test('an eviction leaves an end mark as it is', async (t) => {
  const hot = hotTier(t);
  const key = randomBytes(32);
  await hot.put(session(key, 1, 'active'));
  await hot.delete([key]);
  await hot.evict([key]);
  await hot.rewarm(session(key, 1, 'active'));
  t.is(await hot.get(key), null, 'still ended: the re-warm is refused');
});
