/** Opening a key store fails closed, each cause with its own code. */
import test, { type ExecutionContext } from 'ava';
import { HsmError, type HsmErrorCode } from '../../hsm/errors.ts';
import { generateKeyPair } from '../../hsm/pkcs11/keys.ts';
import { algorithm } from '../../hsm/algorithms.ts';
import { openKeyStore } from '../../hsm/token-keystore.ts';
import { freshToken } from '../helpers/services.ts';
import { openTestStore } from './open-store.ts';

const token = freshToken();
const foreignLabels = freshToken();

async function failsWith(t: ExecutionContext, attempt: Promise<unknown>, code: HsmErrorCode): Promise<void> {
  const error = await t.throwsAsync(attempt, { instanceOf: HsmError });
  t.is(error?.code, code);
}

test.serial('a wrong PIN fails with HSM_LOGIN_FAILED', async (t) => {
  await failsWith(t, openTestStore(token, { pin: `${token.pin}x` }), 'HSM_LOGIN_FAILED');
});

test.serial('an unknown token label fails with HSM_TOKEN_NOT_FOUND', async (t) => {
  await failsWith(t, openTestStore(token, { tokenLabel: 'no-such-token' }), 'HSM_TOKEN_NOT_FOUND');
});

test.serial('a module that cannot be loaded fails with HSM_LIBRARY_LOAD_FAILED', async (t) => {
  await failsWith(t, openTestStore(token, { library: '/nonexistent/libpkcs11.so' }), 'HSM_LIBRARY_LOAD_FAILED');
});

test.serial('missing options fail with HSM_CONFIG_INVALID', async (t) => {
  await failsWith(t, openKeyStore({ library: token.library, tokenLabel: token.label, pin: '' }), 'HSM_CONFIG_INVALID');
});

test.serial('an algorithm order naming an unknown algorithm fails with HSM_ALG_UNKNOWN', async (t) => {
  await failsWith(t, openTestStore(token, { algorithmOrder: { id_token: ['HS256' as 'RS256'] } }), 'HSM_ALG_UNKNOWN');
});

test.serial(
  'a token key labelled with an algorithm outside the registry fails the open with HSM_ALG_UNKNOWN',
  async (t) => {
    const store = await openTestStore(foreignLabels);
    await generateKeyPair(
      store.token,
      algorithm('ES256').key,
      Buffer.from('0011223344556677', 'hex'),
      'gw:id_token:ES256K:0011223344556677',
    );
    await store.close();
    await failsWith(t, openTestStore(foreignLabels), 'HSM_ALG_UNKNOWN');
  },
);

test.serial('the store still opens after those failures', async (t) => {
  const store = await openTestStore(token);
  t.deepEqual(store.signers(), []);
  await store.close();
});
