/**
 * The key store tells its `onSign` observer about every signature the token makes, with the algorithm,
 * the PKCS#11 mechanism's name and the time taken (gateway_hsm_sign_duration_seconds); an observer that
 * throws never fails a signature.
 */
import test from 'ava';
import type { SignObservation } from '../../hsm/pkcs11-signer.ts';
import { mechanismName } from '../../hsm/pkcs11-signer.ts';
import type { TokenKeyStore } from '../../hsm/token-keystore.ts';
import { freshToken } from '../helpers/services.ts';
import { openTestStore } from './open-store.ts';

const token = freshToken();
const seen: SignObservation[] = [];
let throwing = false;
let store: TokenKeyStore;

test.before(async () => {
  store = await openTestStore(token, {
    onSign: (o) => {
      seen.push(o);
      if (throwing) throw new Error('a broken observer');
    },
  });
  await store.generate('id_token', 'ES256');
  await store.generate('saml', 'PS256');
  await store.generate('audit', 'RS256');
});
test.after.always(async () => {
  await store?.close();
});

test.serial('each signature is observed with its algorithm, mechanism and duration', async (t) => {
  for (const signer of store.signers()) await signer.sign(new TextEncoder().encode('payload'));
  t.deepEqual(seen.map((o) => `${o.alg} ${o.mechanism} ${o.ok}`).sort(), [
    'ES256 CKM_ECDSA true',
    'PS256 CKM_SHA256_RSA_PKCS_PSS true',
    'RS256 CKM_SHA256_RSA_PKCS true',
  ]);
  for (const o of seen) t.true(o.seconds >= 0 && Number.isFinite(o.seconds));
});

test.serial('an observer that throws does not fail the signature', async (t) => {
  throwing = true;
  const signature = await store.activeSigner('id_token').sign(new Uint8Array([1, 2, 3]));
  t.true(signature.length > 0);
});

test('a mechanism pkcs11js does not name is written in hex', (t) => {
  t.is(mechanismName(0x80001234), 'CKM_0x80001234');
});
