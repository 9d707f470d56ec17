/** Past the wait-queue limit a signature fails fast with HSM_BUSY instead of queueing without bound. */
import { verify } from 'node:crypto';
import test from 'ava';
import { HsmError } from '../../hsm/errors.ts';
import type { TokenKeyStore } from '../../hsm/token-keystore.ts';
import { freshToken } from '../helpers/services.ts';
import { openTestStore } from './open-store.ts';

const token = freshToken();
let store: TokenKeyStore;

test.before(async () => {
  store = await openTestStore(token, { poolSize: 1, maxWaiting: 2 });
  await store.generate('audit', 'ES256');
});
test.after.always(async () => {
  await store?.close();
});

test('with one session and two waiting places, the fourth concurrent signature gets HSM_BUSY', async (t) => {
  const signer = store.activeSigner('audit');
  const data = new TextEncoder().encode('x');
  const outcomes = await Promise.allSettled(Array.from({ length: 6 }, () => signer.sign(data)));
  const fulfilled = outcomes.filter((o) => o.status === 'fulfilled');
  const rejected = outcomes.filter((o) => o.status === 'rejected');
  t.is(fulfilled.length, 3);
  t.is(rejected.length, 3);
  for (const outcome of rejected) {
    t.true(outcome.reason instanceof HsmError);
    t.is((outcome.reason as HsmError).code, 'HSM_BUSY');
  }
  for (const outcome of fulfilled)
    t.true(verify('sha256', data, { key: signer.publicKey(), dsaEncoding: 'ieee-p1363' }, outcome.value));
  // The pool is usable again afterwards.
  t.is((await signer.sign(data)).length, 64);
});
