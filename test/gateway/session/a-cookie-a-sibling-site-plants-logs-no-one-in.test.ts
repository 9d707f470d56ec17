/**
 * A sibling subdomain (`evil.example.gouv.fr` beside `connect.example.gouv.fr`) can set a cookie for the whole
 * domain in a person's browser, but never a `__Host-` one. On an https issuer every cookie the gateway relies on
 * for the person's security is `__Host-` prefixed, so a cookie planted from a sibling is not read:
 *
 * - the session cookie of the attacker's own login, planted in the victim's browser, does not log the victim in
 *   to an RP as the attacker (a login CSRF the RP's `state` cannot see: the victim's own request gets the code);
 * - the binding cookie of the attacker's browser, planted in the victim's, does not bind the victim's login to a
 *   value the attacker holds: the victim's SAML response, stolen, is refused in the attacker's browser
 *   (`SAML_INRESPONSETO_SESSION_MISMATCH`);
 * - the resume cookie of the attacker's own login (path-scoped, so never `__Host-`), planted in the victim's
 *   browser, resumes nothing there (`INTERACTION_INVALID` 403): the attacker's session is not left in the
 *   victim's browser, and the attacker's own browser still finishes that login;
 * - nor does the interaction cookie of the attacker's login, planted so, take that login upstream again from the
 *   victim's browser (which would bind it there): `INTERACTION_INVALID` 403, the login's binding unchanged; nor
 *   act on its outcome there (`/interaction/:uid/complete`): 403, the outcome left for the attacker's browser.
 *
 * The gateway listens on plain http on loopback behind its https issuer, as behind a TLS-terminating proxy; the
 * scripted browser sends what it would send to `https://127.0.0.1:<port>` to `http://` of the same address.
 * Real PostgreSQL, Redis, HSM and demo IdP.
 */
import test from 'ava';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as oidc from 'openid-client';
import { prepareDeployment, startGatewayInProcess, type Deployment } from '../../harness/deployment.ts';
import { Browser, formsIn, type Form, type RequestInit2 } from '../../helpers/browser.ts';
import { authorizationRequest, RP_REDIRECT } from '../../helpers/gateway-fixture.ts';
import { loginJourney } from '../../helpers/login-journey.ts';
import { freshDatabase, freshToken, redisPrefix, redisUrl } from '../../helpers/services.ts';

let deployment: Deployment;
let running: Awaited<ReturnType<typeof startGatewayInProcess>>;
let issuer: URL;
let rp: oidc.Configuration;

/** A browser whose https requests to the issuer reach its plain-http listener; it keeps each Set-Cookie line. */
class BehindTls extends Browser {
  readonly setCookies: string[] = [];
  override async request(url: string | URL, init: RequestInit2 = {}): Promise<Response> {
    const target = new URL(url);
    if (target.origin === issuer.origin) target.protocol = 'http:';
    const response = await super.request(target, init);
    if (target.host === issuer.host) this.setCookies.push(...response.headers.getSetCookie());
    return response;
  }
}

test.before(async () => {
  deployment = await prepareDeployment({
    dir: mkdtempSync(join(tmpdir(), 'gw-host-cookies-')),
    pgUrl: await freshDatabase(),
    redisUrl: redisUrl(),
    redisKeyPrefix: redisPrefix(),
    token: freshToken(),
    rpRedirectUri: RP_REDIRECT,
    logLevel: process.env.GW_TEST_LOG_LEVEL ?? 'silent',
  });
  // an https issuer: cookies are Secure by default there
  deployment.rawConfig.issuer = String(deployment.rawConfig.issuer).replace(/^http:/, 'https:');
  running = await startGatewayInProcess(deployment);
  issuer = new URL(String(deployment.rawConfig.issuer));
  rp = new oidc.Configuration(
    { issuer: issuer.href.replace(/\/$/, ''), authorization_endpoint: new URL('/auth', issuer).href },
    deployment.client.client_id,
  );
});
test.after.always(async () => {
  await running?.stop().catch(() => undefined);
  await deployment?.stop();
});

const atRp = (u: URL) => u.toString().startsWith(RP_REDIRECT);

/** The attacker's own login, stopped where the IdP's answer sends the browser: its resume (not requested). */
async function attackersLoginAtItsResume(): Promise<{ attacker: BehindTls; resume: URL }> {
  const attacker = new BehindTls();
  const stopped = await loginJourney((await authorizationRequest(rp)).url, {
    username: 'marie',
    redirectUri: new URL('/auth/', issuer).href,
    browser: attacker,
  });
  return { attacker, resume: stopped.url };
}

/** AuthnRequests the IdP's rate limit admitted so far (its bucket's metric). */
async function idpRequestsAdmitted(): Promise<number> {
  const exposition = await running.gateway.services.metrics.registry.metrics();
  const line =
    /gateway_ratelimit_idp_decisions_total\{idp="demo-idp",direction="request",outcome="admitted",[^}]*\} (\d+)/;
  return Number(line.exec(exposition)?.[1] ?? Number.NaN);
}

async function auditCount(code: string): Promise<number> {
  const { rows } = await running.gateway.services.pool.query<{ n: number }>(
    'select count(*)::int as n from audit_log where error_code = $1',
    [code],
  );
  return rows[0]!.n;
}

test.serial('on an https issuer the cookies set at the root are __Host- ones: Secure, Path=/, no Domain', async (t) => {
  const browser = new BehindTls();
  const done = await loginJourney((await authorizationRequest(rp)).url, {
    username: 'marie',
    redirectUri: RP_REDIRECT,
    browser,
  });
  t.truthy(done.url.searchParams.get('code'), 'the login itself works behind TLS');
  const names = new Set(browser.setCookies.map((line) => line.split('=')[0]!));
  for (const name of ['__Host-gw_bb', '__Host-gw_dev', '__Host-_session', '__Host-_session.sig'])
    t.true(names.has(name), `${name} is set`);
  for (const name of ['gw_bb', 'gw_dev', '_session', '_session.sig']) t.false(names.has(name), `no ${name}`);
  for (const line of browser.setCookies.filter((l) => l.startsWith('__Host-'))) {
    const attributes = line
      .toLowerCase()
      .split(';')
      .map((a) => a.trim());
    t.true(attributes.includes('secure'), line);
    t.true(attributes.includes('path=/'), line);
    t.false(
      attributes.some((a) => a.startsWith('domain=')),
      line,
    );
  }
});

test.serial("the attacker's session cookie planted from a sibling site logs the victim in as no one", async (t) => {
  const attacker = new BehindTls();
  const own = await loginJourney((await authorizationRequest(rp)).url, {
    username: 'marie',
    redirectUri: RP_REDIRECT,
    browser: attacker,
  });
  t.truthy(own.url.searchParams.get('code'));
  // the session logs its own browser in again without a page (SSO); that login gives the session a new id
  const again = await attacker.follow((await authorizationRequest(rp)).url, {}, atRp);
  t.truthy(again.url.searchParams.get('code'), "the session is live in the attacker's browser");
  const sessionName = attacker.setCookies.some((l) => l.startsWith('__Host-_session='))
    ? '__Host-_session'
    : '_session';
  const session = attacker.cookie(issuer, sessionName);
  const signature = attacker.cookie(issuer, `${sessionName}.sig`);
  t.truthy(session && signature, 'the attacker holds a session');

  const victim = new BehindTls();
  victim.plant(issuer, sessionName.replace(/^__Host-/, ''), session!);
  victim.plant(issuer, `${sessionName.replace(/^__Host-/, '')}.sig`, signature!);
  const landing = await victim.follow((await authorizationRequest(rp)).url, {}, atRp);
  t.false(atRp(landing.url), `the victim's request got no answer at the RP: ${landing.url.href}`);
  t.regex(
    landing.url.pathname,
    /^\/interaction\//,
    "the victim is asked to log in: the chooser, not the attacker's session",
  );
  await landing.response.body?.cancel();
});

test.serial(
  "the attacker's binding cookie planted from a sibling site binds none of the victim's logins",
  async (t) => {
    const attacker = new BehindTls();
    // the chooser's answer starts the login upstream: the binding cookie is set then
    await loginJourney((await authorizationRequest(rp)).url, {
      username: 'jean',
      redirectUri: RP_REDIRECT,
      browser: attacker,
      beforeAcs: (form) => ({ ...form, fields: { ...form.fields, SAMLResponse: 'AA==' } }),
    });
    const bindingName = attacker.setCookies.some((l) => l.startsWith('__Host-gw_bb=')) ? '__Host-gw_bb' : 'gw_bb';
    const value = attacker.cookie(issuer, bindingName);
    t.truthy(value, 'the attacker holds a binding value');

    const victim = new BehindTls();
    victim.plant(issuer, 'gw_bb', value!);
    let stolen: Form | undefined;
    await loginJourney((await authorizationRequest(rp)).url, {
      username: 'marie',
      redirectUri: RP_REDIRECT,
      browser: victim,
      beforeAcs: (form) => {
        stolen = form;
        return { ...form, fields: { ...form.fields, SAMLResponse: 'AA==' } }; // the victim's own post is spoiled
      },
    });
    const before = await auditCount('SAML_INRESPONSETO_SESSION_MISMATCH');
    const result = await attacker.submit(stolen!, issuer, {}, atRp);
    t.is(result.url.searchParams.get('code'), null);
    t.is(
      await auditCount('SAML_INRESPONSETO_SESSION_MISMATCH'),
      before + 1,
      "the victim's response is refused in the attacker's browser",
    );
    await result.response.body?.cancel();
  },
);

test.serial("the resume cookie of the attacker's login planted from a sibling site resumes nothing", async (t) => {
  const { attacker, resume } = await attackersLoginAtItsResume();
  t.true(resume.pathname.startsWith('/auth/'), `stopped at the resume: ${resume.href}`);
  const cookie = attacker.cookie(resume, '_interaction_resume');
  const signature = attacker.cookie(resume, '_interaction_resume.sig');
  t.truthy(cookie && signature, 'the attacker holds the resume cookie');

  const victim = new BehindTls();
  victim.plant(issuer, '_interaction_resume', cookie!, resume.pathname);
  victim.plant(issuer, '_interaction_resume.sig', signature!, resume.pathname);
  const before = await auditCount('INTERACTION_INVALID');
  const landing = await victim.follow(resume, {}, atRp);
  t.is(landing.response.status, 403);
  t.false(atRp(landing.url), 'no redirect to the RP');
  await landing.response.body?.cancel();
  t.is(await auditCount('INTERACTION_INVALID'), before + 1, 'the refusal is audited');
  t.false(
    victim.setCookies.some((line) => /^(__Host-)?_session=/.test(line)),
    "no session is set in the victim's browser",
  );

  const own = await attacker.follow(resume, {}, atRp);
  t.truthy(own.url.searchParams.get('code'), "the attacker's own browser still finishes the login");
});

test.serial(
  "the interaction cookie of the attacker's login planted from a sibling site starts nothing upstream",
  async (t) => {
    const attacker = new BehindTls();
    const chooser = await attacker.follow((await authorizationRequest(rp)).url, {}, atRp);
    const form = formsIn(await chooser.response.text()).find((f) => f.action.endsWith('/idp'))!;
    const started = await attacker.submit(form, chooser.url, { idp: 'demo-idp' }, atRp);
    t.is(started.response.status, 200, 'the AuthnRequest page: the login went upstream');
    await started.response.body?.cancel();
    const uid = chooser.url.pathname.split('/')[2]!;
    const bound = (await running.gateway.services.logins.reload(uid))?.browserBinding;
    t.truthy(bound);

    const here = new URL(`/interaction/${uid}/idp`, issuer);
    const victim = new BehindTls();
    for (const name of ['_interaction', '_interaction.sig'])
      victim.plant(issuer, name, attacker.cookie(here, name)!, `/interaction/${uid}`);
    const admittedBefore = await idpRequestsAdmitted();
    t.true(Number.isFinite(admittedBefore), 'the metric is read');
    const again = await victim.submit(form, chooser.url, { idp: 'demo-idp' }, atRp);
    t.is(again.response.status, 403);
    t.regex(await again.response.text(), /INTERACTION_INVALID/);
    t.is(await idpRequestsAdmitted(), admittedBefore, "the refused browser took nothing of the IdP's rate");
    t.is((await running.gateway.services.logins.reload(uid))?.browserBinding, bound, 'the login is bound as it was');
    t.false(
      victim.setCookies.some((line) => line.startsWith('__Host-gw_bb=')),
      'no binding cookie was set in the victim’s browser',
    );
    t.false(
      victim.setCookies.some((line) => line.startsWith('__Host-gw_last_idp=')),
      'nor the IdP the refused request named remembered there',
    );
  },
);

test.serial(
  "the interaction cookie of the attacker's login planted from a sibling site completes nothing",
  async (t) => {
    const { attacker, resume } = await attackersLoginAtItsResume();
    const uid = resume.pathname.split('/')[2]!;
    const complete = new URL(`/interaction/${uid}/complete`, issuer);
    const victim = new BehindTls();
    for (const name of ['_interaction', '_interaction.sig'])
      victim.plant(issuer, name, attacker.cookie(complete, name)!, `/interaction/${uid}`);
    const landing = await victim.follow(complete, {}, atRp);
    t.is(landing.response.status, 403);
    t.regex(await landing.response.text(), /INTERACTION_INVALID/);
    const { rows } = await running.gateway.services.pool.query<{ details: { at?: string; cause?: string } }>(
      "select details from audit_log where session_id = $1 and to_state = 'REJECTED' order by id desc limit 1",
      [uid],
    );
    t.like(rows[0]?.details, { at: 'completion', cause: 'no-binding-cookie' });

    const own = await attacker.follow(resume, {}, atRp);
    t.truthy(own.url.searchParams.get('code'), "the outcome was left for the attacker's own browser");
  },
);

test.serial(
  'a language or last IdP planted from a sibling site changes no page; the gateway remembers its own as __Host-',
  async (t) => {
    const planted = new BehindTls();
    planted.plant(issuer, 'gw_lang', 'en');
    planted.plant(issuer, 'gw_last_idp', 'demo-idp');
    const shown = await planted.follow((await authorizationRequest(rp)).url, {}, atRp);
    const page = await shown.response.text();
    t.regex(page, /<html lang="fr">/, 'the planted language is not read: French, the default');
    t.notRegex(page, /class="last"/, 'the planted last IdP is not read');

    const own = new BehindTls();
    const chooser = await own.follow(`${(await authorizationRequest(rp)).url.href}`, {}, atRp);
    const english = await own.follow(new URL(`${chooser.url.pathname}?lang=en`, issuer), {}, atRp);
    const form = formsIn(await english.response.text()).find((f) => f.action.endsWith('/idp'))!;
    const started = await own.submit(form, english.url, { idp: 'demo-idp' }, atRp);
    await started.response.body?.cancel();
    const names = new Set(own.setCookies.map((line) => line.split('=')[0]!));
    t.true(names.has('__Host-gw_lang') && names.has('__Host-gw_last_idp'), [...names].join(' '));
    t.false(names.has('gw_lang') || names.has('gw_last_idp'));
    const next = await own.follow((await authorizationRequest(rp)).url, {}, atRp);
    const remembered = await next.response.text();
    t.regex(remembered, /<html lang="en">/, 'its own language is remembered');
    t.regex(remembered, /class="last"/, 'its own last IdP is remembered');
  },
);

test.serial('a browser restarted while the person is at the IdP still finishes the login behind TLS', async (t) => {
  const browser = new BehindTls();
  const done = await loginJourney((await authorizationRequest(rp)).url, {
    username: 'marie',
    redirectUri: RP_REDIRECT,
    browser,
    beforeAcs: (form) => {
      browser.restart(); // its session cookies are gone; its __Host-gw_bb, persistent, is not
      return form;
    },
  });
  t.truthy(done.url.searchParams.get('code'), `${done.url.href} ${done.html.slice(0, 200)}`);
});
