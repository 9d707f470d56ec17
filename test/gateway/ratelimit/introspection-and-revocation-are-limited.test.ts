/**
 * The introspection and revocation endpoints are limited endpoints: client authentication there is a door for
 * credential stuffing as at the token endpoint, and an RP's resource servers introspect its opaque tokens at every
 * call (each refusal audited by the token guard). Per address and endpoint (`rateLimit.perIp`), past it 429 with
 * Retry-After and the JSON an API call gets; each endpoint's bucket is its own; the RP's own bucket (its tier,
 * which its logins use) is not taken. A pushed authorization request (`POST /request`, RFC 9126), a login's start,
 * was not limited either: it now takes the RP's bucket as an authorization request does. Userinfo (`/me`) is limited too,
 * with failures of its own. Through the whole gateway.
 */
import test from 'ava';
import { postAsClient } from '../../helpers/as-client.ts';
import { startGatewayFixture } from '../../helpers/gateway-fixture.ts';

/** The limiter's Redis deadline: long, so that a loaded machine never sends a decision to the local fallback. */
const PATIENT = 5_000;

test('the N+1th introspection of an address is refused with 429 and JSON; revocation has its own bucket', async (t) => {
  const fixture = await startGatewayFixture({
    // two requests per address and endpoint, refilled one per 100 s: nothing refills during the test
    rawConfig: (raw) => (raw.rateLimit = { perIp: { capacity: 2, perSecond: 0.01 }, redisTimeoutMs: PATIENT }),
  });
  t.teardown(() => fixture.stop());
  const call = (path: string) =>
    postAsClient(fixture.url, path, fixture.deployment.client, { token: 'a-token-never-issued' });
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

test("introspection's failures are its own, and it takes nothing from the RP's bucket its logins use", async (t) => {
  let clientId = '';
  const fixture = await startGatewayFixture({
    rawConfig: (raw) => {
      clientId = (raw.clients as Array<{ client_id: string }>)[0]!.client_id;
      raw.rateLimit = {
        // three failures per address, refilled one per 100 s
        failures: { capacity: 3, perSecond: 0.01 },
        // the RP's own bucket holds one request
        clients: { [clientId]: { tier: 'tier_3', perSecond: 0.01 } },
        redisTimeoutMs: PATIENT,
      };
    },
  });
  t.teardown(() => fixture.stop());
  const post = async (path: string, secret: string, body: Record<string, string>) => {
    const answer = await postAsClient(fixture.url, path, { client_id: clientId, client_secret: secret }, body);
    await answer.body?.cancel();
    return answer.status;
  };
  const { client_secret } = fixture.deployment.client;
  const wrong = 'w'.repeat(40);
  const introspection = { token: 'a-token-never-issued' };
  for (let i = 0; i < 3; i += 1) t.is(await post('/token/introspection', wrong, introspection), 401, 'a stale secret');
  t.is(
    await post('/token/introspection', client_secret, introspection),
    429,
    "introspection's failures bucket is empty",
  );
  const grant = {
    grant_type: 'authorization_code',
    code: 'a-code-never-issued',
    redirect_uri: 'https://rp.example/cb',
  };
  t.is(
    await post('/token', client_secret, grant),
    400,
    "the token endpoint: neither the address's failures nor the RP's bucket taken",
  );
  t.is(await post('/token', client_secret, grant), 429, "the RP's bucket of one is the token endpoint's");
});

test("a pushed authorization request is a limited login start: it takes the RP's back-channel bucket", async (t) => {
  let clientId = '';
  const fixture = await startGatewayFixture({
    rawConfig: (raw) => {
      clientId = (raw.clients as Array<{ client_id: string }>)[0]!.client_id;
      // the RP's own bucket holds one request, refilled one per 100 s
      raw.rateLimit = { clients: { [clientId]: { tier: 'tier_3', perSecond: 0.01 } }, redisTimeoutMs: PATIENT };
    },
  });
  t.teardown(() => fixture.stop());
  const par = async () => {
    const answer = await postAsClient(fixture.url, '/request', fixture.deployment.client, {
      response_type: 'code',
      scope: 'openid',
    });
    await answer.body?.cancel();
    return answer.status;
  };
  t.not(await par(), 429, 'the first is admitted (and answered by oidc-provider)');
  t.is(await par(), 429, "the second: the RP's back-channel bucket of one is empty");
});

test('made-up bearer tokens at userinfo are limited: its own failures bucket, then 429 with JSON', async (t) => {
  // each made-up token missed Redis and was looked up in PostgreSQL, with no limit at all: a flood of them took
  // the pool every login needs (attacker review, twenty-ninth round)
  const fixture = await startGatewayFixture({
    rawConfig: (raw) => (raw.rateLimit = { failures: { capacity: 3, perSecond: 0.01 }, redisTimeoutMs: PATIENT }),
  });
  t.teardown(() => fixture.stop());
  const me = async (method: 'GET' | 'POST') => {
    const answer = await fetch(`${fixture.url}/me`, {
      method,
      headers: { authorization: `Bearer ${'x'.repeat(43)}` },
    });
    return { status: answer.status, body: await answer.text(), retryAfter: answer.headers.get('retry-after') };
  };
  for (let i = 0; i < 3; i += 1) t.is((await me(i % 2 ? 'POST' : 'GET')).status, 401, 'a token never issued');
  const refused = await me('GET');
  t.is(refused.status, 429);
  t.true(Number(refused.retryAfter) >= 1);
  t.is((JSON.parse(refused.body) as { error: string }).error, 'temporarily_unavailable');
  const introspection = await postAsClient(fixture.url, '/token/introspection', fixture.deployment.client, {
    token: 'a-token-never-issued',
  });
  t.is(introspection.status, 200, "userinfo's failures are its own: an RP's introspection still answers");
  await introspection.body?.cancel();
});
