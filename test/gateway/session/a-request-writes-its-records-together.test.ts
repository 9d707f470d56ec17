/**
 * Issue #14: the session-store records one request writes are written together, in one statement and one
 * transaction (`DurableTier.holdWrites`): the identity and the grant at the completion of a login, the access
 * and refresh tokens at the token request. A whole login writes its records in 5 statements (main before:
 * 7). And the held writes keep the store's guarantees: a read or any other operation of the tier within
 * the scope sees them, Redis is written after PostgreSQL, and a scope whose work fails still writes what it
 * held (sessions too, since the ninth round: held-writes-keep-the-guarantees.test.ts). Real PostgreSQL (and the whole gateway for the login);
 * round trips counted on node-postgres's Client.query.
 */
import test from 'ava';
import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { DurableTier, type StoredRecord } from '../../../gateway/session/durable-tier.ts';
import { createPool } from '../../../gateway/store/postgres.ts';
import { freshDatabase } from '../../helpers/services.ts';
import { logIn, startSessionBed, userinfo, type SessionBed } from './session-bed.ts';
import { storedRecord } from '../../helpers/stored-record.ts';

let counting = false;
const queries: string[] = [];
const query = pg.Client.prototype.query as (...args: unknown[]) => unknown;
pg.Client.prototype.query = function countedQuery(this: pg.Client, ...args: unknown[]) {
  const text = typeof args[0] === 'string' ? args[0] : ((args[0] as { text?: string } | null)?.text ?? '?');
  if (counting) queries.push(text);
  return query.apply(this, args);
} as typeof pg.Client.prototype.query;

function record(kind: StoredRecord['kind'], key = randomBytes(32), grantKey: Buffer | null = null): StoredRecord {
  return storedRecord(kind, { recordKey: key, grantKey });
}

let bed: SessionBed;
let pool: pg.Pool;
let durable: DurableTier;
test.before(async () => {
  pool = createPool(await freshDatabase());
  durable = new DurableTier(pool);
  await pool.query('select 1');
  bed = await startSessionBed({ bootOptions: { fraud: { checkpointMs: 0 } } });
  await logIn(bed); // warm-up
});
test.after.always(async () => {
  await bed?.stop();
  await pool?.end();
});

const counted = async <T>(work: () => Promise<T>): Promise<[T, string[]]> => {
  queries.length = 0;
  counting = true;
  try {
    return [await work(), [...queries]];
  } finally {
    counting = false;
  }
};

test.serial('a whole login writes its session-store records in 5 statements, and works', async (t) => {
  const [session, texts] = await counted(() => logIn(bed));
  const puts = texts.filter((q) => q.includes('from session_record_write('));
  t.log(`${puts.length} statements writing records`);
  t.true(puts.length <= 5, `at most 5 statements write the login's records (${puts.length})`);
  t.is((await userinfo(bed.url, session.accessToken)).status, 200, 'the access token was stored');
});

test.serial('held writes are one round trip, read back within the scope, then stored in Redis order', async (t) => {
  const grant = record('Grant');
  const token = record('AccessToken', randomBytes(32), grant.recordKey);
  const warmed: string[] = [];
  const [seen, texts] = await counted(() =>
    durable.holdWrites(
      async () => {
        t.true(durable.hold([grant]));
        t.true(durable.hold([token]));
        t.is(durable.heldRecord(grant.recordKey), grant, 'the scope reads what it held');
        const written = await pool.query('select 1 from session_records where record_key = $1', [grant.recordKey]);
        t.is(written.rowCount, 0, 'nothing written yet');
        return durable.keysOfGrant(grant.recordKey); // another operation: the held writes go first
      },
      async ({ stored }) => {
        t.is(await durable.get(stored[0]!.recordKey).then((r) => r?.sealed), stored[0]!.sealed, 'PostgreSQL first');
        warmed.push(...stored.map((r) => r.kind));
      },
    ),
  );
  t.deepEqual(
    seen.map((k) => k.toString('hex')),
    [token.recordKey.toString('hex')],
  );
  t.is(texts.filter((q) => q.includes('session_record_write(')).length, 1, 'both in one statement');
  t.deepEqual(warmed, ['Grant', 'AccessToken']);
});

test.serial('a failing scope still writes what it held, sessions included', async (t) => {
  const session = record('Session');
  const grant = record('Grant');
  await t.throwsAsync(
    () =>
      durable.holdWrites(
        async () => {
          t.true(
            durable.hold([session]),
            'a session is held too (revoked-stays-revoked: held-writes-keep-the-guarantees)',
          );
          t.true(durable.hold([grant]));
          throw new Error('the request failed');
        },
        async () => undefined,
      ),
    { message: 'the request failed' },
  );
  t.is((await durable.get(grant.recordKey))?.sealed, grant.sealed);
  t.is((await durable.get(session.recordKey))?.sealed, session.sealed);
  t.false(durable.hold([record('Grant')]), 'outside a scope nothing is held');
});
