/**
 * Issue #15, HSM session loss: when the token drops every session and a session cannot be opened again (here
 * the user PIN no longer matches, so the login fails, as a token in CKR_DEVICE_ERROR would), the signature
 * fails with a code and the pool reports `sessionLost` (the gateway's /ready and `gateway_hsm_session_lost`
 * read it). Once the token accepts a login again, the next signature reopens the session and the pool
 * reports it recovered.
 */
import test from 'ava';
import pkcs11js from 'pkcs11js';
import type { TokenKeyStore } from '../../hsm/token-keystore.ts';
import { freshToken } from '../helpers/services.ts';
import { openTestStore } from './open-store.ts';

const token = freshToken();
let store: TokenKeyStore;

test.before(async () => {
  store = await openTestStore(token, { poolSize: 1 });
  await store.generate('id_token', 'ES256');
});
test.after.always(async () => {
  await store?.close();
});

function slotOfTheToken() {
  const lib = store.token.lib;
  const slot = lib.C_GetSlotList(true).find((s) => lib.C_GetTokenInfo(s).label.trimEnd() === token.label);
  if (!slot) throw new Error('test token not found');
  return slot;
}

/** Changes the user PIN from a session of our own (the pool's login covers it), then closes every session. */
function changePinAndDropSessions(from: string, to: string, loginFirst: boolean): void {
  const lib = store.token.lib;
  const slot = slotOfTheToken();
  const session = lib.C_OpenSession(slot, pkcs11js.CKF_SERIAL_SESSION | pkcs11js.CKF_RW_SESSION);
  if (loginFirst) lib.C_Login(session, pkcs11js.CKU_USER, from);
  lib.C_SetPIN(session, from, to);
  lib.C_CloseAllSessions(slot);
}

test('a session that cannot be reopened is reported lost, and recovered once the token lets us in again', async (t) => {
  const signer = store.activeSigner('id_token');
  const data = new TextEncoder().encode('canary');
  t.true((await signer.sign(data)).length > 0);
  t.false(store.token.stats().sessionLost);

  changePinAndDropSessions(token.pin, `${token.pin}-changed`, false);
  await t.throwsAsync(() => signer.sign(data), { code: 'HSM_LOGIN_FAILED' });
  t.true(store.token.stats().sessionLost);

  changePinAndDropSessions(`${token.pin}-changed`, token.pin, true);
  t.true((await signer.sign(data)).length > 0, 'the next signature reopened a session');
  t.false(store.token.stats().sessionLost);
});
