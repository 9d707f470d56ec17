/**
 * The rotation scheduler destroys a retired key past its `notAfter` only once this process has seen it retired for
 * an hour (`DESTROY_AFTER_SEEN_RETIRED_MS`): the state and `notAfter` are PostgreSQL's word, and a write there alone
 * (every key retired, `notAfter` in the past) made the gateway destroy its own keys on the token at the next tick.
 */
import test from 'ava';
import pg from 'pg';
import pino from 'pino';
import { DESTROY_AFTER_SEEN_RETIRED_MS, RotationScheduler } from '../../gateway/keys/rotation-scheduler.ts';
import { migrate } from '../../gateway/store/migrate.ts';
import { LifecycleKeyStore } from '../../hsm/lifecycle/lifecycle-keystore.ts';
import { PgKeyRecords } from '../../hsm/lifecycle/pg-key-records.ts';
import { DEFAULT_KEY_SPEC, ensureKeys, type TokenKeyStore } from '../../hsm/token-keystore.ts';
import { freshDatabase, freshToken } from '../helpers/services.ts';
import { openTestStore } from '../hsm/open-store.ts';

const token = freshToken();
let pool: pg.Pool;
let tokens: TokenKeyStore;
test.before(async () => {
  pool = new pg.Pool({ connectionString: await freshDatabase() });
  await migrate(pool);
  tokens = await openTestStore(token);
  await ensureKeys(tokens, DEFAULT_KEY_SPEC);
});
test.after.always(async () => {
  await tokens?.close();
  await pool?.end();
});

test('keys PostgreSQL alone says are retired and expired are destroyed only once this process saw them retired an hour', async (t) => {
  const keys = await LifecycleKeyStore.open({ tokens, records: new PgKeyRecords(pool), actor: 'gateway:test' });
  const victim = (await keys.generate('access_token', 'ES256')).kid;
  // someone with the database alone retires the key and puts its notAfter in the past
  await pool.query(
    "update key_records set state = 'retired', retired_at = '2000-01-01', not_after = '2000-01-02' where kid = $1",
    [victim],
  );
  await pool.query('update key_set_version set version = version + 1');
  let clock = Date.now();
  const scheduler = new RotationScheduler({
    lifecycle: { keys, changed: async () => undefined },
    pool,
    policy: [],
    logger: pino({ level: 'silent' }),
    now: () => new Date(clock),
  });
  await scheduler.tick();
  t.not(keys.record(victim).state, 'destroyed', 'not at the first tick');
  // the operator restores the row; the attacker retires it again later: the hour starts again
  await pool.query("update key_records set state = 'next', retired_at = null, not_after = null where kid = $1", [
    victim,
  ]);
  await pool.query('update key_set_version set version = version + 1');
  clock += 30 * 60_000;
  await scheduler.tick();
  await pool.query(
    "update key_records set state = 'retired', retired_at = '2000-01-01', not_after = '2000-01-02' where kid = $1",
    [victim],
  );
  await pool.query('update key_set_version set version = version + 1');
  clock += 40 * 60_000;
  await scheduler.tick();
  t.not(keys.record(victim).state, 'destroyed', 'seen retired again only now, 70 minutes after the first sighting');
  t.true(
    tokens.signers().some((s) => s.kid === victim),
    'still on the token',
  );
  clock += DESTROY_AFTER_SEEN_RETIRED_MS - 1_000;
  await scheduler.tick();
  t.not(keys.record(victim).state, 'destroyed', 'nor within the hour');
  clock += 2_000;
  await scheduler.tick();
  t.is(keys.record(victim).state, 'destroyed', 'once seen retired for an hour');
});
