/**
 * A session that fails is closed and another opened in its place; when that opening fails too (the token is
 * gone, or refuses the login), the place stays empty: the next caller opens a session, and no caller is ever
 * handed the closed handle, whose number the PKCS#11 module may give to another session of the process
 * meanwhile (two operations would then share one session, which PKCS#11 forbids).
 */
import test from 'ava';
import pkcs11js from 'pkcs11js';
import { SessionPool } from '../../hsm/pkcs11/session-pool.ts';
import type { Handle, Pkcs11 } from '../../hsm/pkcs11/module.ts';
import type { TokenKeyStore } from '../../hsm/token-keystore.ts';
import { freshToken } from '../helpers/services.ts';
import { openTestStore } from './open-store.ts';

const token = freshToken();
let store: TokenKeyStore;
test.before(async () => {
  store = await openTestStore(token, { poolSize: 1 });
});
test.after.always(async () => {
  await store?.close();
});

test('after a failed reopening, the next operation gets a session opened for it, never the closed handle', async (t) => {
  const lib = store.token.lib;
  const slot = lib.C_GetSlotList(true).find((s) => lib.C_GetTokenInfo(s).label.trimEnd() === token.label)!;
  let refuseOpening = false;
  const closed: string[] = [];
  const watched = new Proxy(lib, {
    get(target, name) {
      if (name === 'C_OpenSession')
        return (...args: Parameters<Pkcs11['C_OpenSession']>) => {
          if (refuseOpening) throw new Error('C_OpenSession failed: CKR_DEVICE_ERROR');
          return target.C_OpenSession(...args);
        };
      if (name === 'C_CloseSession')
        return (session: Handle) => {
          closed.push(session.toString('hex'));
          target.C_CloseSession(session);
        };
      return (Reflect.get(target, name) as (...a: unknown[]) => unknown).bind(target);
    },
  });
  const pool = new SessionPool(watched, slot, token.pin, { size: 1 });
  t.teardown(() => pool.close());

  // the operation's session dies under it (closed behind the pool's back), and the token opens none again
  const failing = pool.run((session) => {
    lib.C_CloseSession(session);
    closed.push(session.toString('hex'));
    refuseOpening = true;
    return lib.C_GetSessionInfo(session);
  });
  await t.throwsAsync(failing, { message: /CKR_DEVICE_ERROR/ });
  t.true(pool.stats().sessionLost);

  refuseOpening = false;
  const given: string[] = [];
  const info = await pool.run((session) => {
    given.push(session.toString('hex'));
    return lib.C_GetSessionInfo(session);
  });
  t.is(info.flags & pkcs11js.CKF_RW_SESSION, pkcs11js.CKF_RW_SESSION);
  t.deepEqual(
    given.filter((handle) => closed.includes(handle)),
    [],
    'no operation is handed a closed handle',
  );
  t.false(pool.stats().sessionLost);
  t.is(pool.stats().busy, 0);
});

test('a session that fails again once reopened is not given back either', async (t) => {
  const lib = store.token.lib;
  const slot = lib.C_GetSlotList(true).find((s) => lib.C_GetTokenInfo(s).label.trimEnd() === token.label)!;
  const pool = new SessionPool(lib, slot, token.pin, { size: 1 });
  t.teardown(() => pool.close());
  const closed: string[] = [];
  // every session it is given dies under it: the first, and the one opened for the retry
  const dying = pool.run((session) => {
    lib.C_CloseSession(session);
    closed.push(session.toString('hex'));
    return lib.C_GetSessionInfo(session);
  });
  await t.throwsAsync(dying, { message: /CKR_SESSION_HANDLE_INVALID/ });
  t.is(closed.length, 2, 'tried once more on a fresh session');
  const given: string[] = [];
  await pool.run((session) => {
    given.push(session.toString('hex'));
    return lib.C_GetSessionInfo(session);
  });
  t.deepEqual(
    given.filter((handle) => closed.includes(handle)),
    [],
    'no operation is handed a closed handle',
  );
});
