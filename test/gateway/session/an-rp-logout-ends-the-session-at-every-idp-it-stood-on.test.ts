/**
 * A session that stood on logins at two IdPs (jean logs in at the demo IdP, then the RP asks a new login on the same
 * session, `prompt=login`, and jean takes it at a second samlify IdP: a step-up at another IdP) is ended at both
 * by the RP-initiated logout: the browser carries our signed LogoutRequest to the latest login's IdP, brings its
 * LogoutResponse back, then goes to the first IdP the same way, and ends at the RP. Both IdPs (independent
 * samlify implementations) verify our request and end their session; each leg is audited.
 *
 * Before the chain, only the latest IdP was asked: the first IdP's session stayed open after the person logged out.
 *
 * Only a verified answer to the very leg, in the browser that logged out, goes on to the next IdP: an answer
 * carried to another browser asks nobody more from there (`UPSTREAM_LOGOUT_OTHER_BROWSER`), and a forged answer
 * carrying the leg's relay value neither goes on nor uses up the chain for the person's real answer.
 */
import test from 'ava';
import { decodeJwt } from 'jose';
import type { DemoIdp } from '../../../conformance/saml-idp/index.ts';
import { authorizationRequest, RP_REDIRECT } from '../../helpers/gateway-fixture.ts';
import { Browser, formsIn, type Form } from '../../helpers/browser.ts';
import { audited as auditedDetails, logInAt as logInAtIdp, startIdpsBed } from './idps-bed.ts';
import { logOutAtTheRp, redeem, type LoggedIn, type SessionBed } from './session-bed.ts';

let bed: SessionBed;
let second: DemoIdp;
const running: Array<() => Promise<void>> = [];

/** The session bed with a second samlify IdP beside the demo IdP (registered without its logout service: `withoutSlo`). */
async function startTwoIdps(options: { withoutSlo?: boolean } = {}): Promise<void> {
  const started = await startIdpsBed(1, options);
  [bed, second] = [started.bed, started.idps[0]!];
  running.push(() => started.stop());
}

test.afterEach.always(async () => {
  for (const stop of running.splice(0).reverse()) await stop();
});

/**
 * The bed with its two IdPs, and jean's session stepped up on it: a login at the demo IdP (`first`; its upstream
 * session `atFirst`), then one at the second IdP on the same session (`stepped`).
 */
async function steppedUp(options: { withoutSlo?: boolean } = {}) {
  await startTwoIdps(options);
  const first = await logInAt('demo-idp');
  const atFirst = bed.deployment.idp.sessions().at(-1)!;
  const stepped = await logInAt('second-idp', first.browser);
  return { first, atFirst, stepped };
}

const logInAt = (idp: string, browser?: Browser, extra?: Record<string, string>) =>
  logInAtIdp(bed, idp, browser, extra);
const audited = (to: string) => auditedDetails(bed, to);

test.serial('an RP logout ends the session at the IdP of each login it stood on, the latest first', async (t) => {
  const { first, atFirst, stepped } = await steppedUp();
  const atSecond = second.sessions().at(-1)!;
  t.is(stepped.sid, first.sid, 'the second login went into the same session');

  const { atPlru, visited } = await logOutAtTheRp(bed, stepped);
  t.true(atPlru, 'the browser ends at the RP');
  const toSecond = visited.indexOf(`${second.url}/slo`);
  const toFirst = visited.indexOf(`${bed.deployment.idp.url}/slo`);
  t.true(toSecond !== -1 && toFirst !== -1, `the browser took our LogoutRequest to both IdPs: ${visited.join(' ')}`);
  t.true(toSecond < toFirst, 'the latest login’s IdP first');
  t.is(visited.filter((u) => u === `${bed.url}/saml/slo`).length, 2, 'and each LogoutResponse back to us');
  t.false(
    second.sessions().some((s) => s.sessionIndex === atSecond.sessionIndex),
    'the second IdP verified our LogoutRequest and ended its session',
  );
  t.false(
    bed.deployment.idp.sessions().some((s) => s.sessionIndex === atFirst.sessionIndex),
    'so did the first IdP',
  );
  t.deepEqual(
    (await audited('UPSTREAM_LOGOUT_SENT')).map((d) => d.idp),
    ['second-idp', 'demo-idp'],
  );
  t.deepEqual(
    (await audited('UPSTREAM_LOGOUT_COMPLETED')).map((d) => d.idp),
    ['second-idp', 'demo-idp'],
  );
  t.deepEqual(await audited('UPSTREAM_LOGOUT_SKIPPED'), []);
});

test.serial('a browser with no binding cookie at its logout gets one there, and goes on to every IdP', async (t) => {
  const { atFirst, stepped } = await steppedUp();
  stepped.browser.forget('gw_bb', 'gw_bb.sig');
  t.notRegex(stepped.browser.cookieHeader(new URL(bed.url)), /gw_bb/);

  const { atPlru, visited } = await logOutAtTheRp(bed, stepped);
  t.true(atPlru, 'the browser ends at the RP');
  t.true(visited.includes(`${bed.deployment.idp.url}/slo`), `the first IdP was asked too: ${visited.join(' ')}`);
  t.false(bed.deployment.idp.sessions().some((s) => s.sessionIndex === atFirst.sessionIndex));
  t.regex(stepped.browser.cookieHeader(new URL(bed.url)), /gw_bb=/, 'the logout made the binding cookie');
  t.deepEqual(await audited('UPSTREAM_LOGOUT_SKIPPED'), []);
});

test.serial('an IdP of the session that takes no part in logout is skipped, and the next one is asked', async (t) => {
  const { first, atFirst, stepped } = await steppedUp({ withoutSlo: true });
  t.is(stepped.sid, first.sid);

  const { atPlru, visited } = await logOutAtTheRp(bed, stepped);
  t.true(atPlru, 'the browser ends at the RP');
  t.true(visited.includes(`${bed.deployment.idp.url}/slo`), `the first IdP was asked: ${visited.join(' ')}`);
  t.false(visited.includes(`${second.url}/slo`));
  t.false(bed.deployment.idp.sessions().some((s) => s.sessionIndex === atFirst.sessionIndex));
  const skipped = await bed.gateway.services.pool.query<{ error_code: string; idp: string }>(
    "select error_code, details->>'idp' as idp from audit_log where to_state = 'UPSTREAM_LOGOUT_SKIPPED'",
  );
  t.deepEqual(skipped.rows, [{ error_code: 'SAML_LOGOUT_UNSUPPORTED', idp: 'second-idp' }]);
  t.deepEqual(
    (await audited('UPSTREAM_LOGOUT_COMPLETED')).map((d) => d.idp),
    ['demo-idp'],
  );
});

/**
 * The RP-initiated logout as far as the latest IdP's answer: the form, as the IdP gives it to the browser, that
 * posts its LogoutResponse back to us (not yet posted).
 */
async function logOutUntilTheFirstAnswer(session: LoggedIn): Promise<{ form: Form; url: URL }> {
  const plru = new URL('/', bed.deployment.client.redirect_uri).toString();
  const endpoint = new URL(String(bed.rp.serverMetadata().end_session_endpoint));
  endpoint.searchParams.set('id_token_hint', session.idToken);
  endpoint.searchParams.set('post_logout_redirect_uri', plru);
  let step = await session.browser.follow(endpoint);
  for (let i = 0; i < 4; i++) {
    const form = formsIn(await step.response.text()).find((f) => f.method === 'POST');
    if (form === undefined) throw new Error(`no form at ${step.url}`);
    if (new URL(form.action, step.url).href === `${bed.url}/saml/slo`) return { form, url: step.url };
    step = await session.browser.submit(form, step.url, form.action.includes('session/end') ? { logout: 'yes' } : {});
  }
  throw new Error('the IdP never answered');
}

test.serial('the page that carries the next IdP’s LogoutRequest (the person’s NameID) is never cached', async (t) => {
  const { stepped } = await steppedUp();
  const { form, url } = await logOutUntilTheFirstAnswer(stepped);
  // the latest IdP's answer, posted back to us: the page that posts our LogoutRequest on to the first IdP
  const onward = await stepped.browser.submit(form, url);
  t.is(onward.response.status, 200);
  const next = formsIn(await onward.response.text()).find((f) => f.method === 'POST');
  t.true(next?.action.startsWith(bed.deployment.idp.url), `posts on to the first IdP: ${next?.action}`);
  t.truthy(next?.fields.SAMLRequest, 'carrying our LogoutRequest');
  t.is(onward.response.headers.get('cache-control'), 'no-store');
});

test.serial('an IdP’s answer carried to another browser asks no further IdP from there', async (t) => {
  const { atFirst, stepped } = await steppedUp();
  const { form, url } = await logOutUntilTheFirstAnswer(stepped);

  const plru = new URL('/', bed.deployment.client.redirect_uri).href;
  // a browser with a binding of its own (another login made in it)
  const another = (await logInAt('demo-idp')).browser;
  t.truthy(another.cookieHeader(new URL(bed.url)).match(/gw_bb=/), 'the other browser has its own binding cookie');
  const elsewhere = await another.submit(form, url, {}, (u) => u.href.startsWith(plru));
  t.true(elsewhere.url.href.startsWith(plru), `the other browser ends at the RP: ${elsewhere.url}`);
  t.true(
    bed.deployment.idp.sessions().some((s) => s.sessionIndex === atFirst.sessionIndex),
    'the first IdP was not asked from the other browser',
  );
  t.deepEqual(
    (await audited('UPSTREAM_LOGOUT_COMPLETED')).map((d) => d.idp),
    ['second-idp'],
  );
  const skipped = await bed.gateway.services.pool.query<{ error_code: string; not_asked: string }>(
    "select error_code, details->>'notAsked' as not_asked from audit_log where to_state = 'UPSTREAM_LOGOUT_SKIPPED'",
  );
  t.deepEqual(skipped.rows, [{ error_code: 'UPSTREAM_LOGOUT_OTHER_BROWSER', not_asked: '1' }]);
});

test.serial('a forged answer with the leg’s relay value neither goes on nor uses up the chain', async (t) => {
  const { atFirst, stepped } = await steppedUp();
  const { form, url } = await logOutUntilTheFirstAnswer(stepped);

  // the same answer, its ID changed: its signature no longer verifies
  const xml = Buffer.from(form.fields.SAMLResponse!, 'base64').toString('utf8');
  const forged = Buffer.from(xml.replace(/ ID="_?([0-9a-f])/, ' ID="_f$1'), 'utf8').toString('base64');
  t.not(forged, form.fields.SAMLResponse);
  const plru = new URL('/', bed.deployment.client.redirect_uri).href;
  const refused = await stepped.browser.submit(form, url, { SAMLResponse: forged }, (u) => u.href.startsWith(plru));
  t.false(
    formsIn(await refused.response.text()).some((f) => f.action.startsWith(bed.deployment.idp.url)),
    'the forged answer sends the browser to no further IdP',
  );
  t.is((await audited('UPSTREAM_LOGOUT_SENT')).length, 1);

  // the person's real answer still goes on to the first IdP, and the browser ends at the RP
  let step = await stepped.browser.submit(form, url, {}, (u) => u.href.startsWith(plru));
  for (let i = 0; i < 3 && !step.url.href.startsWith(plru); i++) {
    const next = formsIn(await step.response.text()).find((f) => f.method === 'POST');
    if (next === undefined) break;
    step = await stepped.browser.submit(next, step.url, {}, (u) => u.href.startsWith(plru));
  }
  t.true(step.url.href.startsWith(plru), `ended at ${step.url}`);
  t.false(bed.deployment.idp.sessions().some((s) => s.sessionIndex === atFirst.sessionIndex));
  t.deepEqual(
    (await audited('UPSTREAM_LOGOUT_SENT')).map((d) => d.idp),
    ['second-idp', 'demo-idp'],
  );
  const chains = new Set((await audited('UPSTREAM_LOGOUT_SENT')).map((d) => d.chain));
  t.is(chains.size, 1, 'both legs name one chain');
  t.truthy([...chains][0]);
});

test.serial(
  'a login resumed onto a session another tab logged in meanwhile keeps that tab’s IdP in the logout',
  async (t) => {
    await startTwoIdps();
    const browser = new Browser();
    const plru = new URL('/', bed.deployment.client.redirect_uri).href;
    const atRp = (u: URL) => u.href.startsWith(RP_REDIRECT) || u.href.startsWith(plru);
    // tab 1 opens the chooser on a browser with no session yet
    const tab1 = await authorizationRequest(bed.rp);
    let step = await browser.follow(tab1.url, {}, atRp);
    const chooser = formsIn(await step.response.text()).find((f) => f.action.endsWith('/idp'));
    if (!chooser) return t.fail(`no chooser at ${step.url}`);
    const chooserUrl = step.url;
    // tab 2 logs in at the demo IdP: the session now stands on that login
    const other = await logInAt('demo-idp', browser, {});
    const atDemo = bed.deployment.idp.sessions().at(-1)!;
    // tab 1 goes on, at the second IdP, for the same person
    step = await browser.submit(chooser, chooserUrl, { idp: 'second-idp' }, atRp);
    for (const fields of [{}, { username: 'jean', password: 'jean-demo' }, {}] as Record<string, string>[]) {
      const form = formsIn(await step.response.text())[0];
      if (!form) return t.fail(`no form at ${step.url}`);
      step = await browser.submit(form, step.url, fields, atRp);
    }
    const code = step.url.searchParams.get('code');
    if (!code) return t.fail(`tab 1 got no code: ${step.url}`);
    const tokens = await redeem(bed, code, tab1.verifier);
    t.is(String(decodeJwt(tokens.id_token).sid), other.sid, 'tab 1’s login went into the same session');

    const { atPlru, visited } = await logOutAtTheRp(bed, { ...other, idToken: tokens.id_token });
    t.true(atPlru);
    t.true(visited.includes(`${second.url}/slo`), `the second IdP was asked: ${visited.join(' ')}`);
    t.true(visited.includes(`${bed.deployment.idp.url}/slo`), 'and the IdP of the other tab’s login');
    t.false(bed.deployment.idp.sessions().some((s) => s.sessionIndex === atDemo.sessionIndex));
  },
);

for (const [field, value] of [
  ['logoutId', 'another-request'],
  ['idp', 'demo-idp'],
] as const) {
  test.serial(`a verified answer to another leg than the chain's (${field}) goes no further`, async (t) => {
    const { atFirst, stepped } = await steppedUp();
    const { form, url } = await logOutUntilTheFirstAnswer(stepped);
    // the chain kept under this relay value now follows another leg than the one this answer answers
    const key = `slo:chain:${form.fields.RelayState}`;
    const redis = bed.gateway.services.redis;
    const chain = JSON.parse((await redis.get(key))!) as Record<string, unknown>;
    t.not(chain[field], value);
    await redis.set(key, JSON.stringify({ ...chain, [field]: value }), 'EX', 600);

    const plru = new URL('/', bed.deployment.client.redirect_uri).href;
    const step = await stepped.browser.submit(form, url, {}, (u) => u.href.startsWith(plru));
    t.true(step.url.href.startsWith(plru), `the browser goes back to the RP: ${step.url}`);
    t.true(bed.deployment.idp.sessions().some((s) => s.sessionIndex === atFirst.sessionIndex));
    t.deepEqual(
      (await audited('UPSTREAM_LOGOUT_COMPLETED')).map((d) => d.idp),
      ['second-idp'],
    );
    t.is((await audited('UPSTREAM_LOGOUT_SENT')).length, 1);
  });
}
