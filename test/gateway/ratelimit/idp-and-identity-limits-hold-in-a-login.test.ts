/**
 * Issue #15, through the whole gateway: an upstream IdP's bucket is taken by each AuthnRequest sent to it and
 * each response it really sent (verified: a stranger's junk takes nothing); an identity's bucket by each of its responses at the ACS. A refusal at the
 * ACS fails the login with RATE_LIMITED (the RP gets temporarily_unavailable with its state); a refused
 * AuthnRequest is a 429 page with Retry-After. Real IdP (samlify), real Redis, PostgreSQL and HSM.
 */
import { randomBytes } from 'node:crypto';
import test from 'ava';
import { Browser, formsIn } from '../../helpers/browser.ts';
import { authorizationRequest, RP_REDIRECT, startGatewayFixture } from '../../helpers/gateway-fixture.ts';
import { loginJourney } from '../../helpers/login-journey.ts';

/**
 * The limiter's Redis deadline in these tests: long, so that a loaded machine never sends a decision to the
 * instance's local fallback (its own buckets, which have not seen the requests before; `limits-hold-in-redis`
 * tests that fallback).
 */
const PATIENT = 5_000;

const SLOW = 0.01; // one token per 100 s: nothing refills while a test runs

test('an IdP admits its burst of requests and responses, then the RP is told temporarily_unavailable', async (t) => {
  const fx = await startGatewayFixture({
    rawConfig: (raw) =>
      (raw.rateLimit = {
        perIdp: { min: 0.001, idps: { 'demo-idp': SLOW }, burstSeconds: 300 },
        redisTimeoutMs: PATIENT,
      }), // 3 tokens
  });
  t.teardown(() => fx.stop());
  // 1st login: its AuthnRequest and the response take two tokens
  const first = await authorizationRequest(fx.rp);
  const one = await loginJourney(first.url, { username: 'marie', redirectUri: RP_REDIRECT });
  t.truthy(one.url.searchParams.get('code'));
  // 2nd login: its AuthnRequest takes the last token; the IdP's response is refused, the login fails cleanly
  const second = await authorizationRequest(fx.rp);
  const two = await loginJourney(second.url, { username: 'jean', redirectUri: RP_REDIRECT });
  t.is(two.url.searchParams.get('error'), 'temporarily_unavailable');
  t.is(two.url.searchParams.get('state'), second.state);
  t.is(two.url.searchParams.get('code'), null);
  // 3rd login: no AuthnRequest is sent to that IdP
  const third = await authorizationRequest(fx.rp);
  const browser = new Browser();
  const chooser = await browser.follow(third.url, { headers: { 'accept-language': 'en' } });
  const form = formsIn(await chooser.response.text()).find((f) => f.action.endsWith('/idp'))!;
  const page = await browser.submit(form, chooser.url, { idp: 'demo-idp' });
  t.is(page.response.status, 429);
  t.true(Number(page.response.headers.get('retry-after')) >= 1);
  t.regex(await page.response.text(), /RATE_LIMITED/);
  // the login is where it was, and not held: its claim for AUTHENTICATING (taken with the rate-limit call) was
  // given back, so the next step goes through at once rather than waiting out the claim's lease
  const loginId = chooser.url.pathname.split('/')[2]!;
  t.is((await fx.gateway.services.flow.get(loginId))?.state, 'INITIATED');
  t.is(
    (await fx.gateway.services.flow.transition(loginId, 'FAILED', { component: 'test', errorCode: 'FLOW_TIMEOUT' }))
      .state,
    'FAILED',
  );
  const exposition = await fx.gateway.services.metrics.registry.metrics();
  t.regex(
    exposition,
    /gateway_ratelimit_idp_decisions_total\{idp="demo-idp",direction="request",outcome="admitted",line="redis"\} 2/,
  );
  t.regex(
    exposition,
    /gateway_ratelimit_idp_decisions_total\{idp="demo-idp",direction="response",outcome="refused",line="redis"\} 1/,
  );
  t.regex(
    exposition,
    /gateway_ratelimit_idp_decisions_total\{idp="demo-idp",direction="request",outcome="refused",line="redis"\} 1/,
  );
});

test('a person who logged in before still reaches the IdP when new browsers have used up their part', async (t) => {
  const fx = await startGatewayFixture({
    rawConfig: (raw) =>
      (raw.rateLimit = {
        // 10 tokens; browsers without a device cookie: 5 of them together, the rest kept for returning devices
        // (every browser here comes from 127.0.0.1: an address's share is the whole IdP, not what refuses)
        perIdp: {
          min: 0.001,
          idps: { 'demo-idp': SLOW },
          burstSeconds: 1_000,
          perAddressShare: 1,
          knownDeviceShare: 0.5,
        },
        redisTimeoutMs: PATIENT,
      }),
  });
  t.teardown(() => fx.stop());
  // marie logs in from her browser: it now holds a device cookie (set once the IdP's answer was verified)
  const first = await authorizationRequest(fx.rp);
  const marie = await loginJourney(first.url, { username: 'marie', redirectUri: RP_REDIRECT });
  t.truthy(marie.url.searchParams.get('code'));
  // new browsers start logins
  const startFromANewBrowser = async () => {
    const request = await authorizationRequest(fx.rp);
    const browser = new Browser();
    const headers = { 'accept-language': 'en' };
    const chooser = await browser.follow(request.url, { headers });
    const form = formsIn(await chooser.response.text()).find((f) => f.action.endsWith('/idp'))!;
    return (await browser.submit(form, chooser.url, { idp: 'demo-idp' })).response;
  };
  const statuses: number[] = [];
  for (let i = 1; i <= 8; i++) statuses.push((await startFromANewBrowser()).status);
  // marie's own login took one of the new browsers' five: four more go, then they are refused (without the part
  // kept, all eight would have gone, and emptied the IdP's bucket: 10 − 2 for marie's login − 8)
  t.deepEqual(statuses, [200, 200, 200, 200, 429, 429, 429, 429]);
  // marie comes back (prompt=login: her session would otherwise answer without the IdP): her AuthnRequest goes out
  const again = await authorizationRequest(fx.rp, { prompt: 'login' });
  const back = await loginJourney(again.url, { username: 'marie', redirectUri: RP_REDIRECT, browser: marie.browser });
  t.truthy(back.url.searchParams.get('code'), `her login ended at ${back.url}`);
  t.regex(
    await fx.gateway.services.metrics.registry.metrics(),
    /gateway_ratelimit_refusals_total\{endpoint="chooser",bucket="idp_new_browsers",line="redis"\} 4/,
  );
});

test("a stranger's junk posted with a live RelayState takes nothing from the IdP's bucket", async (t) => {
  const fx = await startGatewayFixture({
    rawConfig: (raw) =>
      (raw.rateLimit = {
        perIdp: { min: 0.001, idps: { 'demo-idp': SLOW }, burstSeconds: 300 },
        redisTimeoutMs: PATIENT,
      }), // 3 tokens: the AuthnRequest takes one
  });
  t.teardown(() => fx.stop());
  const junk = Buffer.from(
    '<samlp:Response xmlns:samlp="urn:oasis:names:tc:SAML:2.0:protocol" ID="_junk" Version="2.0"/>',
  ).toString('base64');
  const refusedJunk: number[] = [];
  const request = await authorizationRequest(fx.rp);
  const login = await loginJourney(request.url, {
    username: 'marie',
    redirectUri: RP_REDIRECT,
    // before the person's own answer arrives, a stranger (another browser) posts junk with its RelayState:
    // more posts than the IdP's bucket holds
    beforeAcs: async (form) => {
      const stranger = new Browser();
      for (let i = 0; i < 4; i++) {
        const posted = await stranger.submit(form, new URL(form.action), { SAMLResponse: junk });
        refusedJunk.push(posted.response.status);
      }
      return form;
    },
  });
  t.true(
    refusedJunk.every((status) => status >= 400),
    `junk answered ${refusedJunk.join(', ')}`,
  );
  t.truthy(login.url.searchParams.get('code'), `the login ended at ${login.url}`);
  const exposition = await fx.gateway.services.metrics.registry.metrics();
  t.regex(
    exposition,
    /gateway_ratelimit_idp_decisions_total\{idp="demo-idp",direction="response",outcome="admitted",line="redis"\} 1\n/,
  );
  t.notRegex(exposition, /direction="response",outcome="refused"/);
});

test('an identity admits its burst at the ACS, then its login fails with temporarily_unavailable; another identity goes on', async (t) => {
  const fx = await startGatewayFixture({
    rawConfig: (raw) => (raw.rateLimit = { perIdentity: { capacity: 1, perSecond: SLOW }, redisTimeoutMs: PATIENT }),
  });
  t.teardown(() => fx.stop());
  const first = await authorizationRequest(fx.rp);
  const admitted = await loginJourney(first.url, { username: 'marie', redirectUri: RP_REDIRECT });
  t.truthy(admitted.url.searchParams.get('code'));
  const again = await authorizationRequest(fx.rp);
  const refused = await loginJourney(again.url, { username: 'marie', redirectUri: RP_REDIRECT });
  t.is(refused.url.searchParams.get('error'), 'temporarily_unavailable');
  t.is(refused.url.searchParams.get('state'), again.state);
  // a refused answer keeps no upstream session for Single Logout (the first login's record is there; the refused
  // one's is not)
  const kept = (loginId: string) => fx.gateway.services.sessions.store.get('UpstreamSession', `login\0${loginId}`);
  t.truthy(refused.loginId);
  t.is(await kept(refused.loginId!), null);
  t.truthy(await kept(admitted.loginId!));
  const other = await authorizationRequest(fx.rp);
  t.truthy(
    (await loginJourney(other.url, { username: 'jean', redirectUri: RP_REDIRECT })).url.searchParams.get('code'),
  );
  t.regex(
    await fx.gateway.services.metrics.registry.metrics(),
    /gateway_ratelimit_identity_decisions_total\{endpoint="acs",outcome="refused",line="redis"\} 1/,
  );
});

test("an identity's burst at the ACS is its account's, whatever its transient NameIDs", async (t) => {
  const fx = await startGatewayFixture({
    // one token per 1,000 s: nothing refills between the two logins however loaded the machine
    rawConfig: (raw) => (raw.rateLimit = { perIdentity: { capacity: 1, perSecond: 0.001 }, redisTimeoutMs: PATIENT }),
  });
  t.teardown(() => fx.stop());
  // a fresh NameID at every login (as many eIDAS nodes send): counted by IdP and NameID, each was a new identity
  const logIn = async () => {
    fx.deployment.idp.setResponseOverrides({
      nameIdFormat: 'urn:oasis:names:tc:SAML:2.0:nameid-format:transient',
      nameId: `_${randomBytes(16).toString('hex')}`,
    });
    const request = await authorizationRequest(fx.rp);
    return (await loginJourney(request.url, { username: 'marie', redirectUri: RP_REDIRECT })).url.searchParams;
  };
  t.truthy((await logIn()).get('code'));
  t.is((await logIn()).get('error'), 'temporarily_unavailable');
});
