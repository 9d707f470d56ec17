/**
 * Every registry row signs inside the token and verifies with node:crypto and as a JWS with jose. The
 * tests iterate the registry, so a new row is tested (and must pass) without anyone writing a test.
 */
import { verify } from 'node:crypto';
import test, { type ExecutionContext } from 'ava';
import { compactVerify, importJWK, base64url } from 'jose';
import { ALGORITHMS, type AlgorithmRow } from '../../hsm/algorithms.ts';
import type { TokenKeyStore } from '../../hsm/token-keystore.ts';
import { freshToken } from '../helpers/services.ts';
import { openTestStore } from './open-store.ts';

const token = freshToken();
let store: TokenKeyStore;

test.before(async () => {
  store = await openTestStore(token);
});
test.after.always(async () => {
  await store?.close();
});

const signsAndVerifies = test.macro({
  async exec(t: ExecutionContext, row: AlgorithmRow) {
    const signer = await store.generate('client_auth', row.name);
    t.is(signer.alg, row.name);
    t.is(signer.publicJwk.alg, row.name);
    t.is(signer.publicJwk.use, 'sig');
    t.is(signer.publicJwk.kid, signer.kid);

    const data = new TextEncoder().encode(`message signed with ${row.name}`);
    const signature = await signer.sign(data);
    t.is(signature.length, row.signatureLength);
    t.true(verify(row.hash, data, { key: signer.publicKey(), ...row.nodeVerify }, signature), 'node:crypto verify');
    t.false(verify(row.hash, new TextEncoder().encode('another message'), { key: signer.publicKey(), ...row.nodeVerify }, signature));

    const header = base64url.encode(JSON.stringify({ alg: row.name, kid: signer.kid }));
    const payload = base64url.encode(JSON.stringify({ iss: 'hsm-test', n: 1 }));
    const signingInput = `${header}.${payload}`;
    const jws = `${signingInput}.${base64url.encode(await signer.sign(new TextEncoder().encode(signingInput)))}`;
    const key = await importJWK({ ...signer.publicJwk }, row.name);
    const verified = await compactVerify(jws, key, { algorithms: [row.name] });
    t.is(verified.protectedHeader.kid, signer.kid);
    t.deepEqual(JSON.parse(new TextDecoder().decode(verified.payload)), { iss: 'hsm-test', n: 1 });
  },
  title: (_title, row: AlgorithmRow) => `${row.name} signs in the token and verifies with node:crypto and jose`,
});

for (const row of ALGORITHMS) test(signsAndVerifies, row);
