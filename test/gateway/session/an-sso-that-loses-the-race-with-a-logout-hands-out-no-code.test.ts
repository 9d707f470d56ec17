/**
 * An SSO login whose session another request ended while it ran (a logout in another tab, on another instance)
 * hands out no code: its session write is refused (the session stays ended: migrations 0760, 0780), and the
 * request answers 400 `login_required` instead of the redirect that carried the code
 * (`session/session-closed-meanwhile.ts`, `oidc/request-writes-together.ts`). Before, the code reached the RP and
 * only its exchange failed; an RP whose grant persists logout got tokens for a session logged out before.
 */
import test from 'ava';
import { runWithRequestMemo } from '../../../gateway/session/request-memo.ts';
import { authorizationRequest, RP_REDIRECT } from '../../helpers/gateway-fixture.ts';
import { eventually } from '../../helpers/eventually.ts';
import { logIn, startSessionBed } from './session-bed.ts';

test('an SSO whose session a logout ended meanwhile answers login_required, and no code reaches the RP', async (t) => {
  const bed = await startSessionBed();
  t.teardown(() => bed.stop());
  const session = await logIn(bed);
  const { store } = bed.gateway.services.sessions;
  const found = await runWithRequestMemo(() => store.findSession<{ uid: string }>('sid', session.sid));
  const sessionKey = store.keys.key('Session', found!.payload.uid);
  // the request that saves the session (the SSO's resumption) runs; just before its writes go, another instance
  // ends the session (its logout's end, straight in PostgreSQL)
  const holdWrites = store.holdWrites.bind(store);
  let ended = 0;
  store.holdWrites = (work) =>
    holdWrites(async () => {
      const answer = await work();
      if (ended === 0 && typeof store.durable.heldRecord(sessionKey) === 'object') {
        ended = (
          await bed.gateway.services.pool.query('select * from session_records_close($1::bytea[])', [[sessionKey]])
        ).rowCount!;
      }
      return answer;
    });
  const request = await authorizationRequest(bed.rp);
  let landing;
  try {
    landing = await session.browser.follow(request.url, {}, (u) => u.href.startsWith(RP_REDIRECT));
  } finally {
    store.holdWrites = holdWrites;
  }
  t.is(ended, 1, 'the session was ended while the SSO ran');
  t.false(landing.url.href.startsWith(RP_REDIRECT), `no code reached the RP (${landing.url.href.slice(0, 120)})`);
  t.is(landing.response.status, 400);
  t.regex(await landing.response.text(), /login_required/);
  t.is((await store.durable.get(sessionKey))?.state, 'ended', 'the session stays ended');
  // the refusal is audited, on the login's own trail
  const audited = async () =>
    (
      await bed.gateway.services.pool.query<{ session_id: string }>(
        "select session_id from audit_log where error_code = 'SESSION_CLOSED_MEANWHILE'",
      )
    ).rows;
  t.true(await eventually(async () => (await audited()).length > 0), 'SESSION_CLOSED_MEANWHILE audited');
  t.is((await audited()).length, 1);
});
