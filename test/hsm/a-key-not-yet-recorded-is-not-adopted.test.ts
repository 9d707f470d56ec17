/**
 * A `generate` makes the key in the token, then records it (`next`: published for the lead time before it may
 * sign). An instance opening its key store between the two steps finds a token key without a record. It adopts
 * such a key as active only where no live record has its purpose and algorithm (the keys `init` made before the
 * lifecycle, or for a purpose a deployment lacked); otherwise the key is another process's `generate` under way,
 * and adopting it would make it active at once, before anyone could have seen it in `/jwks`. A `generate` of a
 * purpose and algorithm no record has yet is told apart by its mark (a PostgreSQL advisory lock held from before the
 * key is made until its record is written): left out too, where it used to be adopted as active.
 */
import test from 'ava';
import pg from 'pg';
import { HsmError } from '../../hsm/errors.ts';
import { LifecycleKeyStore } from '../../hsm/lifecycle/lifecycle-keystore.ts';
import { PgKeyRecords } from '../../hsm/lifecycle/pg-key-records.ts';
import type { KeyRecordRepository } from '../../hsm/lifecycle/key-record.ts';
import { ensureKeys, type TokenKeyStore } from '../../hsm/token-keystore.ts';
import { migrate } from '../../gateway/store/migrate.ts';
import { freshDatabase, freshToken } from '../helpers/services.ts';
import { openTestStore } from './open-store.ts';

const token = freshToken();
let pool: pg.Pool;
const stores: TokenKeyStore[] = [];
test.before(async () => {
  pool = new pg.Pool({ connectionString: await freshDatabase() });
  await migrate(pool);
});
test.after.always(async () => {
  for (const store of stores) await store.close();
  await pool?.end();
});

async function tokenStore(): Promise<TokenKeyStore> {
  const store = await openTestStore(token);
  stores.push(store);
  return store;
}

/** The records, with `insert` held until `release()`: a `generate` between the token and PostgreSQL. */
function heldInserts(records: KeyRecordRepository) {
  let release!: () => void;
  const released = new Promise<void>((resolve) => (release = resolve));
  let reached!: () => void;
  const waiting = new Promise<void>((resolve) => (reached = resolve));
  const insert: KeyRecordRepository['insert'] = async (inserted, event) => {
    reached();
    await released;
    return records.insert(inserted, event);
  };
  const held = new Proxy(records, {
    get: (target, name) =>
      name === 'insert' ? insert : (Reflect.get(target, name) as (...a: unknown[]) => unknown).bind(target),
  });
  return { held, waiting, release };
}

const open = (tokens: TokenKeyStore, records: KeyRecordRepository, actor: string) =>
  LifecycleKeyStore.open({ tokens, records, actor, times: { leadTimeMs: 60_000 } });

test.serial(
  'a key generated but not recorded yet is left out by an instance opening meanwhile, then is next',
  async (t) => {
    const first = await tokenStore();
    await ensureKeys(first, [{ purpose: 'id_token', alg: 'RS256' }]);
    const records = new PgKeyRecords(pool);
    const operator = await open(first, records, 'test:operator');
    const { held, waiting, release } = heldInserts(records);
    const ceremony = await open(first, held, 'test:ceremony');
    const generating = ceremony.generate('id_token', 'RS256');
    await waiting; // the key is in the token; its record is not written yet

    const instance = await open(await tokenStore(), records, 'test:instance');
    const newKid = first.signers().find((s) => !operator.records().some((r) => r.kid === s.kid))!.kid;
    t.false(
      instance.records().some((r) => r.kid === newKid),
      'not adopted',
    );
    t.deepEqual(instance.unrecordedKeys, [instance.tokens.signerByKid(newKid).label]);
    t.false(
      instance.publishable('id_token').some((j) => j.kid === newKid),
      'not published',
    );
    const refused = await instance.tokens
      .signerByKid(newKid)
      .sign(new Uint8Array([1]))
      .then(
        () => 'signed',
        (error: unknown) => (error instanceof HsmError ? error.code : String(error)),
      );
    t.is(refused, 'HSM_KEY_NOT_ACTIVE', 'signs nothing');

    release();
    t.is((await generating).state, 'next', "the ceremony's record says next");
    await instance.refresh(true);
    t.is(instance.record(newKid).state, 'next', 'and the instance reads it so');
  },
);

test.serial(
  'a generate of a purpose and algorithm no record has yet is left out by an instance opening meanwhile, then is next',
  async (t) => {
    const first = await tokenStore();
    const records = new PgKeyRecords(pool);
    const { held, waiting, release } = heldInserts(records);
    const ceremony = await open(first, held, 'test:ceremony');
    const before = new Set(first.signers().map((s) => s.kid));
    const generating = ceremony.generate('client_auth', 'EdDSA');
    await waiting; // the key is in the token; its record is not written yet; nothing else has this purpose and alg

    const instance = await open(await tokenStore(), records, 'test:instance');
    const made = instance.tokens.signers().find((s) => !before.has(s.kid) && s.purpose === 'client_auth')!;
    t.truthy(made, 'the new key is on the token');
    t.false(
      instance.records().some((r) => r.kid === made.kid),
      'not adopted as active',
    );
    t.true(instance.unrecordedKeys.includes(made.label));

    release();
    t.is((await generating).state, 'next', "the ceremony's record says next");
    await instance.refresh(true);
    t.is(instance.record(made.kid).state, 'next', 'and the instance reads it so');
    t.false(await records.generating(first.token.label, 'client_auth', 'EdDSA'), 'the mark is gone with the generate');
  },
);

test.serial('a generate whose record PostgreSQL refused takes its key off the token again', async (t) => {
  const first = await tokenStore();
  const records = new PgKeyRecords(pool);
  const refusing = new Proxy(records, {
    get: (target, name) =>
      name === 'insert'
        ? () => Promise.reject(new HsmError('HSM_RECORDS_FAILED', 'the key record store failed'))
        : (Reflect.get(target, name) as (...a: unknown[]) => unknown).bind(target),
  });
  const ceremony = await open(first, refusing, 'test:ceremony');
  const before = new Set(first.signers().map((s) => s.kid));
  await t.throwsAsync(ceremony.generate('audit', 'EdDSA'), { code: 'HSM_RECORDS_FAILED' });
  t.deepEqual(
    first.signers().filter((s) => !before.has(s.kid)),
    [],
    'no key left on the token without a record',
  );
  const instance = await open(await tokenStore(), records, 'test:instance');
  t.false(
    instance.records().some((r) => r.purpose === 'audit' && r.alg === 'EdDSA'),
    'nothing for a later open to adopt as active',
  );
});

test.serial(
  'a token key of a purpose and algorithm no record has is adopted as active (init on an older token)',
  async (t) => {
    const tokens = await tokenStore();
    const made = await ensureKeys(tokens, [{ purpose: 'risk_assessment', alg: 'ES256' }]);
    const keys = await open(tokens, new PgKeyRecords(pool), 'test:upgrade');
    t.is(keys.record(made[0]!.kid).state, 'active');
    t.deepEqual(keys.unrecordedKeys, []);
  },
);
