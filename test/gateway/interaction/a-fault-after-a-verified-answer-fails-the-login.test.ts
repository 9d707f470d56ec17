/**
 * A fault of ours after the IdP's answer was verified — here, the record of the upstream session (what the IdP's
 * logout later ends) cannot be written — fails the login (`INTERNAL`): a reload of the resume cannot finish it,
 * which would issue a session the IdP's logout could never end; the RP is told `server_error`, no code (reviewer
 * finding, fifteenth round). Real Redis, PostgreSQL, HSM; the samlify demo IdP.
 */
import test from 'ava';
import { authorizationRequest, startGatewayFixture } from '../../helpers/gateway-fixture.ts';
import { loginJourney } from '../../helpers/login-journey.ts';
import { UpstreamSessions } from '../../../gateway/session/upstream-sessions.ts';

test('an answer whose upstream session cannot be recorded fails its login: a reload gets no code', async (t) => {
  const fx = await startGatewayFixture();
  t.teardown(() => fx.stop());
  const proto = UpstreamSessions.prototype as unknown as { recordLogin: (...args: unknown[]) => Promise<unknown> };
  const original = proto.recordLogin;
  proto.recordLogin = () => Promise.reject(new Error('sealing failed (test)'));
  let journey;
  try {
    const request = await authorizationRequest(fx.rp);
    journey = await loginJourney(request.url, { username: 'marie', redirectUri: `${fx.url}/auth/` });
  } finally {
    proto.recordLogin = original;
  }
  t.is(journey.status, 500, 'the error page');
  const loginId = journey.loginId!;
  t.is((await fx.gateway.services.flow.get(loginId))?.state, 'FAILED');
  const { rows } = await fx.gateway.services.pool.query<{ to_state: string; error_code: string | null }>(
    'select to_state, error_code from audit_log where session_id = $1 order by id',
    [loginId],
  );
  t.deepEqual(rows.at(-1), { to_state: 'FAILED', error_code: 'INTERNAL' });
  // the person reloads the resume
  const resumed = await journey.browser.request(new URL(`/auth/${loginId}`, fx.url));
  const location = new URL(resumed.headers.get('location') ?? '/none', fx.url);
  await resumed.body?.cancel();
  t.is(location.searchParams.get('code'), null, `no code: ${location}`);
  t.is(location.searchParams.get('error'), 'server_error');
});
