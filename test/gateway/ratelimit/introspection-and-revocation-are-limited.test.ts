/**
 * The introspection and revocation endpoints are limited endpoints: client authentication there is a door for
 * credential stuffing as at the token endpoint, and an RP's resource servers introspect its opaque tokens at every
 * call (each refusal audited by the token guard). Per address and endpoint (`rateLimit.perIp`), past it 429 with
 * Retry-After and the JSON an API call gets; each endpoint's bucket is its own; the RP's own bucket (its tier,
 * which its logins use) is not taken. Through the whole gateway.
 */
import test from 'ava';
import { startGatewayFixture } from '../../helpers/gateway-fixture.ts';

/** The limiter's Redis deadline: long, so that a loaded machine never sends a decision to the local fallback. */
const PATIENT = 5_000;

test('the N+1th introspection of an address is refused with 429 and JSON; revocation has its own bucket', async (t) => {
  const fixture = await startGatewayFixture({
    // two requests per address and endpoint, refilled one per 100 s: nothing refills during the test
    rawConfig: (raw) => (raw.rateLimit = { perIp: { capacity: 2, perSecond: 0.01 }, redisTimeoutMs: PATIENT }),
  });
  t.teardown(() => fixture.stop());
  const { client_id, client_secret } = fixture.deployment.client;
  const call = (path: string) =>
    fetch(`${fixture.url}${path}`, {
      method: 'POST',
      headers: {
        'content-type': 'application/x-www-form-urlencoded',
        authorization: `Basic ${Buffer.from(`${client_id}:${client_secret}`).toString('base64')}`,
      },
      body: new URLSearchParams({ token: 'a-token-never-issued' }),
    });
  for (let i = 0; i < 2; i += 1) {
    const admitted = await call('/token/introspection');
    t.is(admitted.status, 200);
    t.deepEqual(await admitted.json(), { active: false });
  }
  const refused = await call('/token/introspection');
  t.is(refused.status, 429);
  t.true(Number(refused.headers.get('retry-after')) >= 1);
  t.is(((await refused.json()) as { error: string }).error, 'temporarily_unavailable');
  const revocation = await call('/token/revocation');
  t.is(revocation.status, 200, "revocation's bucket is its own");
  await revocation.body?.cancel();
});
