/**
 * Issue #14 (PostgreSQL per login): the counters every login increments in PostgreSQL — the RBA counts'
 * write-behind and the risk aggregates — are coalesced: increments arriving while a write is in flight go in
 * the next write, summed per row, instead of one transaction per login all queueing on the same hot rows
 * (the global scope). Nothing is counted twice nor lost, and a caller is answered only once its write has
 * committed (or with that write's error). Real PostgreSQL and Redis; statements counted on node-postgres.
 */
import test from 'ava';
import pg from 'pg';
import { deviceFeatures } from '../../gateway/risk/device-stage.ts';
import { GLOBAL_SCOPE, RbaStore } from '../../gateway/risk/rba-store.ts';
import { CounterBatch } from '../../gateway/store/counter-batch.ts';
import { durableTotal, signals, stores } from './fixtures.ts';

const upserts = new Map<string, number>();
const query = pg.Client.prototype.query as (...args: unknown[]) => unknown;
pg.Client.prototype.query = function countedQuery(this: pg.Client, ...args: unknown[]) {
  const text = typeof args[0] === 'string' ? args[0] : ((args[0] as { text?: string } | null)?.text ?? '');
  const table = /^\s*insert into (rba_counts|risk_aggregates)\b/.exec(text)?.[1];
  if (table) upserts.set(table, (upserts.get(table) ?? 0) + 1);
  return query.apply(this, args);
} as typeof pg.Client.prototype.query;

test.serial('20 concurrent logins counted: the counts are exact, in far fewer than 20 transactions', async (t) => {
  const s = await stores();
  t.teardown(() => s.close());
  const store = new RbaStore(s.redis, s.pool);
  // warm: the global scope and the people are in Redis, so each learn is one script and one write-behind
  const people = Array.from({ length: 20 }, (_, i) => `acct:batch-${i}`);
  const x = (i: number) => deviceFeatures(signals({ accountId: `batch-${i}` }), 'k');
  await Promise.all(people.map((p, i) => store.learn(p, x(i))));
  for (const p of people) await durableTotal(s.pool, p, 1); // the global row is in the same statements
  const { rows: before } = await s.pool.query<{ count: string }>(
    `select count from rba_counts where scope = $1 and field = 't'`,
    [GLOBAL_SCOPE],
  );
  const globalBefore = Number(before[0]!.count);
  upserts.set('rba_counts', 0);
  await Promise.all(people.map((p, i) => store.learn(p, x(i))));
  for (const p of people) await durableTotal(s.pool, p, 2);
  await durableTotal(s.pool, GLOBAL_SCOPE, globalBefore + 20);
  const { rows: after } = await s.pool.query<{ count: string }>(
    `select count from rba_counts where scope = $1 and field = 't'`,
    [GLOBAL_SCOPE],
  );
  t.is(Number(after[0]!.count), globalBefore + 20, 'each login counted once in the global scope');
  t.true(upserts.get('rba_counts')! <= 3, `rba_counts upserts for 20 concurrent logins: ${upserts.get('rba_counts')}`);
});

test.serial('a caller is answered once its increments are committed, and with its write’s error', async (t) => {
  const written: Array<[string[][], number[]]> = [];
  const calls: Array<{ entered: Promise<void>; settle: (error?: Error) => void }> = [];
  const next = () => {
    let enter!: () => void;
    let settle!: (error?: Error) => void;
    const entered = new Promise<void>((resolve) => (enter = resolve));
    const done = new Promise<void>((resolve, reject) => (settle = (error) => (error ? reject(error) : resolve())));
    calls.push({ entered, settle });
    return { enter, done };
  };
  let pending = next();
  const batch = new CounterBatch(2, async (columns, counts) => {
    const call = pending;
    pending = next();
    call.enter();
    await call.done; // a write in flight: what comes meanwhile waits for the next one
    written.push([columns, counts]);
  });
  let firstSettled = false;
  const first = batch.add([['a', 'x']]).finally(() => (firstSettled = true));
  await calls[0]!.entered;
  const later = [
    batch.add([['b', 'y']]),
    batch.add([['a', 'x']]),
    batch.add([
      ['b', 'y'],
      ['a', 'x'],
    ]),
  ];
  await Promise.resolve();
  t.false(firstSettled, 'not answered before its write ends');
  calls[0]!.settle(new Error('refused'));
  await t.throwsAsync(first, { message: 'refused' });
  await calls[1]!.entered;
  calls[1]!.settle();
  await Promise.all(later);
  t.deepEqual(written, [
    [
      [
        ['a', 'b'],
        ['x', 'y'],
      ],
      [2, 2],
    ],
  ]);
  t.deepEqual(batch.stats, { statements: 2, increments: 5 });
});
