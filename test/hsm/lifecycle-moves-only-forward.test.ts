/**
 * The key lifecycle on a real token and PostgreSQL: pending → next → active → retired → destroyed, with
 * times; only active keys sign (retired ones for a short grace); next keys are published before they
 * sign; retired keys stay published until notAfter; destroy removes the key from the token only after
 * that; every action is audited; a second store sees the changes through the version.
 */
import test from 'ava';
import pg from 'pg';
import { HsmError } from '../../hsm/errors.ts';
import { LifecycleKeyStore } from '../../hsm/lifecycle/lifecycle-keystore.ts';
import { PgKeyRecords } from '../../hsm/lifecycle/pg-key-records.ts';
import { DEFAULT_KEY_SPEC, ensureKeys, type TokenKeyStore } from '../../hsm/token-keystore.ts';
import { migrate } from '../../gateway/store/migrate.ts';
import { freshDatabase, freshToken } from '../helpers/services.ts';
import { openTestStore } from './open-store.ts';

const token = freshToken();
let pool: pg.Pool;
let tokens: TokenKeyStore;
let otherTokens: TokenKeyStore;
let clock = Date.now();
const now = () => new Date(clock);

test.before(async () => {
  pool = new pg.Pool({ connectionString: await freshDatabase() });
  await migrate(pool);
  tokens = await openTestStore(token);
  otherTokens = await openTestStore(token);
  await ensureKeys(tokens, DEFAULT_KEY_SPEC);
  await otherTokens.refresh();
});
test.after.always(async () => {
  await tokens?.close();
  await otherTokens?.close();
  await pool?.end();
});

const open = (store: TokenKeyStore, actor: string) =>
  LifecycleKeyStore.open({
    tokens: store,
    records: new PgKeyRecords(pool),
    actor,
    now,
    times: { leadTimeMs: 60_000, retentionMs: 3_600_000, signGraceMs: 5_000 },
  });

async function code(t: { fail: (m: string) => void }, work: Promise<unknown> | (() => unknown)): Promise<string> {
  try {
    await (typeof work === 'function' ? work() : work);
  } catch (error) {
    if (error instanceof HsmError) return error.code;
    throw error;
  }
  t.fail('expected an HsmError');
  return '';
}

test.serial('token keys without records are adopted as active; a next key is published but cannot sign', async (t) => {
  const keys = await open(tokens, 'test:a');
  t.deepEqual(
    keys
      .records()
      .map((r) => `${r.purpose}:${r.alg}:${r.state}`)
      .sort(),
    [
      'access_token:ES256:active',
      'access_token:RS256:active',
      'audit:ES384:active',
      'id_token:ES256:active',
      'id_token:RS256:active',
      'risk_assessment:ES256:active',
      'saml:ES256:active',
      'saml:RS256:active',
    ],
  );
  const next = await keys.generate('id_token', 'ES256');
  t.is(next.state, 'next');
  t.truthy(next.publishedAt);
  t.deepEqual(
    keys
      .publishable('id_token')
      .map((j) => j.kid)
      .slice(-1),
    [next.kid],
    'published after the active keys',
  );
  t.not(keys.activeSigner('id_token', 'ES256').kid, next.kid);
  const signer = keys.tokens.signerByKid(next.kid);
  t.is(await code(t, signer.sign(new Uint8Array([1]))), 'HSM_KEY_NOT_ACTIVE');
  t.is(await code(t, keys.activate(next.kid)), 'HSM_LIFECYCLE_TOO_EARLY', 'not before the lead time');
  t.is(await code(t, keys.retire(next.kid)), 'HSM_LIFECYCLE_STATE');
  const pending = await keys.generate('id_token', 'EdDSA', { state: 'pending' });
  t.false(
    keys.publishable('id_token').some((j) => j.kid === pending.kid),
    'pending keys are not published',
  );
  t.is((await keys.publish(pending.kid)).state, 'next');
  await keys.destroy(pending.kid);
  t.false(
    keys.tokens.signers().some((s) => s.kid === pending.kid),
    'an abandoned next key leaves the token',
  );
});

test.serial(
  'activation after the lead time retires the old key; it signs only during the grace and stays published until notAfter',
  async (t) => {
    const keys = await open(tokens, 'test:a');
    const other = await open(otherTokens, 'test:b');
    const old = keys.activeSigner('id_token', 'ES256');
    const next = keys.records('id_token').find((r) => r.state === 'next')!;
    clock += 60_000;
    const activated = await keys.activate(next.kid);
    t.is(activated.state, 'active');
    t.is(keys.activeSigner('id_token', 'ES256').kid, next.kid);
    const retired = keys.record(old.kid);
    t.is(retired.state, 'retired');
    t.is(retired.notAfter!.getTime(), clock + 3_600_000);
    t.true(keys.publishable('id_token').some((j) => j.kid === old.kid));
    t.is((await old.sign(new Uint8Array([1]))).length, 64, 'within the grace a retired key still signs');
    clock += 5_000;
    t.is(await code(t, old.sign(new Uint8Array([1]))), 'HSM_KEY_NOT_ACTIVE');

    t.true(await other.refresh(), 'the other store sees the new version');
    t.is(other.version, keys.version);
    t.is(other.activeSigner('id_token', 'ES256').kid, next.kid);

    t.is(await code(t, keys.destroy(old.kid)), 'HSM_LIFECYCLE_TOO_EARLY', 'not before notAfter');
    clock += 3_600_000;
    t.false(
      keys.publishable('id_token').some((j) => j.kid === old.kid),
      'no longer published after notAfter',
    );
    t.is((await keys.destroy(old.kid)).state, 'destroyed');
    t.false(
      keys.tokens.signers().some((s) => s.kid === old.kid),
      'gone from the token',
    );
    await other.refresh();
    t.false(
      other.tokens.signers().some((s) => s.kid === old.kid),
      'the other store forgets it too',
    );
    t.is(await code(t, keys.activate(old.kid)), 'HSM_LIFECYCLE_STATE', 'destroyed is final');

    const { rows } = await pool.query<{ action: string; actor: string }>(
      'select action, actor from key_events order by id',
    );
    t.deepEqual(
      rows.map((r) => r.action),
      ['adopt', 'generate', 'generate', 'publish', 'destroy', 'activate', 'destroy'],
    );
    t.true(rows.every((r) => r.actor === 'test:a'));
    t.is(
      await code(
        t,
        pool.query("update key_events set action = 'x'").then(async () => {
          const { rows: after } = await pool.query<{ action: string }>(
            "select action from key_events where action = 'x'",
          );
          if (after.length === 0) throw new HsmError('HSM_RECORDS_FAILED', 'append-only');
        }),
      ),
      'HSM_RECORDS_FAILED',
      'the audit trail is append-only',
    );
  },
);
