/**
 * `/jwks` and the SAML certificates come from the key records in PostgreSQL, and the HSM's promise (a signature
 * we publish a key for was made in the token) held only if nobody but the gateway writes those records (reviewer
 * finding, twenty-seventh round). Someone with the database alone, not the token:
 * - inserts an active record for a key of their own: it is not published (no token key has its kid);
 * - edits an existing record's public key to theirs: the token's own key is published under that kid;
 * - stores a certificate of their own key for a token key: it is not served; the token key's certificate is made
 *   again and stored in its place.
 * Real SoftHSM2 token and PostgreSQL.
 */
import { generateKeyPairSync, sign, X509Certificate } from 'node:crypto';
import test from 'ava';
import { calculateJwkThumbprint, exportJWK } from 'jose';
import pg from 'pg';
import { LifecycleKeyStore } from '../../hsm/lifecycle/lifecycle-keystore.ts';
import { PgKeyRecords } from '../../hsm/lifecycle/pg-key-records.ts';
import { DEFAULT_KEY_SPEC, ensureKeys, type TokenKeyStore } from '../../hsm/token-keystore.ts';
import { selfSignedCertificate } from '../../hsm/x509.ts';
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
  await ensureKeys(tokens, DEFAULT_KEY_SPEC);
});
test.after.always(async () => {
  await tokens?.close();
  await pool?.end();
});

const open = () => LifecycleKeyStore.open({ tokens, records: new PgKeyRecords(pool), actor: 'test' });
/** A live id_token record of the token's (for its token label). */
const keys0 = async () => (await open()).records('id_token').find((r) => r.state === 'active')!;

async function outsiderJwk() {
  const { publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  const jwk = await exportJWK(publicKey);
  const kid = await calculateJwkThumbprint(jwk);
  return { ...jwk, kid, alg: 'ES256', use: 'sig' };
}

test.serial(
  'a record the database alone holds, or whose public key it changed, publishes no outsider key',
  async (t) => {
    const keys = await open();
    const own = keys.publishable('id_token');
    t.true(own.length > 0);
    const outsider = await outsiderJwk();
    const template = keys.records('id_token').find((r) => r.state === 'active')!;
    await pool.query(
      `insert into key_records (kid, purpose, alg, state, token_label, cka_id, key_label, public_jwk, created_at, published_at, activated_at)
     values ($1, 'id_token', 'ES256', 'active', $2, 'ff', 'gw:id_token:ES256:forged', $3, now(), now(), now())`,
      [outsider.kid, template.tokenLabel, JSON.stringify(outsider)],
    );
    const victim = own[0]!;
    await pool.query('update key_records set public_jwk = $2 where kid = $1', [
      victim.kid,
      JSON.stringify({ ...outsider, kid: victim.kid }),
    ]);
    await pool.query('update key_set_version set version = version + 1');
    await keys.refresh(true);
    const published = keys.publishable('id_token');
    t.false(
      published.some((k) => k.kid === outsider.kid),
      'the inserted record names no token key',
    );
    t.deepEqual(
      published.find((k) => k.kid === victim.kid),
      victim,
      "the token's own key under its kid, not the edited record's",
    );
  },
);

test.serial(
  'an in-process (ML-DSA) row the database alone holds publishes no key: not in the gateway, nor an outsider key anywhere',
  async (t) => {
    const outsider = await outsiderJwk();
    const template = keys0();
    const rsa = { kty: 'RSA', n: 'x'.repeat(342), e: 'AQAB', kid: 'evil', alg: 'RS256', use: 'sig' };
    const akp = { kty: 'AKP', alg: 'ML-DSA-65', pub: 'A'.repeat(2602), kid: 'not-its-thumbprint', use: 'sig' };
    for (const [kid, jwk, ckaId] of [
      [`pq-rsa-${outsider.kid}`, rsa, 'fe'],
      ['not-its-thumbprint', akp, 'fd'],
    ] as const) {
      await pool.query(
        `insert into key_records (kid, purpose, alg, state, token_label, cka_id, key_label, public_jwk, created_at, published_at, activated_at)
       values ($1, 'id_token', 'ML-DSA-65', 'active', $2, $4, 'gw-pq:id_token:ML-DSA-65:forged', $3, now(), now(), now())`,
        [kid, (await template).tokenLabel, JSON.stringify(jwk), ckaId],
      );
    }
    await pool.query('update key_set_version set version = version + 1');
    const gateway = await open();
    t.false(
      gateway.publishable('id_token').some((k) => k.kty === 'RSA' && k.kid === 'evil'),
      'the RSA key of an ML-DSA row',
    );
    t.false(
      gateway.publishable('id_token').some((k) => (k as { kty: string }).kty === 'AKP'),
      'the gateway publishes no in-process key',
    );
    const cli = await LifecycleKeyStore.open({
      tokens,
      records: new PgKeyRecords(pool),
      actor: 'test',
      publishInProcessKeys: true,
    });
    const published = cli.publishable('id_token');
    t.false(
      published.some((k) => k.kid === 'evil' || k.kid === `pq-rsa-${outsider.kid}` || k.kid === 'not-its-thumbprint'),
      'a store that publishes in-process keys takes only an AKP key whose thumbprint is its kid',
    );
    await pool.query("delete from key_records where alg = 'ML-DSA-65'");
    await pool.query('update key_set_version set version = version + 1');
  },
);

test.serial("a stored certificate of another key is not served for a token key: the token key's is made", async (t) => {
  const keys = await open();
  const signer = keys.activeSigner('saml');
  const first = await keys.certificate(signer.kid, () => selfSignedCertificate(signer, { subject: 'CN=own', days: 1 }));
  const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  // an outsider's self-signed certificate (any certificate of another key will do)
  const forged = await selfSignedCertificate(
    {
      alg: 'ES256',
      kid: 'outsider',
      purpose: 'saml',
      publicJwk: (await exportJWK(publicKey)) as never,
      publicKey: () => publicKey,
      sign: async (data: Uint8Array) => {
        return new Uint8Array(sign('sha256', data, { key: privateKey, dsaEncoding: 'ieee-p1363' }));
      },
    } as never,
    { subject: 'CN=outsider', days: 1 },
  );
  t.notThrows(() => new X509Certificate(forged));
  await pool.query('update key_records set certificate_pem = $2 where kid = $1', [signer.kid, forged]);
  await pool.query('update key_set_version set version = version + 1');
  await keys.refresh(true);
  const served = await keys.certificate(signer.kid, () =>
    selfSignedCertificate(signer, { subject: 'CN=own again', days: 1 }),
  );
  t.not(served, forged);
  t.true(new X509Certificate(served).publicKey.equals(signer.publicKey()), "the token key's certificate");
  t.not(first, forged);
  const { rows } = await pool.query('select certificate_pem from key_records where kid = $1', [signer.kid]);
  t.is(rows[0].certificate_pem, served, 'stored in its place');
});
