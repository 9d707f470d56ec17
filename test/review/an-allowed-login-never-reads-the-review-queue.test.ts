/**
 * Issue #14: the completion step reads the review queue only when the login has no outcome to act on. An
 * outcome is saved only right after the login entered FRAUD_CHECK or FAILED, a review row only once it reached
 * MANUAL_REVIEW, from which no transition leads back: a login with an outcome cannot be under review, so an
 * allowed login runs no `review_queue` statement at all (it ran one at every completion). The approval path
 * (no outcome: the review decides) stays proven by manual-review-approve-deny-timeout.test.ts.
 * Real gateway, PostgreSQL, Redis and SoftHSM2; the gateway's own pool is watched (statementsDuring).
 */
import test from 'ava';
import * as oidc from 'openid-client';
import {
  authorizationRequest,
  RP_REDIRECT,
  startGatewayFixture,
  type GatewayFixture,
} from '../helpers/gateway-fixture.ts';
import { loginJourney } from '../helpers/login-journey.ts';
import { statementsDuring } from '../helpers/statement-log.ts';

let fx: GatewayFixture;
test.before(async () => {
  fx = await startGatewayFixture();
});
test.after.always(async () => {
  await fx?.stop();
});

test.serial('an allowed login completes with tokens and no review_queue statement', async (t) => {
  const request = await authorizationRequest(fx.rp);
  let journey: Awaited<ReturnType<typeof loginJourney>> | undefined;
  const statements = await statementsDuring(fx.gateway.services.pool, async () => {
    journey = await loginJourney(request.url, { username: 'marie', redirectUri: RP_REDIRECT });
  });
  t.true(journey!.url.toString().startsWith(RP_REDIRECT));
  t.truthy(journey!.url.searchParams.get('code'), 'the login was allowed');
  const tokens = await oidc.authorizationCodeGrant(fx.rp, journey!.url, {
    pkceCodeVerifier: request.verifier,
    expectedState: request.state,
    expectedNonce: request.nonce,
  });
  t.is(tokens.claims()!.given_name, 'Marie');
  t.true(
    statements.some((s) => s.includes('insert into audit_log')),
    'the watch sees the login statements',
  );
  t.deepEqual(
    statements.filter((s) => s.includes('review_queue')),
    [],
    'no review queue statement for a login that was not flagged',
  );
});
