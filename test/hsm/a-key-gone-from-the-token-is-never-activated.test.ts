/**
 * `destroy` destroys the key on the token first, then moves its record. When that update fails, the record of a
 * `next` key still says `next` while the token has no key: activating it would leave its purpose and algorithm
 * with nothing that can sign. It is refused (`HSM_KEY_NOT_FOUND`), and a destroy moves the record.
 */
import test from 'ava';
import pg from 'pg';
import { HsmError } from '../../hsm/errors.ts';
import { LifecycleKeyStore } from '../../hsm/lifecycle/lifecycle-keystore.ts';
import { PgKeyRecords } from '../../hsm/lifecycle/pg-key-records.ts';
import { ensureKeys, type TokenKeyStore } from '../../hsm/token-keystore.ts';
import { migrate } from '../../gateway/store/migrate.ts';
import { freshDatabase, freshToken } from '../helpers/services.ts';
import { openTestStore } from './open-store.ts';

const token = freshToken();
let pool: pg.Pool;
let tokens: TokenKeyStore;
test.before(async () => {
  pool = new pg.Pool({ connectionString: await freshDatabase() });
  await migrate(pool);
  tokens = await openTestStore(token);
});
test.after.always(async () => {
  await tokens?.close();
  await pool?.end();
});

test('a next key destroyed on the token but still recorded next is not activated; destroy moves its record', async (t) => {
  await ensureKeys(tokens, [{ purpose: 'id_token', alg: 'ES256' }]);
  const keys = await LifecycleKeyStore.open({ tokens, records: new PgKeyRecords(pool), actor: 'test' });
  const next = await keys.generate('id_token', 'ES256');
  await tokens.destroyKey(next.kid); // the token's half of a destroy whose record update then failed
  const refused = await keys.activate(next.kid, { force: true }).then(
    () => 'activated',
    (error: unknown) => (error instanceof HsmError ? error.code : String(error)),
  );
  t.is(refused, 'HSM_KEY_NOT_FOUND');
  t.is(keys.record(next.kid).state, 'next');
  t.is((await keys.destroy(next.kid)).state, 'destroyed');
  t.is(keys.activeSigner('id_token', 'ES256').kid === next.kid, false);
});
