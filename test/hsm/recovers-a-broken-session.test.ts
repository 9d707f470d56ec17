/**
 * When the token closes the sessions under a signer (device reset, session timeout, another component
 * calling C_CloseAllSessions), the next signature reopens its session, logs in again and succeeds.
 */
import { verify } from 'node:crypto';
import test from 'ava';
import type { TokenKeyStore } from '../../hsm/token-keystore.ts';
import { freshToken } from '../helpers/services.ts';
import { openTestStore } from './open-store.ts';

const token = freshToken();
let store: TokenKeyStore;

test.before(async () => {
  store = await openTestStore(token, { poolSize: 2 });
  await store.generate('id_token', 'ES256');
});
test.after.always(async () => {
  await store?.close();
});

function closeAllSessionsOfTheToken(): void {
  const lib = store.token.lib;
  const slot = lib
    .C_GetSlotList(true)
    .find((candidate) => lib.C_GetTokenInfo(candidate).label.trimEnd() === token.label);
  if (!slot) throw new Error('test token not found');
  lib.C_CloseAllSessions(slot);
}

test('signing after every session of the token was closed (and the user logged out) recovers', async (t) => {
  const signer = store.activeSigner('id_token');
  const data = new TextEncoder().encode('before');
  t.true(verify('sha256', data, { key: signer.publicKey(), dsaEncoding: 'ieee-p1363' }, await signer.sign(data)));

  closeAllSessionsOfTheToken();

  const after = await Promise.all(
    Array.from({ length: 10 }, (_, i) => {
      const message = new TextEncoder().encode(`after ${i}`);
      return signer.sign(message).then((signature) => ({ message, signature }));
    }),
  );
  for (const { message, signature } of after) {
    t.true(verify('sha256', message, { key: signer.publicKey(), dsaEncoding: 'ieee-p1363' }, signature));
  }
  t.deepEqual(await signer.keyFlags(), {
    sensitive: true,
    extractable: false,
    alwaysSensitive: true,
    neverExtractable: true,
  });
});
