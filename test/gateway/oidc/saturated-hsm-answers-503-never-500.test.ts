/**
 * Issue #15, HSM saturated: the token's session pool is really held (one session, busy) and signatures
 * really queue behind it. Then new logins are shed at the door (503 HSM_BUSY + Retry-After), /ready says
 * not ready (hsm_capacity) without queueing a canary, the queue depth is a gauge, and the ID token that
 * oidc-provider signs at the token endpoint meets HSM_BUSY: a 503 `temporarily_unavailable` with Retry-After,
 * never oidc-provider's 500 `server_error`. Once the session is free, all of it recovers.
 */
import test from 'ava';
import type { Pkcs11Token } from '../../../hsm/pkcs11/token.ts';
import { authorizationRequest, RP_REDIRECT, startGatewayFixture } from '../../helpers/gateway-fixture.ts';
import { loginJourney } from '../../helpers/login-journey.ts';

test('a saturated HSM sheds new logins and the token endpoint with 503 + Retry-After, and /ready says so', async (t) => {
  const fx = await startGatewayFixture({
    // no audit checkpointer: its signature (every 60 s) landing while the test holds the pool would be a third
    // waiter (the counts below) or be refused and fail this test's own queued calls; nothing else signs meanwhile
    boot: { fraud: { checkpointMs: 0 } },
    rawConfig: (raw) => {
      raw.hsm = { ...(raw.hsm as object), poolSize: 1, maxWaiting: 2, acquireTimeoutMs: 60_000, shedQueueDepth: 1 };
    },
  });
  // a failed assertion ends the test at once: the held session is released before the gateway stops (its
  // stop waits for busy sessions)
  let release: (() => void) | undefined;
  t.teardown(async () => {
    release?.();
    await fx.stop();
  });
  const request = await authorizationRequest(fx.rp);
  const journey = await loginJourney(request.url, { username: 'marie', redirectUri: RP_REDIRECT });
  const code = journey.url.searchParams.get('code');
  t.truthy(code);

  // the pool's only session is held; two signatures wait behind it: the queue is full (maxWaiting 2)
  const token = (fx.gateway.services.keys as unknown as { tokens: { token: Pkcs11Token } }).tokens.token;
  const holding = token.run(() => new Promise<void>((resolve) => (release = resolve)));
  const queued = [token.run(() => 1), token.run(() => 2)];
  t.is(token.stats().waiting, 2);
  t.regex(
    await fx.gateway.services.metrics.registry.metrics(),
    /gateway_hsm_queue_depth 2/,
    'the queue depth is a gauge',
  );

  // a new login is shed at the door, as an API answer and back to the RP
  const next = await authorizationRequest(fx.rp);
  const shed = await fetch(next.url, { headers: { accept: 'application/json' }, redirect: 'manual' });
  t.is(shed.status, 503);
  t.true(Number(shed.headers.get('retry-after')) >= 1);
  t.is(((await shed.json()) as { error: string }).error, 'temporarily_unavailable');
  const back = await fetch(next.url, { redirect: 'manual' });
  t.is(back.status, 303);
  t.is(new URL(back.headers.get('location')!).searchParams.get('error'), 'temporarily_unavailable');

  // not ready, and why
  const ready = await fetch(`${fx.opsUrl}/ready`);
  t.is(ready.status, 503);
  t.like(await ready.json(), { status: 'not_ready', checks: { hsm: false, hsm_capacity: false, hsm_session: true } });

  // the token endpoint: oidc-provider signs the ID token in the HSM, which is busy
  const answer = await fetch(`${fx.url}/token`, {
    method: 'POST',
    headers: {
      authorization: `Basic ${Buffer.from(`${fx.deployment.client.client_id}:${fx.deployment.client.client_secret}`).toString('base64')}`,
      'content-type': 'application/x-www-form-urlencoded',
      accept: 'application/json',
    },
    body: new URLSearchParams({
      grant_type: 'authorization_code',
      code: code!,
      redirect_uri: RP_REDIRECT,
      code_verifier: request.verifier,
    }),
  });
  t.is(answer.status, 503);
  t.true(Number(answer.headers.get('retry-after')) >= 1);
  const body = (await answer.json()) as { error: string; error_description: string };
  t.is(body.error, 'temporarily_unavailable');
  t.truthy(body.error_description);

  // the session is free again: everything recovers
  release!();
  await holding;
  await Promise.all(queued);
  t.is(token.stats().waiting, 0);
  const again = await fetch((await authorizationRequest(fx.rp)).url, { redirect: 'manual' });
  t.is(again.status, 303);
  t.regex(again.headers.get('location') ?? '', /\/interaction\//);
  let readyAgain = 503;
  for (let i = 0; i < 40 && readyAgain !== 200; i += 1) {
    await new Promise((resolve) => setTimeout(resolve, 250)); // /ready answers are cached for 2 s
    readyAgain = (await fetch(`${fx.opsUrl}/ready`)).status;
  }
  t.is(readyAgain, 200);
});
