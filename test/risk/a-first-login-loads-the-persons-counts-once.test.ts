/**
 * Issue #14 (PostgreSQL per login): a person's first login reads the person's RBA counts (the device stage)
 * and then counts the login (`learn`, at completion). PostgreSQL held nothing of the person: it was asked
 * twice, once by the read and again by the count. The read now marks the empty scope held in Redis (`t` 0),
 * so the count asks PostgreSQL nothing; the counts are the same (a first login counts the person among the
 * people, `u`). The mark is an HSETNX: a count another login made meanwhile is never lowered.
 * Real Redis and PostgreSQL; statements counted on node-postgres.
 */
import test from 'ava';
import pg from 'pg';
import { deviceFeatures } from '../../gateway/risk/device-stage.ts';
import { GLOBAL_SCOPE, RbaStore } from '../../gateway/risk/rba-store.ts';
import { durableTotal, signals, stores } from './fixtures.ts';

const loads: string[] = [];
const query = pg.Client.prototype.query as (...args: unknown[]) => unknown;
pg.Client.prototype.query = function countedQuery(this: pg.Client, ...args: unknown[]) {
  const text = typeof args[0] === 'string' ? args[0] : ((args[0] as { text?: string } | null)?.text ?? '');
  const values = typeof args[0] === 'string' ? args[1] : (args[0] as { values?: unknown[] } | null)?.values;
  if (/^\s*select .* from rba_counts where scope/.test(text)) loads.push(String((values as unknown[])[0]));
  return query.apply(this, args);
} as typeof pg.Client.prototype.query;

test.serial('a first login: the person’s scope is asked of PostgreSQL once, and counted exactly', async (t) => {
  const s = await stores();
  t.teardown(() => s.close());
  const store = new RbaStore(s.redis, s.pool);
  const x = deviceFeatures(signals({ accountId: 'first' }), 'k');
  await store.learn('acct:someone-else', x); // the global scope exists, as in any running deployment
  const usersBefore = (await store.read([GLOBAL_SCOPE], x)).users;
  loads.length = 0;
  const read = await store.read(['acct:first', GLOBAL_SCOPE], x);
  t.is(read.counts[0]!.total, 0);
  await store.learn('acct:first', x);
  t.deepEqual(loads, ['acct:first'], 'one load of the person, none of everyone');
  const after = await store.read(['acct:first', GLOBAL_SCOPE], x);
  t.is(after.counts[0]!.total, 1);
  t.is(after.users, usersBefore + 1, 'the first login counts the person among the people');
  const [feature, value] = Object.entries(x)[0]!;
  t.is(after.counts[0]!.count(feature, value), 1);
  t.is(after.counts[0]!.distinct(feature), 1);
  await durableTotal(s.pool, 'acct:first', 1);
  const { rows } = await s.pool.query<{ count: string }>(
    `select count::text as count from rba_counts where scope = $1 and field = 'u'`,
    [GLOBAL_SCOPE],
  );
  t.is(Number(rows[0]!.count), usersBefore + 1, 'the durable count of people too');
});
