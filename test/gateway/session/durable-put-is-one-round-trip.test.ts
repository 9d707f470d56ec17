/**
 * Issue #14: the durable tier writes a record in one PostgreSQL round trip (the function
 * `session_record_put`, migration 0645), with the same guarantees as the transaction it replaces: the
 * record's previous row is closed, a session keeps its version and creation time, a revoked session stays
 * revoked, and concurrent writers of one record leave exactly one current row. Real PostgreSQL; the
 * round trips are counted on node-postgres's Client.query (one query = one round trip).
 */
import test from 'ava';
import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { DurableTier, type StoredRecord } from '../../../gateway/session/durable-tier.ts';
import { createPool } from '../../../gateway/store/postgres.ts';
import { freshDatabase } from '../../helpers/services.ts';
import { storedRecord } from '../../helpers/stored-record.ts';

let queries = 0;
const query = pg.Client.prototype.query as (...args: unknown[]) => unknown;
pg.Client.prototype.query = function countedQuery(this: pg.Client, ...args: unknown[]) {
  queries += 1;
  return query.apply(this, args);
} as typeof pg.Client.prototype.query;

async function roundTrips<T>(work: () => Promise<T>): Promise<[T, number]> {
  const before = queries;
  const result = await work();
  return [result, queries - before];
}

/** The person every record here is of (a session's write naming another person moves its version on: 0830). */
const PERSON = randomBytes(32);

function record(kind: StoredRecord['kind'], key: Buffer, version: number, createdAt: Date): StoredRecord {
  return storedRecord(kind, {
    recordKey: key,
    accountKey: PERSON,
    sidKeys: kind === 'Session' ? [randomBytes(32)] : [],
    grantKey: kind === 'AccessToken' ? randomBytes(32) : null,
    version,
    createdAt,
  });
}

let pool: pg.Pool;
let durable: DurableTier;
test.before(async () => {
  pool = createPool(await freshDatabase());
  durable = new DurableTier(pool);
  await pool.query('select 1'); // the pool's first connection is not part of any measurement
});
test.after.always(() => pool?.end());

const currentRows = async (key: Buffer) =>
  Number(
    (
      await pool.query<{ n: string }>(
        'select count(*) as n from session_records where record_key = $1 and valid_to is null',
        [key],
      )
    ).rows[0]!.n,
  );

test.serial('a write of a new record and of a record that has a current row is one round trip each', async (t) => {
  const key = randomBytes(32);
  const [first, n1] = await roundTrips(() => durable.put(record('AccessToken', key, 1, new Date())));
  t.is(n1, 1);
  t.is(first.kind, 'AccessToken');
  const second = record('AccessToken', key, 1, new Date());
  const [, n2] = await roundTrips(() => durable.put(second));
  t.is(n2, 1);
  t.is(await currentRows(key), 1, 'the previous row was closed');
  t.is((await durable.get(key))?.sealed, second.sealed);
});

test.serial('a session keeps its version and creation time across writes, in one round trip', async (t) => {
  const key = randomBytes(32);
  const began = new Date(Date.now() - 60_000);
  await durable.put(record('Session', key, 3, began));
  const [stored, n] = await roundTrips(() => durable.put(record('Session', key, 1, new Date())));
  t.is(n, 1);
  t.is(stored.version, 3);
  t.is(stored.createdAt.getTime(), began.getTime());
  t.is(await currentRows(key), 1);
});

test.serial('a write to a revoked session is dropped and answers the revoked row', async (t) => {
  const key = randomBytes(32);
  const first = await durable.put(record('Session', key, 1, new Date()));
  await durable.revoke('session', key, 'test', 'test', 'test', true);
  const late = record('Session', key, 1, new Date());
  const [stored, n] = await roundTrips(() => durable.put(late));
  t.is(n, 1);
  t.is(stored.state, 'revoked');
  t.is(stored.version, 2);
  t.is(stored.sealed, first.sealed, 'the revoked row, not the late write');
  t.is((await durable.get(key))?.state, 'revoked');
});

test.serial('concurrent writers of one record leave exactly one current row', async (t) => {
  const key = randomBytes(32);
  await Promise.all(Array.from({ length: 12 }, () => durable.put(record('Grant', key, 1, new Date()))));
  t.is(await currentRows(key), 1);
});

test.serial('several records are written in one round trip, each as put writes it', async (t) => {
  const revokedKey = randomBytes(32);
  const revoked = await durable.put(record('Session', revokedKey, 1, new Date()));
  await durable.revoke('session', revokedKey, 'test', 'test', 'test', true);
  const freshKey = randomBytes(32);
  const replacedKey = randomBytes(32);
  await durable.put(record('UpstreamSession', replacedKey, 1, new Date()));
  const writes = [
    record('UpstreamSession', freshKey, 1, new Date()),
    record('Session', revokedKey, 1, new Date()),
    record('UpstreamSession', replacedKey, 1, new Date()),
  ];
  const [stored, n] = await roundTrips(() => durable.putMany(writes));
  t.is(n, 1);
  t.deepEqual(
    stored.map((r) => r.recordKey.toString('hex')),
    writes.map((r) => r.recordKey.toString('hex')),
    'answered in the order given',
  );
  t.is(stored[1]!.state, 'revoked', 'a revoked session stays revoked');
  t.is(stored[1]!.sealed, revoked.sealed);
  t.is((await durable.get(freshKey))?.sealed, writes[0]!.sealed);
  t.is((await durable.get(replacedKey))?.sealed, writes[2]!.sealed);
  t.is(await currentRows(replacedKey), 1, 'the previous row was closed');
  await t.throwsAsync(() => durable.putMany([writes[0]!, writes[0]!]), { instanceOf: TypeError });
});

test.serial('concurrent writers of the same records in opposite orders all finish, one current row each', async (t) => {
  const a = randomBytes(32);
  const b = randomBytes(32);
  await Promise.all(
    Array.from({ length: 12 }, (_, i) =>
      durable.putMany(
        i % 2 === 0
          ? [record('UpstreamSession', a, 1, new Date()), record('UpstreamSession', b, 1, new Date())]
          : [record('UpstreamSession', b, 1, new Date()), record('UpstreamSession', a, 1, new Date())],
      ),
    ),
  );
  t.is(await currentRows(a), 1);
  t.is(await currentRows(b), 1);
});

test.serial(
  'ending records is one round trip: a session is kept as ended with its version, others just closed',
  async (t) => {
    const sessionKey = randomBytes(32);
    const grantKey = randomBytes(32);
    await durable.put(record('Session', sessionKey, 4, new Date()));
    await durable.put(record('Grant', grantKey, 1, new Date()));
    const [, n] = await roundTrips(() => durable.end([sessionKey, grantKey]));
    t.is(n, 1);
    const session = await durable.get(sessionKey);
    t.is(session?.state, 'ended');
    t.is(session?.version, 4);
    t.is(await durable.get(grantKey), null);
    t.is(await currentRows(sessionKey), 1);
  },
);

test.serial('consuming a one-time record is one round trip; of concurrent consumers exactly one gets it', async (t) => {
  const key = randomBytes(32);
  await durable.put(record('AccessToken', key, 1, new Date()));
  const [first, n] = await roundTrips(() => durable.consume(key));
  t.is(n, 1);
  t.is(first?.state, 'ended');
  t.is(await durable.consume(key), null, 'a second presentation finds no active row');
  const other = randomBytes(32);
  await durable.put(record('AccessToken', other, 1, new Date()));
  const answers = await Promise.all(Array.from({ length: 12 }, () => durable.consume(other)));
  t.is(answers.filter((a) => a !== null).length, 1);
  t.is(await currentRows(other), 1);
});
