/**
 * What only the translation point knows weighs in the score (translation/steps.ts `ADDED_FACTOR_WEIGHTS`), under
 * the built-in policy:
 * - an SSO from another device than the one the session's upstream login was made on (its session cookie carried
 *   to another browser, without that browser's device cookie) is a step-up: `prompt=none` gets `login_required`,
 *   while the same browser keeps getting its code;
 * - a device cookie forged or altered turns a fresh login into a step-up (ForceAuthn at the IdP), not a code.
 */
import test from 'ava';
import { Browser } from '../helpers/browser.ts';
import {
  authorizationRequest,
  RP_REDIRECT,
  startGatewayFixture,
  type GatewayFixture,
} from '../helpers/gateway-fixture.ts';
import { loginJourney } from '../helpers/login-journey.ts';
import { DEVICE_COOKIE } from '../../gateway/risk/device-cookie.ts';

let fx: GatewayFixture;
test.before(async () => {
  fx = await startGatewayFixture(); // the built-in policy
});
test.after.always(async () => {
  await fx?.stop();
});

const atRp = (u: URL) => u.toString().startsWith(RP_REDIRECT);

async function silently(browser: Browser) {
  const request = await authorizationRequest(fx.rp, { prompt: 'none' });
  const landed = await browser.follow(request.url, {}, atRp);
  await landed.response.body?.cancel();
  return landed.url;
}

test.serial('an SSO without the device the session was made on goes upstream; the same browser does not', async (t) => {
  const request = await authorizationRequest(fx.rp);
  const first = await loginJourney(request.url, { username: 'jean', redirectUri: RP_REDIRECT });
  t.truthy(
    first.url.searchParams.get('code'),
    `the first login ends with a code: ${first.url} ${first.html.slice(0, 300)}`,
  );
  const same = await silently(first.browser);
  t.truthy(same.searchParams.get('code'), `the same browser: ${same}`);

  // the session cookie alone, in a browser without that device cookie
  first.browser.forget(DEVICE_COOKIE);
  const elsewhere = await silently(first.browser);
  t.is(elsewhere.searchParams.get('code'), null, `no code from another device: ${elsewhere}`);
  t.is(elsewhere.searchParams.get('error'), 'login_required');
  const { rows } = await fx.gateway.services.pool.query<{ factors: string[] }>(
    "select assessment->'factors' as factors from risk_assessments order by at desc limit 1",
  );
  t.true(rows[0]?.factors.includes('sso:device_changed'), JSON.stringify(rows[0]));
  // and the SSO minted it no device cookie: only a login whose IdP answer was verified issues one (a session's cookie
  // replayed without it must not yield fresh valid device ids, which the IdPs' rate limits trust)
  t.deepEqual(
    first.browser.cookiesOf(new URL(fx.url)).filter((c) => c.name.endsWith(DEVICE_COOKIE)),
    [],
    'no device cookie set by the SSO',
  );
  const again = await silently(first.browser);
  t.is(again.searchParams.get('error'), 'login_required', 'still another device at the next SSO');
});

test.serial('a session cookie replayed with a junk device cookie weighs as another device, not less', async (t) => {
  const request = await authorizationRequest(fx.rp);
  const first = await loginJourney(request.url, { username: 'jean', redirectUri: RP_REDIRECT });
  t.truthy(first.url.searchParams.get('code'));
  first.browser.forget(DEVICE_COOKIE);
  first.browser.plant(new URL(fx.url), DEVICE_COOKIE, 'junk-device-id.not-our-signature');
  const elsewhere = await silently(first.browser);
  t.is(elsewhere.searchParams.get('error'), 'login_required', `no code: ${elsewhere}`);
  const { rows } = await fx.gateway.services.pool.query<{ factors: string[]; score: number }>(
    "select assessment->'factors' as factors, (assessment->>'score')::float as score from risk_assessments order by at desc limit 1",
  );
  t.true(rows[0]?.factors.includes('sso:device_changed'), JSON.stringify(rows[0]));
  t.true(rows[0]?.factors.includes('device:forged_cookie'), JSON.stringify(rows[0]));
  t.true((rows[0]?.score ?? 0) >= 0.6, 'at least what the session cookie alone weighs');
});

test.serial('a forged device cookie turns a fresh login into a step-up at the IdP', async (t) => {
  const browser = new Browser();
  browser.plant(new URL(fx.url), DEVICE_COOKIE, 'forged-device-id.not-our-signature');
  const request = await authorizationRequest(fx.rp);
  const journey = await loginJourney(request.url, { username: 'marie', redirectUri: RP_REDIRECT, browser });
  t.false(atRp(journey.url) && journey.url.searchParams.has('code'), `no code at once: ${journey.url}`);
  t.regex(journey.html, /ForceAuthn|SAMLRequest/, 'the page posts a new AuthnRequest (the step-up)');
});
