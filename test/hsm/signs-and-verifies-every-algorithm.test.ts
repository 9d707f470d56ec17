/**
 * Every registry row signs and verifies with node:crypto and as a JWS with jose. The tests iterate the
 * registry, so a new row is tested (and must pass) without anyone writing a test; a row whose custody
 * has no signer factory below fails.
 *
 * - token rows: a key generated in the token;
 * - in-process rows (ML-DSA-65, experimental): a key generated in process, stored wrapped under the
 *   token's KEK in PostgreSQL, and unwrapped by the token into the signer (jose verifies it with an
 *   `AKP` JWK).
 */
import { verify } from 'node:crypto';
import test, { type ExecutionContext } from 'ava';
import { compactVerify, importJWK, base64url } from 'jose';
import pg from 'pg';
import { ALGORITHMS, type AlgorithmRow } from '../../hsm/algorithms.ts';
import { TokenKek } from '../../hsm/hierarchy/kek.ts';
import { PgKeyRecords } from '../../hsm/lifecycle/pg-key-records.ts';
import { PqKeys } from '../../hsm/pq/pq-keys.ts';
import { PgWrappedKeys } from '../../hsm/pq/wrapped-keys.ts';
import type { Signer } from '../../hsm/signer.ts';
import type { TokenKeyStore } from '../../hsm/token-keystore.ts';
import { migrate } from '../../gateway/store/migrate.ts';
import { freshDatabase, freshToken } from '../helpers/services.ts';
import { openTestStore } from './open-store.ts';

const token = freshToken();
let store: TokenKeyStore;
let pool: pg.Pool;
let pq: PqKeys;

test.before(async () => {
  store = await openTestStore(token);
  pool = new pg.Pool({ connectionString: await freshDatabase() });
  await migrate(pool);
  const { kek } = await TokenKek.ensure(store.token);
  pq = new PqKeys({ kek, records: new PgKeyRecords(pool), wrapped: new PgWrappedKeys(pool), actor: 'test' });
});
test.after.always(async () => {
  await store?.close();
  await pool?.end();
});

/** How each custody makes a signer; no default. */
const SIGNER_FACTORIES: Readonly<Record<AlgorithmRow['custody'], (row: AlgorithmRow) => Promise<Signer>>> = {
  token: (row) => store.generate('client_auth', row.name),
  process: async (row) =>
    pq.signer((await pq.generate('client_auth', row.name, { acknowledgeExperimental: true })).kid, {
      acknowledgeExperimental: true,
    }),
};

const signsAndVerifies = test.macro({
  async exec(t: ExecutionContext, row: AlgorithmRow) {
    const factory = SIGNER_FACTORIES[row.custody];
    if (!factory) return t.fail(`no signer factory for custody ${row.custody}`);
    const signer = await factory(row);
    t.is(signer.alg, row.name);
    t.is(signer.publicJwk.alg, row.name);
    t.is(signer.publicJwk.use, 'sig');
    t.is(signer.publicJwk.kid, signer.kid);

    const data = new TextEncoder().encode(`message signed with ${row.name}`);
    const signature = await signer.sign(data);
    t.is(signature.length, row.signatureLength);
    t.true(verify(row.hash, data, { key: signer.publicKey(), ...row.nodeVerify }, signature), 'node:crypto verify');
    t.false(
      verify(
        row.hash,
        new TextEncoder().encode('another message'),
        { key: signer.publicKey(), ...row.nodeVerify },
        signature,
      ),
    );

    const header = base64url.encode(JSON.stringify({ alg: row.name, kid: signer.kid }));
    const payload = base64url.encode(JSON.stringify({ iss: 'hsm-test', n: 1 }));
    const signingInput = `${header}.${payload}`;
    const jws = `${signingInput}.${base64url.encode(await signer.sign(new TextEncoder().encode(signingInput)))}`;
    const key = await importJWK({ ...signer.publicJwk }, row.name);
    const verified = await compactVerify(jws, key, { algorithms: [row.name] });
    t.is(verified.protectedHeader.kid, signer.kid);
    t.deepEqual(JSON.parse(new TextDecoder().decode(verified.payload)), { iss: 'hsm-test', n: 1 });
  },
  title: (_title, row: AlgorithmRow) => `${row.name} (${row.custody}) signs and verifies with node:crypto and jose`,
});

for (const row of ALGORITHMS) test(signsAndVerifies, row);
