/**
 * Issue #15, "Answers": Redis unreachable (a failover, a restart: a Redis server of this test's own is stopped)
 * while an RP sends a person to `GET /auth`. oidc-provider's storage fails with FLOW_STORE_UNAVAILABLE; the
 * RP gets `error=temporarily_unavailable` with its `state` and `iss` (a redirect: the client and redirect_uri are
 * registered) and Retry-After — not oidc-provider's 503 `server_error` page. An unregistered redirect_uri still
 * gets the page, never a redirect. Once Redis is back, the same request leads to the sign-in.
 */
import test from 'ava';
import { Browser } from '../../helpers/browser.ts';
import { authorizationRequest, RP_REDIRECT } from '../../helpers/gateway-fixture.ts';
import { startSessionBed } from '../session/session-bed.ts';

test('Redis down at the authorization endpoint: the RP gets temporarily_unavailable with state and iss', async (t) => {
  const bed = await startSessionBed();
  t.teardown(() => bed.stop());
  const request = await authorizationRequest(bed.rp);
  const up = await fetch(request.url, { redirect: 'manual' });
  t.is(up.status, 303);
  t.regex(up.headers.get('location') ?? '', /\/interaction\//, 'Redis up: the sign-in');
  // a person already on the way, with the interaction cookie
  const browser = new Browser();
  const chooser = await browser.follow((await authorizationRequest(bed.rp)).url, {}, (u) =>
    u.pathname.startsWith('/interaction/'),
  );

  await bed.redis.stop();
  const down = await fetch(request.url, { redirect: 'manual' });
  const location = new URL(down.headers.get('location') ?? 'http://no-location/');
  t.is(down.status, 303, `a redirect to the RP, not a page (${down.status})`);
  t.true(location.toString().startsWith(RP_REDIRECT), location.toString());
  t.is(location.searchParams.get('error'), 'temporarily_unavailable');
  t.is(location.searchParams.get('state'), request.state);
  t.is(location.searchParams.get('iss'), bed.url);
  t.is(location.searchParams.get('code'), null);
  t.truthy(down.headers.get('retry-after'));

  // our own page reading the interaction meets the shed store error: a 503 page, not a 500
  const page503 = await browser.request(chooser.url, { headers: { accept: 'text/html' } });
  await page503.body?.cancel();
  t.is(page503.status, 503, 'the chooser while Redis is down');

  // a redirect_uri the client did not register is never redirected to, Redis or not
  const foreign = new URL(request.url);
  foreign.searchParams.set('redirect_uri', 'http://127.0.0.1:9/elsewhere');
  const page = await fetch(foreign, { redirect: 'manual' });
  t.true(page.status >= 400, `a page (${page.status})`);
  t.is(page.headers.get('location'), null);

  await bed.restartRedis();
  let again = 0;
  let where = '';
  for (let i = 0; i < 50 && !where.includes('/interaction/'); i += 1) {
    await new Promise((r) => setTimeout(r, 200)); // the client reconnects
    const answer = await fetch((await authorizationRequest(bed.rp)).url, { redirect: 'manual' });
    again = answer.status;
    where = answer.headers.get('location') ?? '';
  }
  t.is(again, 303);
  t.regex(where, /\/interaction\//, 'Redis back: the sign-in again');
});
