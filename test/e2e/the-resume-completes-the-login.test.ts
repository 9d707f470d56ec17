/**
 * Issue #14: the IdP's answer sends the browser straight to oidc-provider's resume (GET /auth/:uid), where the
 * completion step runs in front of oidc-provider and the code is issued in the same request: a full login is
 * six gateway requests, not seven. The browser binding is the resume cookie, checked before any completion
 * work: another browser holding only the uid gets a refusal with a code and the login is left untouched.
 * The old hop (GET /interaction/:uid/complete) still finishes a login (a link from before an upgrade).
 */
import test from 'ava';
import * as oidc from 'openid-client';
import { Browser } from '../helpers/browser.ts';
import {
  authorizationRequest,
  RP_REDIRECT,
  startGatewayFixture,
  type GatewayFixture,
} from '../helpers/gateway-fixture.ts';
import { loginJourney, type JourneyResult } from '../helpers/login-journey.ts';
import { GatewayError } from '../../gateway/errors.ts';
import { LoginFlow } from '../../gateway/flow/login-flow.ts';

let fx: GatewayFixture;
test.before(async () => {
  fx = await startGatewayFixture();
});
test.after.always(async () => {
  await fx?.stop();
});

/** A login up to the IdP's answer at the ACS; the browser has not followed the ACS's redirect yet. */
async function upToTheAcs(
  username: string,
): Promise<{ journey: JourneyResult; state: string; verifier: string; nonce: string }> {
  const request = await authorizationRequest(fx.rp);
  // stop at the first URL under /auth/ (the resume): the authorization request itself is /auth?...
  const journey = await loginJourney(request.url, { username, redirectUri: `${fx.url}/auth/` });
  return { journey, state: request.state, verifier: request.verifier, nonce: request.nonce };
}

async function trailOf(loginId: string): Promise<string[]> {
  const { rows } = await fx.gateway.services.pool.query(
    'select from_state, to_state, error_code from audit_log where session_id = $1 order by id',
    [loginId],
  );
  return rows.map((r) => `${r.from_state ?? '∅'}→${r.to_state}${r.error_code ? `:${r.error_code}` : ''}`);
}

test.serial('the ACS sends the browser to the resume, which completes the login and issues the code', async (t) => {
  const { journey, state, verifier, nonce } = await upToTheAcs('marie');
  const loginId = journey.loginId!;
  t.is(journey.url.pathname, `/auth/${loginId}`, 'the ACS redirects to the resume');
  const resumed = await journey.browser.request(journey.url);
  t.is(resumed.status, 303);
  const atRp = new URL(resumed.headers.get('location')!);
  t.true(atRp.toString().startsWith(RP_REDIRECT), `on to the RP: ${atRp}`);
  t.is(atRp.searchParams.get('state'), state);
  t.truthy(atRp.searchParams.get('code'));
  t.true(
    resumed.headers.getSetCookie().some((c) => c.startsWith('_session=')),
    "the resume's response carries oidc-provider's session cookie",
  );
  // six gateway requests: /auth, the chooser, its answer, the ACS, the resume (and /token below)
  const gateway = journey.browser.trail.filter(
    (line) => line.startsWith(`GET ${fx.url}`) || line.startsWith(`POST ${fx.url}`),
  );
  t.deepEqual(
    gateway.map((line) => line.replace(fx.url, '').replace(loginId, ':uid')),
    ['GET /auth', 'GET /interaction/:uid', 'POST /interaction/:uid/idp', 'POST /saml/acs', 'GET /auth/:uid'],
  );
  t.deepEqual(await trailOf(loginId), [
    '∅→INITIATED',
    'INITIATED→AUTHENTICATING',
    'AUTHENTICATING→FRAUD_CHECK',
    'FRAUD_CHECK→TOKEN_GENERATION',
    'TOKEN_GENERATION→COMPLETED',
  ]);
  const tokens = await oidc.authorizationCodeGrant(fx.rp, atRp, {
    pkceCodeVerifier: verifier,
    expectedState: state,
    expectedNonce: nonce,
    idTokenExpected: true,
  });
  t.truthy(tokens.id_token);
});

test.serial('another browser with the uid but not the resume cookie gets a refusal and nothing', async (t) => {
  const { journey, state } = await upToTheAcs('marie');
  const loginId = journey.loginId!;
  const resume = journey.url;
  const before = await trailOf(loginId);
  t.deepEqual(before.at(-1), 'AUTHENTICATING→FRAUD_CHECK');

  // no cookie at all
  const attacker = new Browser();
  const bare = await attacker.request(resume);
  t.is(bare.status, 400);
  t.regex(await bare.text(), /Error code: <code>invalid_request<\/code>/);
  t.is(bare.headers.get('location'), null, 'not sent anywhere, least of all to the RP');
  // a resume cookie with the victim's uid as its value but no valid signature
  const forged = await attacker.request(resume, {
    headers: { cookie: `_interaction_resume=${loginId}; _interaction_resume.sig=AAAAAAAAAAAAAAAAAAAAAAAAAAA` },
  });
  t.is(forged.status, 400);
  t.regex(await forged.text(), /Error code: <code>invalid_request<\/code>/);

  // nothing was completed, decided or consumed: the login is where the ACS left it
  t.deepEqual(await trailOf(loginId), before);
  t.is((await fx.gateway.services.flow.get(loginId))?.state, 'FRAUD_CHECK');

  // the victim's own browser still finishes its login
  const resumed = await journey.browser.request(resume);
  t.is(resumed.status, 303);
  const atRp = new URL(resumed.headers.get('location')!);
  t.is(atRp.searchParams.get('state'), state);
  t.truthy(atRp.searchParams.get('code'));
  t.is((await trailOf(loginId)).at(-1), 'TOKEN_GENERATION→COMPLETED');
});

test.serial('the old hop, GET /interaction/:uid/complete, still finishes a login', async (t) => {
  const { journey, state } = await upToTheAcs('marie');
  const loginId = journey.loginId!;
  const complete = await journey.browser.request(new URL(`/interaction/${loginId}/complete`, fx.url));
  t.is(complete.status, 303);
  const resume = new URL(complete.headers.get('location')!, fx.url);
  t.is(resume.pathname, `/auth/${loginId}`);
  t.is((await trailOf(loginId)).at(-1), 'TOKEN_GENERATION→COMPLETED', 'completed at /complete');
  const resumed = await journey.browser.request(resume);
  t.is(resumed.status, 303);
  const atRp = new URL(resumed.headers.get('location')!);
  t.is(atRp.searchParams.get('state'), state);
  t.truthy(atRp.searchParams.get('code'));
  t.is((await trailOf(loginId)).length, 5, 'nothing acted on twice');
});

test.serial(
  "an SSO login's resume with the resume cookie but another browser's session is refused before any completion",
  async (t) => {
    const first = await authorizationRequest(fx.rp);
    const { browser } = await loginJourney(first.url, { username: 'marie', redirectUri: RP_REDIRECT });
    // the same browser, another authorization: a login of its own on the session, decided at the interaction page
    const second = await authorizationRequest(fx.rp);
    const atResume = await browser.follow(second.url, {}, (u) => u.pathname.startsWith('/auth/'));
    await atResume.response.body?.cancel();
    const resume = atResume.url;
    const loginId = resume.pathname.split('/')[2]!;
    const before = await trailOf(loginId);
    t.is(before.at(-1), 'INITIATED→FRAUD_CHECK', 'decided, not yet acted on');
    // another browser holding the resume cookie (and its signature), not the session cookie
    const stolen = browser
      .cookieHeader(resume)
      .split('; ')
      .filter((c) => c.startsWith('_interaction_resume'))
      .join('; ');
    t.regex(stolen, /^_interaction_resume=/);
    const other = await new Browser().request(resume, { headers: { cookie: stolen } });
    t.is(other.status, 400);
    t.regex(await other.text(), /Error code: <code>invalid_request<\/code>/);
    t.deepEqual(await trailOf(loginId), before, 'nothing acted on');
    // the session's own browser finishes it
    const resumed = await browser.request(resume);
    t.is(resumed.status, 303);
    const atRp = new URL(resumed.headers.get('location')!);
    t.is(atRp.searchParams.get('state'), second.state);
    t.truthy(atRp.searchParams.get('code'));
    t.is((await trailOf(loginId)).at(-1), 'TOKEN_GENERATION→COMPLETED');
  },
);

test.serial('a completion whose COMPLETED cannot be audited issues no code, not even on a reload', async (t) => {
  const { journey, state } = await upToTheAcs('marie');
  const loginId = journey.loginId!;
  const proto = LoginFlow.prototype as unknown as { transition: (...args: unknown[]) => Promise<unknown> };
  const original = proto.transition;
  let refuseOnce = true;
  proto.transition = async function (this: unknown, ...args: unknown[]) {
    if (args[1] === 'COMPLETED' && refuseOnce) {
      refuseOnce = false;
      throw new GatewayError('LOGIN_STATE_INVALID', 400, 'COMPLETED refused (test)');
    }
    return original.apply(this, args);
  };
  try {
    const first = await journey.browser.request(journey.url);
    await first.body?.cancel();
    t.is(first.status, 400, 'the error page');
    const reload = await journey.browser.request(journey.url);
    t.is(reload.status, 303);
    const atRp = new URL(reload.headers.get('location')!);
    t.true(atRp.toString().startsWith(RP_REDIRECT), `on to the RP: ${atRp}`);
    t.is(atRp.searchParams.get('code'), null, 'no code for a login whose completion is not audited');
    t.is(atRp.searchParams.get('error'), 'server_error');
    t.is(atRp.searchParams.get('state'), state);
    t.false((await trailOf(loginId)).includes('TOKEN_GENERATION→COMPLETED'));
  } finally {
    proto.transition = original;
  }
});

test.serial(
  'a bound resume with nothing to act on goes to the completion page instead of ending the interaction',
  async (t) => {
    const { journey } = await upToTheAcs('marie');
    const loginId = journey.loginId!;
    // what a reload meets while the first request is still at work: the outcome already taken, no result yet
    t.truthy(await fx.gateway.services.logins.takeOutcome(loginId));
    const early = await journey.browser.request(journey.url);
    t.is(early.status, 303);
    t.is(new URL(early.headers.get('location')!, fx.url).pathname, `/interaction/${loginId}/complete`);
    t.truthy(await fx.gateway.services.holder.provider.Interaction.find(loginId), 'the interaction still stands');
  },
);

test.serial(
  'a HEAD of the resume neither completes nor consumes the login: the GET after it issues the code',
  async (t) => {
    const { journey, state } = await upToTheAcs('marie');
    const loginId = journey.loginId!;
    const head = await journey.browser.request(journey.url, { method: 'HEAD' });
    await head.body?.cancel();
    t.is(head.status, 405, 'HEAD is no way to resume');
    t.is(head.headers.get('allow'), 'GET');
    const resumed = await journey.browser.request(journey.url);
    t.is(resumed.status, 303);
    const atRp = new URL(resumed.headers.get('location')!);
    t.is(atRp.searchParams.get('state'), state);
    t.truthy(atRp.searchParams.get('code'), 'the login was left for the GET');
    t.is((await trailOf(loginId)).at(-1), 'TOKEN_GENERATION→COMPLETED');
  },
);

test.serial('two resumes of one login at once: one code, acted on once; the other never carries a code', async (t) => {
  const { journey, state, verifier, nonce } = await upToTheAcs('marie');
  const loginId = journey.loginId!;
  const answers = await Promise.all([journey.browser.request(journey.url), journey.browser.request(journey.url)]);
  const locations = answers.map((a) => new URL(a.headers.get('location') ?? '/no-location', fx.url));
  await Promise.all(answers.map((a) => a.body?.cancel()));
  const withCode = locations.filter((l) => l.searchParams.get('code') !== null);
  t.is(withCode.length, 1, `one code: ${locations.join(' | ')}`);
  const other = locations.find((l) => l.searchParams.get('code') === null)!;
  // the loser: sent to the completion page (it found nothing to act on), or told by oidc-provider (the
  // interaction already resumed) — never a second code
  t.true(
    other.pathname === `/interaction/${loginId}/complete` || other.toString().startsWith(RP_REDIRECT),
    `the other answer: ${other}`,
  );
  const trail = await trailOf(loginId);
  t.is(trail.filter((s) => s === 'FRAUD_CHECK→TOKEN_GENERATION').length, 1, trail.join(' '));
  t.is(trail.filter((s) => s === 'TOKEN_GENERATION→COMPLETED').length, 1, trail.join(' '));
  t.is(withCode[0]!.searchParams.get('state'), state);
  const tokens = await oidc.authorizationCodeGrant(fx.rp, withCode[0]!, {
    pkceCodeVerifier: verifier,
    expectedState: state,
    expectedNonce: nonce,
    idTokenExpected: true,
  });
  t.truthy(tokens.id_token, 'the one code is good');
});

test.serial(
  "a resume after another tab's login put another person in the browser's session issues no code",
  async (t) => {
    const browser = new Browser();
    // tab 1: alex's login, up to the IdP's answer (the browser has a session of no one yet)
    const first = await authorizationRequest(fx.rp);
    const tab1 = await loginJourney(first.url, { username: 'alex', redirectUri: `${fx.url}/auth/`, browser });
    const loginId = tab1.loginId!;
    t.is(tab1.url.pathname, `/auth/${loginId}`);
    // tab 2: marie logs in to the end in the same browser
    const second = await authorizationRequest(fx.rp);
    const tab2 = await loginJourney(second.url, { username: 'marie', redirectUri: RP_REDIRECT, browser });
    t.truthy(tab2.url.searchParams.get('code'), "marie's login completes");
    // tab 1 resumes: its login was started for the session's earlier principal
    const resumed = await browser.request(tab1.url);
    const location = resumed.headers.get('location');
    await resumed.body?.cancel();
    t.is(location === null ? null : new URL(location, fx.url).searchParams.get('code'), null, `no code: ${location}`);
    t.false((await trailOf(loginId)).includes('TOKEN_GENERATION→COMPLETED'), "alex's login is not completed");
  },
);
