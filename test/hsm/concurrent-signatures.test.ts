/** 200 signatures started at once all complete and verify (session pool, async signing, cached handles). */
import { verify } from 'node:crypto';
import test from 'ava';
import type { TokenKeyStore } from '../../hsm/token-keystore.ts';
import { freshToken } from '../helpers/services.ts';
import { openTestStore } from './open-store.ts';

const token = freshToken();
let store: TokenKeyStore;

test.before(async () => {
  store = await openTestStore(token, { poolSize: 4 });
  await store.generate('id_token', 'ES256');
  await store.generate('id_token', 'EdDSA');
  await store.generate('audit', 'ES384');
});
test.after.always(async () => {
  await store?.close();
});

test('200 concurrent signatures across three keys all verify', async (t) => {
  const signers = store.signers();
  const jobs = Array.from({ length: 200 }, (_, i) => {
    const signer = signers[i % signers.length];
    const data = new TextEncoder().encode(`payload ${i}`);
    return signer.sign(data).then((signature) => ({ signer, data, signature }));
  });
  const results = await Promise.all(jobs);
  t.is(results.length, 200);
  for (const { signer, data, signature } of results) {
    const row = signer.row;
    t.true(verify(row.hash, data, { key: signer.publicKey(), ...row.nodeVerify }, signature));
  }
});
