/**
 * Generated private keys are sensitive and non-extractable, and nothing private is ever published. Token
 * rows only: an in-process row (ML-DSA-65) has no token key; its private key is stored wrapped under the
 * KEK (`pq-keys-are-wrapped-under-the-kek.test.ts`).
 */
import test from 'ava';
import pkcs11js from 'pkcs11js';
import { TOKEN_ALGORITHMS } from '../../hsm/algorithms.ts';
import type { TokenKeyStore } from '../../hsm/token-keystore.ts';
import { freshToken } from '../helpers/services.ts';
import { openTestStore } from './open-store.ts';

const token = freshToken();
let store: TokenKeyStore;

test.before(async () => {
  store = await openTestStore(token);
  for (const row of TOKEN_ALGORITHMS) await store.generate('client_auth', row.name);
});
test.after.always(async () => {
  await store?.close();
});

const PRIVATE_MEMBERS = ['d', 'p', 'q', 'dp', 'dq', 'qi', 'oth', 'k', 'priv'];

test('public JWKs carry no private members', (t) => {
  const jwks = store.publishable('client_auth');
  t.is(jwks.length, TOKEN_ALGORITHMS.length);
  for (const jwk of jwks) {
    for (const member of PRIVATE_MEMBERS) t.false(member in jwk, `${jwk.alg} has ${member}`);
    t.deepEqual(
      Object.keys(jwk).sort(),
      jwk.kty === 'RSA'
        ? ['alg', 'e', 'kid', 'kty', 'n', 'use']
        : jwk.kty === 'EC'
          ? ['alg', 'crv', 'kid', 'kty', 'use', 'x', 'y']
          : ['alg', 'crv', 'kid', 'kty', 'use', 'x'],
    );
  }
});

test('generated private keys report sensitive=true, extractable=false', async (t) => {
  for (const signer of store.signers()) {
    t.deepEqual(
      await signer.keyFlags(),
      { sensitive: true, extractable: false, alwaysSensitive: true, neverExtractable: true },
      signer.alg,
    );
  }
});

test('the token refuses to reveal private key material', async (t) => {
  const lib = store.token.lib;
  const privateKeys = await store.token.run((session) => {
    lib.C_FindObjectsInit(session, [{ type: pkcs11js.CKA_CLASS, value: pkcs11js.CKO_PRIVATE_KEY }]);
    const found = lib.C_FindObjects(session, 16);
    lib.C_FindObjectsFinal(session);
    return found;
  });
  t.is(privateKeys.length, TOKEN_ALGORITHMS.length);
  for (const handle of privateKeys) {
    const error = await t.throwsAsync(
      store.token.run((session) => lib.C_GetAttributeValue(session, handle, [{ type: pkcs11js.CKA_VALUE }])),
    );
    t.regex(error?.message ?? '', /CKR_ATTRIBUTE_SENSITIVE|CKR_ATTRIBUTE_TYPE_INVALID/);
  }
});
