/**
 * Each answer of the signed risk assessment (`GET /risk/assessment`) is an HSM signature, so a holder of a valid
 * access token could make the HSM sign one per request. Each login (its grant) now has a bucket there
 * (`rateLimit.perLoginAssessment`): past it, `RATE_LIMITED` (429 with Retry-After) and nothing signed; another
 * login's bucket is its own. A token that finds no login takes from no login's bucket. The endpoint also takes from
 * the address's bucket as every limited endpoint does, but its refusals never take from the address's failures
 * bucket (an RP backend asks for all its users from one address). HEAD is not served there: @koa/router would have
 * answered it with the GET handler, outside every limit (HEAD is not a limited request), signing each time. Real gateway, Redis, PostgreSQL, SoftHSM2, openid-client RP.
 */
import test from 'ava';
import * as oidc from 'openid-client';
import { parseRateLimit } from '../../../gateway/config/ratelimit.ts';
import { ConfigError } from '../../../gateway/errors.ts';
import { authorizationRequest, RP_REDIRECT, startGatewayFixture } from '../../helpers/gateway-fixture.ts';
import { loginJourney } from '../../helpers/login-journey.ts';

/** The limiter's Redis deadline: long, so that a loaded machine never sends a decision to the local fallback. */
const PATIENT = 5_000;

test('past its login bucket an assessment is refused with 429 and Retry-After; another login still gets its own', async (t) => {
  const fixture = await startGatewayFixture({
    rawConfig: (raw) =>
      (raw.rateLimit = {
        // two assessments per login, refilled one per 100 s: nothing refills during the test
        perLoginAssessment: { capacity: 2, perSecond: 0.01 },
        // three failures per address: the assessment's refusals must not take from it (an RP backend's address)
        failures: { capacity: 3, perSecond: 0.01 },
        redisTimeoutMs: PATIENT,
      }),
  });
  t.teardown(() => fixture.stop());
  const login = async (username: string) => {
    const request = await authorizationRequest(fixture.rp);
    const journey = await loginJourney(request.url, { username, redirectUri: RP_REDIRECT });
    const tokens = await oidc.authorizationCodeGrant(fixture.rp, journey.url, {
      pkceCodeVerifier: request.verifier,
      expectedState: request.state,
      expectedNonce: request.nonce,
    });
    return tokens.access_token;
  };
  const assessment = async (token: string, method = 'GET') => {
    const response = await fetch(`${fixture.url}/risk/assessment`, {
      method,
      headers: { authorization: `Bearer ${token}` },
    });
    const body = await response.text();
    return { status: response.status, body, retryAfter: response.headers.get('retry-after') };
  };
  // this gateway's own keys (the test Redis is shared by the files running at once)
  const { redis } = fixture.gateway.services;
  const loginBuckets = () => redis.keys(`${redis.options.keyPrefix ?? ''}rl:{rl}:login:*`);

  // tokens that find no login: 404, no login's bucket made, and the address's failures bucket not taken from
  for (let i = 0; i < 4; i += 1) t.is((await assessment('not-a-token')).status, 404);
  t.deepEqual(await loginBuckets(), [], 'a made-up token takes no bucket');
  const first = await login('marie'); // its requests are checked against the address's failures bucket
  for (let i = 0; i < 2; i += 1) t.is((await assessment(first)).status, 200, `assessment ${i + 1} of the login`);
  t.is((await loginBuckets()).length, 1);
  const refused = await assessment(first);
  t.is(refused.status, 429);
  t.is(JSON.parse(refused.body).error, 'temporarily_unavailable', "the rate limiter's answer to an API call");
  t.true(Number(refused.retryAfter) >= 1, 'Retry-After says when');
  t.not((await assessment(first, 'HEAD')).status, 200, 'HEAD is not answered by the assessment (nothing signed)');

  const second = await login('jean');
  t.is((await assessment(second)).status, 200, "another login's bucket is its own");
  t.is((await assessment(first)).status, 429, 'the first login stays refused');
});

test('perLoginAssessment has its own default, and a bad value fails at boot naming the field', (t) => {
  const config = parseRateLimit({}, []);
  t.deepEqual(config.perLoginAssessment, { capacity: 10, perSecond: 0.05 });
  t.deepEqual(parseRateLimit({ perLoginAssessment: { capacity: 3 } }, []).perLoginAssessment, {
    capacity: 3,
    perSecond: 0.05,
  });
  const error = t.throws(() => parseRateLimit({ perLoginAssessment: { perSecond: 0 } }, []), {
    instanceOf: ConfigError,
  });
  t.is(error?.path, 'rateLimit.perLoginAssessment.perSecond');
});
