/**
 * Loading a scope Redis lost from PostgreSQL (`RbaStore` read or count) never lowers a count: another instance
 * may have loaded the same scope and counted a login in Redis that PostgreSQL does not hold yet (its write
 * behind still on the way) between this load's read of PostgreSQL and its write to Redis. Each field is set
 * only where Redis holds none (it was a plain HSET of PostgreSQL's counts over them). And the mark of a scope
 * PostgreSQL holds nothing of (`t` 0) expires if no login counts it; a count keeps the scope (no TTL).
 * Real Redis and PostgreSQL; the other instance's count is made in Redis while this load's query runs.
 */
import test from 'ava';
import type pg from 'pg';
import { PERSON_COUNTS_SECONDS, RbaStore } from '../../gateway/risk/rba-store.ts';
import { redisPrefix } from '../helpers/services.ts';
import { stores } from './fixtures.ts';

/** The pool with `during` run once the next load of a scope from PostgreSQL answered, before the load goes on. */
function racedPool(pool: pg.Pool, during: () => Promise<void>): { pool: pg.Pool; ran: () => boolean } {
  let ran = false;
  const raced = Object.create(pool) as pg.Pool;
  raced.query = (async (config: { text?: string }, values?: unknown[]) => {
    const answer: unknown = await pool.query(config as pg.QueryConfig, values);
    if (!ran && /from rba_counts where scope/.test(config.text ?? '')) {
      ran = true;
      await during();
    }
    return answer;
  }) as unknown as pg.Pool['query'];
  return { pool: raced, ran: () => ran };
}

test.serial(
  'a load of PostgreSQL’s counts keeps a higher count another instance made in Redis meanwhile',
  async (t) => {
    const s = await stores();
    t.teardown(() => s.close());
    const scope = `acct:raced-${process.pid}`;
    await s.pool.query(
      `insert into rba_counts (scope, field, count) values ($1, 't', 5), ($1, 'c:ua:v', 5), ($1, 'd:ua', 1)`,
      [scope],
    );
    const key = `rba:{rba}:${scope}`;
    // the other instance: loaded (5) and counted one login (6) in Redis, not yet in PostgreSQL
    const raced = racedPool(s.pool, async () => void (await s.redis.hset(key, { t: '6', 'c:ua:v': '6', 'd:ua': '1' })));
    const store = new RbaStore(s.redis, raced.pool);
    const read = await store.read([scope], { ua: 'v' });
    t.true(raced.ran(), 'the other instance counted during the load');
    t.is(read.counts[0]!.total, 6, 'the count made meanwhile is kept');
    t.is(read.counts[0]!.count('ua', 'v'), 6);
    t.deepEqual(await s.redis.hgetall(key), { t: '6', 'c:ua:v': '6', 'd:ua': '1' });
  },
);

test.serial('the mark of a scope PostgreSQL holds nothing of expires; a count keeps the scope 90 days', async (t) => {
  const s = await stores();
  t.teardown(() => s.close());
  const scope = `acct:new-${process.pid}`;
  const store = new RbaStore(s.redis, s.pool);
  await store.read([scope], { ua: 'v' });
  const key = `rba:{rba}:${scope}`;
  await s.redis.ping(); // the mark is not awaited by the read: this connection ran it before the ping
  t.is(await s.redis.hget(key, 't'), '0', 'marked held');
  const ttl = await s.redis.pttl(key);
  t.true(ttl > 0, `the mark expires (pttl ${ttl}; prefix ${redisPrefix()})`);
  await store.learn(scope, { ua: 'v' });
  t.is(await s.redis.hget(key, 't'), '1');
  const kept = await s.redis.ttl(key);
  t.true(
    kept > PERSON_COUNTS_SECONDS - 60 && kept <= PERSON_COUNTS_SECONDS,
    `counted: the person's counts are kept 90 days from their last count, as in PostgreSQL (ttl ${kept})`,
  );
  t.is(await s.redis.ttl('rba:{rba}:global'), -1, 'everyone’s counts are kept');
});
