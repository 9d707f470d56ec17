/**
 * ML-DSA-65 (experimental): refused without the acknowledgement at generation, activation and signer
 * creation; with it, the private key is generated in process and stored only wrapped under the token's
 * KEK; the record shares the lifecycle (next → active → retired, `/jwks` publication as an AKP JWK with no
 * private member); only an active key signs; a swapped wrapped key is detected; destroy shreds it.
 */
import test from 'ava';
import { compactVerify, importJWK, base64url } from 'jose';
import pg from 'pg';
import { HsmError } from '../../hsm/errors.ts';
import { TokenKek } from '../../hsm/hierarchy/kek.ts';
import { LifecycleKeyStore } from '../../hsm/lifecycle/lifecycle-keystore.ts';
import { PgKeyRecords } from '../../hsm/lifecycle/pg-key-records.ts';
import { PqKeys } from '../../hsm/pq/pq-keys.ts';
import { PgWrappedKeys } from '../../hsm/pq/wrapped-keys.ts';
import { DEFAULT_KEY_SPEC, ensureKeys, type TokenKeyStore } from '../../hsm/token-keystore.ts';
import { migrate } from '../../gateway/store/migrate.ts';
import { freshDatabase, freshToken } from '../helpers/services.ts';
import { openTestStore } from './open-store.ts';

const token = freshToken();
let pool: pg.Pool;
let tokens: TokenKeyStore;
let keys: LifecycleKeyStore;
let pq: PqKeys;
let clock = Date.now();
const ACK = { acknowledgeExperimental: true } as const;

test.before(async () => {
  pool = new pg.Pool({ connectionString: await freshDatabase() });
  await migrate(pool);
  tokens = await openTestStore(token);
  await ensureKeys(tokens, DEFAULT_KEY_SPEC);
  const { kek } = await TokenKek.ensure(tokens.token);
  const records = new PgKeyRecords(pool);
  keys = await LifecycleKeyStore.open({
    tokens,
    records,
    actor: 'test',
    publishInProcessKeys: true,
    now: () => new Date(clock),
    times: { leadTimeMs: 60_000, retentionMs: 3_600_000, signGraceMs: 5_000 },
  });
  pq = new PqKeys({ kek, records, wrapped: new PgWrappedKeys(pool), actor: 'test', now: () => new Date(clock) });
});
test.after.always(async () => {
  await tokens?.close();
  await pool?.end();
});

async function code(work: Promise<unknown>): Promise<string> {
  try {
    await work;
  } catch (error) {
    if (error instanceof HsmError) return error.code;
    throw error;
  }
  return 'no error';
}

test.serial('nothing experimental happens without the acknowledgement', async (t) => {
  t.is(await code(pq.generate('id_token', 'ML-DSA-65')), 'HSM_EXPERIMENTAL_NOT_ACKNOWLEDGED');
  t.is(await code(keys.generate('id_token', 'ML-DSA-65')), 'HSM_EXPERIMENTAL_NOT_ACKNOWLEDGED');
  t.is(await code(keys.generate('id_token', 'ML-DSA-65', ACK)), 'HSM_ALG_UNKNOWN', 'not a token algorithm');
  t.is(await code(pq.generate('id_token', 'ES256', ACK)), 'HSM_ALG_UNKNOWN', 'a token algorithm');
  t.is(await code(tokens.generate('id_token', 'ML-DSA-65')), 'HSM_ALG_UNKNOWN');
});

test.serial('generate → activate → sign → retire, wrapped under the KEK, published as AKP', async (t) => {
  const record = await pq.generate('id_token', 'ML-DSA-65', ACK);
  t.is(record.state, 'next');
  t.regex(record.keyLabel, /^gw-pq:id_token:ML-DSA-65:[0-9a-f]{16}$/);
  const { rows } = await pool.query<{ wrapped: Buffer; wrap_mechanism: string }>(
    'select * from wrapped_signing_keys where kid = $1',
    [record.kid],
  );
  t.is(rows[0]?.wrap_mechanism, 'CKM_AES_KEY_WRAP_PAD');
  t.is(rows[0]?.wrapped.length, 40, 'the 32-byte seed, wrapped (RFC 5649)');

  await keys.refresh(true);
  const published = keys.publishable('id_token').find((jwk) => jwk.kid === record.kid);
  t.deepEqual(Object.keys(published ?? {}).sort(), ['alg', 'kid', 'kty', 'pub', 'use']);
  t.is(published?.kty, 'AKP');

  const signer = await pq.signer(record.kid, { ...ACK, guard: () => keys.maySign(record.kid) });
  t.is(await code(signer.sign(new Uint8Array([1]))), 'HSM_KEY_NOT_ACTIVE', 'next keys do not sign');
  t.is(await code(pq.signer(record.kid)), 'HSM_EXPERIMENTAL_NOT_ACKNOWLEDGED');
  t.is(await code(keys.activate(record.kid, { force: true })), 'HSM_EXPERIMENTAL_NOT_ACKNOWLEDGED');
  await keys.activate(record.kid, { ...ACK, force: true });

  const input = `${base64url.encode(JSON.stringify({ alg: 'ML-DSA-65', kid: record.kid }))}.${base64url.encode('{"sub":"x"}')}`;
  const jws = `${input}.${base64url.encode(await signer.sign(new TextEncoder().encode(input)))}`;
  const verified = await compactVerify(jws, await importJWK({ ...published }, 'ML-DSA-65'), {
    algorithms: ['ML-DSA-65'],
  });
  t.is(verified.protectedHeader.kid, record.kid);
  t.false(
    keys.activeSigners('id_token').some((s) => s.kid === record.kid),
    'token signers only: the Provider is unaffected',
  );

  await keys.retire(record.kid);
  clock += 10_000;
  t.is(await code(signer.sign(new Uint8Array([1]))), 'HSM_KEY_NOT_ACTIVE');
  clock += 3_600_000;
  await keys.destroy(record.kid);
  await pq.forget(record.kid);
  t.is(await code(pq.signer(record.kid, ACK)), 'HSM_KEY_NOT_FOUND');
});

test.serial('a wrapped key swapped to another record is detected', async (t) => {
  const a = await pq.generate('client_auth', 'ML-DSA-65', ACK);
  const b = await pq.generate('client_auth', 'ML-DSA-65', ACK);
  await pool.query(
    'update wrapped_signing_keys set wrapped = (select wrapped from wrapped_signing_keys where kid = $2) where kid = $1',
    [a.kid, b.kid],
  );
  t.is(await code(pq.signer(a.kid, ACK)), 'HSM_KEY_MISMATCH');
  t.is((await pq.signer(b.kid, ACK)).kid, b.kid);
});
