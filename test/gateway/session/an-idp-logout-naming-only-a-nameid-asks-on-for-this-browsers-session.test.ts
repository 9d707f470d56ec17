/**
 * An IdP's LogoutRequest that names only a NameID (no SessionIndex: every session of that person at the IdP, SAML
 * Core §3.7.3.2) ends the person's gateway sessions in every browser. The browser that carries it is sent on to the
 * other IdPs of the session it made itself (its login recorded its browser binding), then back to the IdP that began;
 * the sessions of other browsers are not asked on from it, audited as such (`UPSTREAM_LOGOUT_SKIPPED`,
 * `UPSTREAM_LOGOUT_OTHER_BROWSER`, `notAskedOn`, and `cause` when no session is asked on). Before, a request that ended several sessions asked no other IdP
 * at all: jean's session at the second IdP stayed open. Real gateway, Redis, PostgreSQL, SoftHSM2; the IdPs are
 * independent samlify implementations that verify what they receive.
 */
import { createPrivateKey } from 'node:crypto';
import { dirname, join } from 'node:path';
import test from 'ava';
import { ensureDevPki } from '../../../certs/dev-pki.ts';
import type { DemoIdp } from '../../../conformance/saml-idp/index.ts';
import { Browser, formsIn, type Form } from '../../helpers/browser.ts';
import { authorizationRequest, RP_REDIRECT } from '../../helpers/gateway-fixture.ts';
import { loginJourney } from '../../helpers/login-journey.ts';
import { logoutRequestXml, samlId, signedBy } from '../../helpers/saml/logout-messages.ts';
import { audited, logInAt, startIdpsBed } from './idps-bed.ts';
import { userinfo, type LoggedIn, type SessionBed } from './session-bed.ts';

let bed: SessionBed;
let second: DemoIdp;
const running: Array<() => Promise<void>> = [];

test.afterEach.always(async () => {
  for (const stop of running.splice(0).reverse()) await stop();
});

/**
 * jean in two browsers: `steppedUp` logged in at the demo IdP then at the second IdP on the same session; `plain` at
 * the demo IdP only.
 */
async function twoBrowsers(): Promise<{ steppedUp: LoggedIn; plain: LoggedIn }> {
  const started = await startIdpsBed(1);
  running.push(() => started.stop());
  bed = started.bed;
  second = started.idps[0]!;
  const first = await logInAt(bed, 'demo-idp');
  const steppedUp = await logInAt(bed, 'second-idp', first.browser);
  const plain = await logInAt(bed, 'demo-idp');
  return { steppedUp, plain };
}

/** The demo IdP's signed LogoutRequest for every session of jean's NameID there (no SessionIndex). */
function everySessionOfJean(): { id: string; fields: Record<string, string> } {
  const upstream = bed.deployment.idp.sessions().at(-1)!;
  const pki = ensureDevPki(join(dirname(bed.deployment.configFile), 'pki'));
  const now = Date.now();
  const fields = {
    id: samlId(),
    issuer: bed.deployment.idp.entityId,
    destination: `${bed.url}/saml/slo`,
    issueInstant: new Date(now).toISOString(),
    notOnOrAfter: new Date(now + 120_000).toISOString(),
    nameId: upstream.nameId,
    format: upstream.nameIdFormat,
    sessionIndexes: [],
  };
  const xml = signedBy(logoutRequestXml(fields), fields.id, {
    privateKey: createPrivateKey(pki.idpKeyPem),
    certificatePem: pki.idpCertPem,
  });
  return {
    id: fields.id,
    fields: { SAMLRequest: Buffer.from(xml).toString('base64'), RelayState: 'relay-of-the-idp' },
  };
}

/** The request posted by `browser` to our SLO endpoint, then each form it is given posted on: the forms' actions. */
async function carry(browser: Browser, fields: Record<string, string>): Promise<string[]> {
  const visited: string[] = [];
  let form: Form | undefined = { action: `${bed.url}/saml/slo`, method: 'POST', fields };
  let base = new URL(bed.url);
  const demoSlo = `${bed.deployment.idp.url}/slo`;
  for (let i = 0; i < 8 && form !== undefined; i++) {
    const action = new URL(form.action, base).href;
    visited.push(action);
    const step = await browser.submit(form, base);
    if (action === demoSlo && form.fields.SAMLResponse !== undefined) break;
    base = step.url;
    form =
      step.response.status === 200 ? formsIn(await step.response.text()).find((f) => f.method === 'POST') : undefined;
  }
  return visited;
}

const secondIdpSessions = () => second.sessions().length;

test.serial(
  "a NameID-only logout carried by the stepped-up session's browser asks its other IdP, then is answered",
  async (t) => {
    const { steppedUp, plain } = await twoBrowsers();
    t.is(secondIdpSessions(), 1);
    const request = everySessionOfJean();
    const visited = await carry(steppedUp.browser, request.fields);
    t.deepEqual(visited, [
      `${bed.url}/saml/slo`,
      `${second.url}/slo`,
      `${bed.url}/saml/slo`,
      `${bed.deployment.idp.url}/slo`,
    ]);
    t.is(secondIdpSessions(), 0, 'the second IdP verified our LogoutRequest and ended its session');
    t.like(bed.deployment.idp.logoutResponses().at(-1), { inResponseTo: request.id });
    t.is((await userinfo(bed.url, steppedUp.accessToken)).status, 401);
    t.is((await userinfo(bed.url, plain.accessToken)).status, 401, "the other browser's session is ended too");
    t.like((await audited(bed, 'UPSTREAM_LOGOUT_ANSWERED'))[0], { idp: 'demo-idp', sessions: 2 });
    t.deepEqual(
      (await audited(bed, 'UPSTREAM_LOGOUT_SENT')).map((d) => d.idp),
      ['second-idp'],
    );
    const skipped = await audited(bed, 'UPSTREAM_LOGOUT_SKIPPED');
    t.is(skipped.length, 1);
    t.like(skipped[0], { idp: 'demo-idp', notAskedOn: 1 }, "the other browser's session accounted for");
    t.false('cause' in skipped[0]!, 'one was asked on');
  },
);

/** A browser with a binding cookie that made neither of jean's sessions: marie's. */
async function mariesBrowser(): Promise<Browser> {
  const request = await authorizationRequest(bed.rp);
  return (await loginJourney(request.url, { username: 'marie', redirectUri: RP_REDIRECT })).browser;
}

const CARRIERS = {
  'the other browser': { notAskedOn: 1 },
  "a browser with a binding cookie that made neither session (marie's)": { notAskedOn: 2, cause: 'made-elsewhere' },
  'a browser without a binding cookie': { notAskedOn: 2, cause: 'no-binding-cookie' },
} as const;

for (const [carrier, expected] of Object.entries(CARRIERS))
  test.serial(`carried by ${carrier}, it asks no IdP of the stepped-up session and is answered at once`, async (t) => {
    const { steppedUp, plain } = await twoBrowsers();
    const request = everySessionOfJean(); // jean's NameID: before marie logs in
    const browser =
      carrier === 'the other browser'
        ? plain.browser
        : carrier.startsWith('a browser with a binding')
          ? await mariesBrowser()
          : new Browser();
    const visited = await carry(browser, request.fields);
    t.deepEqual(visited, [`${bed.url}/saml/slo`, `${bed.deployment.idp.url}/slo`], 'straight back to the demo IdP');
    t.is((await userinfo(bed.url, steppedUp.accessToken)).status, 401, 'both sessions are ended');
    t.is((await userinfo(bed.url, plain.accessToken)).status, 401);
    t.is(secondIdpSessions(), 1, "the stepped-up session's other IdP cannot be asked from here");
    t.deepEqual(await audited(bed, 'UPSTREAM_LOGOUT_SENT'), []);
    const skipped = await audited(bed, 'UPSTREAM_LOGOUT_SKIPPED');
    t.is(skipped.length, 1);
    t.like(skipped[0], { idp: 'demo-idp', ...expected });
    if (!('cause' in expected))
      t.false('cause' in skipped[0]!, 'its own session was asked on (it stood on no other IdP)');
  });
