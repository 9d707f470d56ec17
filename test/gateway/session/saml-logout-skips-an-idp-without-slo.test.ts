/**
 * Issue #12 item 6: an IdP whose metadata lists no SingleLogoutService takes no part in Single Logout. The
 * person's RP-initiated logout still completes (straight back to the RP, no hop to the IdP), the session is
 * ended, and the skip is audited with its code (`SAML_LOGOUT_UNSUPPORTED`).
 */
import test from 'ava';
import { logIn, logOutAtTheRp, startSessionBed, type SessionBed } from './session-bed.ts';

let bed: SessionBed;

test.before(async () => {
  bed = await startSessionBed({ demoIdpWithoutSlo: true });
});
test.after.always(async () => {
  await bed?.stop();
});

test('RP-initiated logout completes without the IdP, and the skip is audited', async (t) => {
  const session = await logIn(bed);
  const { url, atPlru, visited } = await logOutAtTheRp(bed, session);
  t.true(atPlru, `ended at ${url}`);
  t.false(
    visited.some((u) => u.startsWith(bed.deployment.idp.url)),
    'the browser never went to the IdP',
  );
  const me = await fetch(`${bed.url}/me`, { headers: { authorization: `Bearer ${session.accessToken}` } });
  t.is(me.status, 401, 'the gateway session is ended');
  const { rows } = await bed.gateway.services.pool.query<{ error_code: string }>(
    "select error_code from audit_log where to_state = 'UPSTREAM_LOGOUT_SKIPPED'",
  );
  t.deepEqual(
    rows.map((r) => r.error_code),
    ['SAML_LOGOUT_UNSUPPORTED'],
  );
});
