/**
 * A late fraud verdict that comes after a login's completion stored its grant and result, but before the browser
 * followed its redirect to the resume (`/interaction/:uid/complete` then `/auth/:uid`: a review's approval, a
 * WebAuthn step-up, or `federation.completeAtResume: false`), finds no session to revoke yet: it ends the grant, and
 * replaces the result still waiting for the resume by a refusal. The resume then tells the RP `access_denied` and
 * logs the browser's session in to nothing: a `prompt=none` request afterwards gets `login_required`.
 * Real gateway, demo IdP, PostgreSQL, Redis and HSM; the verdict is the correlation stage's own.
 */
import test from 'ava';
import { LATE_VERDICT_REVOKE_ABOVE } from '../../../gateway/translation/fraud-service.ts';
import { eventuallyOrThrow } from '../../helpers/eventually.ts';
import { authorizationRequest, RP_REDIRECT } from '../../helpers/gateway-fixture.ts';
import { loginJourney } from '../../helpers/login-journey.ts';
import { queueOnAFarmedDevice } from './farmed-device.ts';
import { startSessionBed, type SessionBed } from './session-bed.ts';

let bed: SessionBed;
test.before(async () => {
  bed = await startSessionBed({ federation: { completeAtResume: false }, bootOptions: { fraud: { reprocessMs: 0 } } });
});
test.after.always(async () => {
  await bed?.stop();
});

test('a verdict between the grant and the resume: the resume refuses, no code, no session', async (t) => {
  const { services } = bed.gateway;
  const request = await authorizationRequest(bed.rp);
  // completed at /interaction/:uid/complete (grant, result, COMPLETED); the browser stops before the resume
  const stopped = await loginJourney(request.url, { username: 'jean', redirectUri: new URL('/auth/', bed.url).href });
  t.true(stopped.url.pathname.startsWith('/auth/'), `stopped at the resume: ${stopped.url.href}`);
  const loginId = stopped.url.pathname.split('/')[2]!;
  const { rows: completed } = await services.pool.query(
    "select 1 from audit_log where session_id = $1 and to_state = 'COMPLETED'",
    [loginId],
  );
  t.is(completed.length, 1, 'the completion ran before the resume');

  await queueOnAFarmedDevice(services, loginId, 'jean-account', 'between-farm');
  const stop = services.fraud.startReprocessing(50, LATE_VERDICT_REVOKE_ABOVE);
  t.teardown(stop);
  await eventuallyOrThrow(
    async () =>
      (
        await services.pool.query(
          "select 1 from audit_log where to_state = 'LATE_VERDICT_REVOKED' and session_id = $1 and details->>'outcome' = 'grant-ended'",
          [loginId],
        )
      ).rows.length > 0,
    'the worker to reach its verdict on the login',
  );

  const atRp = (u: URL) => u.toString().startsWith(RP_REDIRECT);
  const landing = await stopped.browser.follow(stopped.url, {}, atRp);
  await landing.response.body?.cancel();
  t.is(landing.url.searchParams.get('code'), null, 'no code');
  t.is(landing.url.searchParams.get('error'), 'access_denied');
  const silent = await authorizationRequest(bed.rp, { prompt: 'none' });
  const hop = await stopped.browser.follow(silent.url, {}, atRp);
  await hop.response.body?.cancel();
  t.is(hop.url.searchParams.get('error'), 'login_required', 'the browser was logged in to nothing');
});
