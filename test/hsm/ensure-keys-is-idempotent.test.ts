/** ensureKeys makes the missing keys once; the default set orders id_token RS256 first. */
import test from 'ava';
import { HsmError } from '../../hsm/errors.ts';
import { DEFAULT_KEY_SPEC, ensureKeys } from '../../hsm/token-keystore.ts';
import { freshToken } from '../helpers/services.ts';
import { openTestStore } from './open-store.ts';

const token = freshToken();

test.serial('a second ensureKeys, and a reopened store, generate nothing and see the same keys', async (t) => {
  const store = await openTestStore(token);
  try {
    const first = await ensureKeys(store, DEFAULT_KEY_SPEC);
    t.deepEqual(
      first.map((s) => `${s.purpose}:${s.alg}`),
      [
        'id_token:RS256',
        'id_token:ES256',
        'access_token:RS256',
        'access_token:ES256',
        'saml:RS256',
        'saml:ES256',
        'audit:ES384',
        'risk_assessment:ES256',
      ],
    );
    t.deepEqual(await ensureKeys(store, DEFAULT_KEY_SPEC), []);
    for (const signer of first) t.regex(signer.label, new RegExp(`^gw:${signer.purpose}:${signer.alg}:[0-9a-f]{16}$`));
  } finally {
    await store.close();
  }
  const reopened = await openTestStore(token);
  try {
    t.deepEqual(await ensureKeys(reopened, DEFAULT_KEY_SPEC), []);
    t.is(reopened.signers().length, 8);
  } finally {
    await reopened.close();
  }
});

test.serial(
  'activeSigners puts the default algorithm first; a purpose without keys throws HSM_KEY_NOT_FOUND',
  async (t) => {
    const store = await openTestStore(token);
    try {
      await ensureKeys(store, DEFAULT_KEY_SPEC);
      t.deepEqual(
        store.activeSigners('id_token').map((s) => s.alg),
        ['RS256', 'ES256'],
      );
      t.is(store.activeSigner('id_token').alg, 'RS256');
      t.is(store.activeSigner('id_token', 'ES256').alg, 'ES256');
      t.is(store.activeSigner('saml').alg, 'RS256');
      t.is(store.activeSigner('audit').alg, 'ES384');
      t.deepEqual(
        store.publishable('id_token').map((jwk) => jwk.alg),
        ['RS256', 'ES256'],
      );
      t.is(store.signerByKid(store.activeSigner('audit').kid), store.activeSigner('audit'));
      for (const attempt of [
        () => store.activeSigner('client_auth'),
        () => store.activeSigner('audit', 'EdDSA'),
        () => store.signerByKid('nope'),
      ]) {
        const error = t.throws(attempt, { instanceOf: HsmError });
        t.is(error?.code, 'HSM_KEY_NOT_FOUND');
      }
    } finally {
      await store.close();
    }
  },
);
