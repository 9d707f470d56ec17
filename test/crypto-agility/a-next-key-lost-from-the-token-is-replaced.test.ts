/**
 * The rotation scheduler mends a `next` key whose record outlived its key on the token (destroyed there by
 * another process, a token restored from an older backup): such a key can never sign, so activating it would
 * leave its purpose without a working key, and retrying the activation every tick stalled the rotation for good.
 * Now the scheduler scans the token again before activating; a next key gone from it has its record destroyed
 * and a replacement generated (`ROTATION_NEXT_KEY_LOST`, both audited), and the old active key keeps signing.
 * Real SoftHSM2 token and PostgreSQL.
 */
import test from 'ava';
import pg from 'pg';
import pino from 'pino';
import { LifecycleKeyStore } from '../../hsm/lifecycle/lifecycle-keystore.ts';
import { PgKeyRecords } from '../../hsm/lifecycle/pg-key-records.ts';
import { DEFAULT_KEY_SPEC, ensureKeys, type TokenKeyStore } from '../../hsm/token-keystore.ts';
import { RotationScheduler } from '../../gateway/keys/rotation-scheduler.ts';
import { migrate } from '../../gateway/store/migrate.ts';
import { freshDatabase, freshToken } from '../helpers/services.ts';
import { openTestStore } from '../hsm/open-store.ts';

const token = freshToken();
const DAY = 86_400_000;
let pool: pg.Pool;
let tokens: TokenKeyStore;
let elsewhere: TokenKeyStore;

test.before(async () => {
  pool = new pg.Pool({ connectionString: await freshDatabase() });
  await migrate(pool);
  tokens = await openTestStore(token);
  await ensureKeys(tokens, DEFAULT_KEY_SPEC);
  elsewhere = await openTestStore(token);
});
test.after.always(async () => {
  await elsewhere?.close();
  await tokens?.close();
  await pool?.end();
});

test('a next key destroyed on the token by another process is replaced, never activated', async (t) => {
  const keys = await LifecycleKeyStore.open({ tokens, records: new PgKeyRecords(pool), actor: 'gateway:test' });
  const active = keys.activeSigner('id_token', 'ES256').kid;
  const lost = (await keys.generate('id_token', 'ES256')).kid;
  // another process destroys the key on the token; this instance's list of the token's keys still has it
  await elsewhere.refresh();
  await elsewhere.destroyKey(lost);
  t.true(
    tokens.signers().some((s) => s.kid === lost),
    'this instance has not seen the destruction yet',
  );

  const lines: Array<{ code?: string; kid?: string }> = [];
  const logger = pino({ level: 'info' }, { write: (line: string) => void lines.push(JSON.parse(line)) });
  const scheduler = new RotationScheduler({
    lifecycle: { keys, changed: async () => undefined },
    pool,
    policy: [{ purpose: 'id_token', alg: 'ES256', rotateEveryMs: DAY }],
    logger,
    // the rotation is due: past the one-day policy and the default lead time (7 days) of the next key
    now: () => new Date(Date.now() + 10 * DAY),
  });
  t.is(await scheduler.tick(), 1, JSON.stringify(lines));

  t.is(keys.record(lost).state, 'destroyed');
  t.is(keys.activeSigner('id_token', 'ES256').kid, active, 'the old key still signs');
  const replacement = keys.records('id_token').find((r) => r.alg === 'ES256' && r.state === 'next');
  t.truthy(replacement, 'a replacement next key is published');
  t.true(
    tokens.signers().some((s) => s.kid === replacement!.kid),
    'and it is on the token',
  );
  t.deepEqual(
    lines.filter((l) => l.code === 'ROTATION_NEXT_KEY_LOST').map((l) => l.kid),
    [lost],
  );
  const { rows } = await pool.query<{ action: string; kid: string }>(
    "select action, kid from key_events where action in ('destroy', 'generate', 'activate') order by id",
  );
  t.deepEqual(
    rows.map((r) => [r.action, r.kid]),
    [
      ['generate', lost],
      ['destroy', lost],
      ['generate', replacement!.kid],
    ],
    'both mends audited; nothing activated',
  );
  await scheduler.stop();
});
