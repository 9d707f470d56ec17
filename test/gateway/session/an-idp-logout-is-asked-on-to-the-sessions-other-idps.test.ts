/**
 * An IdP-initiated logout reaches the other IdPs the session stood on (`interaction/idp-logout-onward.ts`): jean's
 * session stood on logins at two or three IdPs (a step-up at another IdP), one of them sends its signed
 * LogoutRequest through jean's browser; the gateway ends its session, sends the browser to each other IdP with its
 * own signed LogoutRequest (the IdP that began it is not asked), and last to the IdP that began it with the signed
 * answer to its request. Each IdP is an independent samlify implementation that verifies what it receives. Before,
 * only the gateway's session ended, and the other IdPs' sessions stayed open.
 *
 * An IdP that takes no part is skipped (audited) and the answer goes at once; an unverified answer of the other IdP
 * still ends with the answer to the IdP that began it (the local logout is done); that IdP's own retry of its
 * request while the browser is away gets its answer. A request whose answer could not be signed at first (the HSM
 * busy: 503) asks the other IdPs when the browser sends it again (`idp-logout-onward-due.ts`).
 */
import test from 'ava';
import type { DemoIdp } from '../../../conformance/saml-idp/index.ts';
import type { Pkcs11Token } from '../../../hsm/pkcs11/token.ts';
import { Browser, formsIn, type Form } from '../../helpers/browser.ts';
import { audited, logInAt, startIdpsBed } from './idps-bed.ts';
import { userinfo, type LoggedIn, type SessionBed } from './session-bed.ts';

let bed: SessionBed;
let idps: DemoIdp[];
const running: Array<() => Promise<void>> = [];

test.afterEach.always(async () => {
  for (const stop of running.splice(0).reverse()) await stop();
});

/**
 * The bed with `count` IdPs beside the demo IdP, and jean's session stood on a login at each: the demo IdP's first
 * (its upstream session `atDemo`), then each other's on the same session (`last`: the latest login).
 */
async function steppedUp(count: number, options: { withoutSlo?: boolean; hsm?: Record<string, unknown> } = {}) {
  const started = await startIdpsBed(count, options);
  running.push(() => started.stop());
  ({ bed, idps } = started);
  let last: LoggedIn = await logInAt(bed, 'demo-idp');
  const atDemo = bed.deployment.idp.sessions().at(-1)!;
  for (const id of ['second-idp', 'third-idp'].slice(0, count)) last = await logInAt(bed, id, last.browser);
  return { atDemo, last };
}

/**
 * The IdP `from` begins: its signed LogoutRequest posted by the browser to our SLO endpoint, then each form the
 * browser is given posted on, until our answer has been posted to `from` (or 8 steps). The forms' actions, in order.
 */
async function idpLogout(
  browser: Browser,
  message: { url: string; fields: Record<string, string> },
  from: string,
  edit: (form: Form) => Form = (form) => form,
) {
  const visited: string[] = [];
  let form: Form | undefined = { action: message.url, method: 'POST', fields: message.fields };
  let base = new URL(message.url);
  for (let i = 0; i < 8 && form !== undefined; i++) {
    const action = new URL(form.action, base).href;
    visited.push(action);
    const step = await browser.submit(edit(form), base);
    if (action === `${from}/slo` && form.fields.SAMLResponse !== undefined) return { visited, answered: step };
    base = step.url;
    form =
      step.response.status === 200 ? formsIn(await step.response.text()).find((f) => f.method === 'POST') : undefined;
  }
  return { visited, answered: undefined };
}

const idsOf = async (to: string) => (await audited(bed, to)).map((d) => d.idp);

for (const begins of ['latest', 'first'] as const)
  test.serial(`the ${begins} login's IdP logs out: the other IdP is asked, then it is answered`, async (t) => {
    const { atDemo, last } = await steppedUp(1);
    const [second] = idps as [DemoIdp];
    const atSecond = second.sessions().at(-1)!;
    const [initiator, other] = begins === 'latest' ? [second, bed.deployment.idp] : [bed.deployment.idp, second];
    const [initiatorId, otherId] = begins === 'latest' ? ['second-idp', 'demo-idp'] : ['demo-idp', 'second-idp'];
    const sessionIndex = begins === 'latest' ? atSecond.sessionIndex : atDemo.sessionIndex;
    const message = await initiator.logoutRequest(sessionIndex, 'relay-of-the-idp');

    const { visited, answered } = await idpLogout(last.browser, message, initiator.url);
    t.deepEqual(
      visited,
      [`${bed.url}/saml/slo`, `${other.url}/slo`, `${bed.url}/saml/slo`, `${initiator.url}/slo`],
      'our LogoutRequest to the other IdP, its answer back to us, then our answer to the IdP that began',
    );
    t.is(answered?.response.status, 200, 'the IdP that began took our answer');
    t.like(initiator.logoutResponses().at(-1), { inResponseTo: message.id });
    const otherIndex = begins === 'latest' ? atDemo.sessionIndex : atSecond.sessionIndex;
    t.false(
      other.sessions().some((s) => s.sessionIndex === otherIndex),
      'the other IdP verified our LogoutRequest and ended its session',
    );
    t.is((await userinfo(bed.url, last.accessToken)).status, 401, "the gateway's session is ended");
    t.deepEqual(await idsOf('UPSTREAM_LOGOUT_ANSWERED'), [initiatorId]);
    t.deepEqual(await idsOf('UPSTREAM_LOGOUT_SENT'), [otherId], 'the IdP that began is not asked');
    t.falsy((await audited(bed, 'UPSTREAM_LOGOUT_SENT'))[0]?.idpsAfter, 'nor counted as one to ask after it');
    t.deepEqual(await idsOf('UPSTREAM_LOGOUT_COMPLETED'), [otherId]);
    t.deepEqual(await idsOf('UPSTREAM_LOGOUT_ANSWER_SENT'), [initiatorId]);
    t.deepEqual(await audited(bed, 'UPSTREAM_LOGOUT_SKIPPED'), []);
  });

for (const begins of ['third-idp', 'second-idp'] as const)
  test.serial(`a session on three IdPs, ${begins} logs out: the two others are asked in turn, then it`, async (t) => {
    const { atDemo, last } = await steppedUp(2);
    const [second, third] = idps as [DemoIdp, DemoIdp];
    const [initiator, other] = begins === 'third-idp' ? [third, second] : [second, third];
    const atOther = other.sessions().at(-1)!;
    const message = await initiator.logoutRequest(initiator.sessions().at(-1)!.sessionIndex);

    const { visited, answered } = await idpLogout(last.browser, message, initiator.url);
    // the latest login's IdP first, then the earlier ones: the IdP that began left out, in the chain too
    t.deepEqual(visited, [
      `${bed.url}/saml/slo`,
      `${other.url}/slo`,
      `${bed.url}/saml/slo`,
      `${bed.deployment.idp.url}/slo`,
      `${bed.url}/saml/slo`,
      `${initiator.url}/slo`,
    ]);
    t.is(answered?.response.status, 200);
    t.like(initiator.logoutResponses().at(-1), { inResponseTo: message.id });
    t.false(other.sessions().some((s) => s.sessionIndex === atOther.sessionIndex));
    t.false(bed.deployment.idp.sessions().some((s) => s.sessionIndex === atDemo.sessionIndex));
    t.deepEqual(await idsOf('UPSTREAM_LOGOUT_SENT'), [begins === 'third-idp' ? 'second-idp' : 'third-idp', 'demo-idp']);
    const sent = await audited(bed, 'UPSTREAM_LOGOUT_SENT');
    t.is(new Set(sent.map((d) => d.chain)).size, 1, 'both legs name one chain');
    t.is(sent[0]?.idpsAfter, 1, 'the IdPs after the first: the IdP that began not counted');
    t.deepEqual(await idsOf('UPSTREAM_LOGOUT_ANSWER_SENT'), [begins]);
  });

test.serial("an IdP's logout whose session's other IdP takes no part is answered at once", async (t) => {
  const { atDemo } = await steppedUp(1, { withoutSlo: true });
  // the demo IdP (with a logout service) begins; the second has none
  const message = await bed.deployment.idp.logoutRequest(atDemo.sessionIndex);
  const answer = await fetch(message.url, { method: 'POST', body: new URLSearchParams(message.fields) });
  t.is(answer.status, 200);
  const form = formsIn(await answer.text()).find((f) => f.method === 'POST');
  t.is(form?.action, `${bed.deployment.idp.url}/slo`, 'straight back to the IdP that began');
  t.truthy(form?.fields.SAMLResponse, 'with our answer, not a request');
  t.deepEqual(await idsOf('UPSTREAM_LOGOUT_SENT'), []);
  t.deepEqual(await idsOf('UPSTREAM_LOGOUT_SKIPPED'), ['second-idp'], 'the second IdP accounted for');
});

test.serial("the other IdP's answer refused: the IdP that began is answered all the same", async (t) => {
  const { last } = await steppedUp(1);
  const [second] = idps as [DemoIdp];
  const message = await second.logoutRequest(second.sessions().at(-1)!.sessionIndex);
  // the demo IdP's LogoutResponse altered on its way back to us: its signature no longer verifies
  const forge = (form: Form): Form => {
    if (form.fields.SAMLResponse === undefined || !form.action.startsWith(bed.url)) return form;
    const xml = Buffer.from(form.fields.SAMLResponse, 'base64').toString('utf8');
    const forged = xml.replace(/ ID="_?([0-9a-f])/, ' ID="_f$1');
    return { ...form, fields: { ...form.fields, SAMLResponse: Buffer.from(forged, 'utf8').toString('base64') } };
  };
  const { visited, answered } = await idpLogout(last.browser, message, second.url, forge);
  t.is(visited.at(-1), `${second.url}/slo`);
  t.is(answered?.response.status, 200);
  t.like(second.logoutResponses().at(-1), { inResponseTo: message.id });
  t.deepEqual(await idsOf('UPSTREAM_LOGOUT_FAILED'), ['demo-idp'], "the demo IdP's answer refused, audited");
  t.deepEqual(await idsOf('UPSTREAM_LOGOUT_ANSWER_SENT'), ['second-idp']);
});

test.serial(
  'a forged answer with the relay value, from another browser, takes nothing: the real answer then completes',
  async (t) => {
    // the relay value is in the URL our request to the other IdP went by (history, Referer): a junk LogoutResponse
    // posted with it from elsewhere took the way back and our signed answer to the IdP that began, so the real
    // answer found neither (attacker review, twenty-ninth round)
    const { last } = await steppedUp(1);
    const [second] = idps as [DemoIdp];
    const message = await second.logoutRequest(second.sessions().at(-1)!.sessionIndex);
    const begun = await last.browser.submit(
      { action: message.url, method: 'POST', fields: message.fields },
      new URL(message.url),
    );
    const toDemo = formsIn(await begun.response.text()).find((f) => f.method === 'POST')!;
    t.is(toDemo.action, `${bed.deployment.idp.url}/slo`);
    const atDemo = await last.browser.submit(toDemo, begun.url);
    const answer = formsIn(await atDemo.response.text()).find((f) => f.method === 'POST')!;
    const junk = { ...answer, fields: { ...answer.fields, SAMLResponse: Buffer.from('<junk/>').toString('base64') } };
    const forged = await new Browser().submit(junk, atDemo.url);
    t.false(
      formsIn(await forged.response.text()).some((f) => f.action.startsWith(second.url)),
      'our answer to the IdP that began is not given to the other browser',
    );
    // the real answer, in the browser that logged out: our answer goes to the IdP that began
    const real = await last.browser.submit(answer, atDemo.url);
    const onward = formsIn(await real.response.text()).find((f) => f.method === 'POST');
    t.is(onward?.action, `${second.url}/slo`);
    t.truthy(onward?.fields.SAMLResponse);
    t.deepEqual(await idsOf('UPSTREAM_LOGOUT_COMPLETED'), ['demo-idp'], 'the real answer verified');
    t.deepEqual(await idsOf('UPSTREAM_LOGOUT_ANSWER_SENT'), ['second-idp']);
  },
);

test.serial('the IdP that began, sending its request again while the browser is away, gets its answer', async (t) => {
  const { last } = await steppedUp(1);
  const [second] = idps as [DemoIdp];
  const message = await second.logoutRequest(second.sessions().at(-1)!.sessionIndex);
  const first = await last.browser.submit(
    { action: message.url, method: 'POST', fields: message.fields },
    new URL(message.url),
  );
  const onward = formsIn(await first.response.text()).find((f) => f.method === 'POST');
  t.is(onward?.action, `${bed.deployment.idp.url}/slo`, 'the browser sent on to the demo IdP (and never arrives)');
  const again = await fetch(message.url, { method: 'POST', body: new URLSearchParams(message.fields) });
  t.is(again.status, 200);
  const form = formsIn(await again.text()).find((f) => f.method === 'POST');
  t.is(form?.action, `${second.url}/slo`);
  t.truthy(form?.fields.SAMLResponse);
  t.deepEqual(await idsOf('UPSTREAM_LOGOUT_ANSWERED_ON_RETRY'), ['second-idp']);
});

test.serial(
  'an answer carried to another browser asks no further IdP, and gives that browser no answer to the IdP that began',
  async (t) => {
    const { atDemo, last } = await steppedUp(2);
    const [second, third] = idps as [DemoIdp, DemoIdp];
    const message = await third.logoutRequest(third.sessions().at(-1)!.sessionIndex);
    const begun = await last.browser.submit(
      { action: message.url, method: 'POST', fields: message.fields },
      new URL(message.url),
    );
    const toSecond = formsIn(await begun.response.text()).find((f) => f.method === 'POST')!;
    t.is(toSecond.action, `${second.url}/slo`);
    const atSecond = await last.browser.submit(toSecond, begun.url);
    const answer = formsIn(await atSecond.response.text()).find((f) => f.method === 'POST')!;
    t.is(new URL(answer.action, atSecond.url).href, `${bed.url}/saml/slo`);

    const elsewhere = await new Browser().submit(answer, atSecond.url);
    t.false(
      formsIn(await elsewhere.response.text()).some(
        (f) => f.action.startsWith(third.url) || f.action.startsWith(bed.deployment.idp.url),
      ),
      'neither the demo IdP asked nor the answer to the third IdP given from the other browser',
    );
    t.true(bed.deployment.idp.sessions().some((s) => s.sessionIndex === atDemo.sessionIndex));
    const skipped = await bed.gateway.services.pool.query<{ error_code: string }>(
      "select error_code from audit_log where to_state = 'UPSTREAM_LOGOUT_SKIPPED'",
    );
    t.deepEqual(
      skipped.rows.map((r) => r.error_code),
      ['UPSTREAM_LOGOUT_OTHER_BROWSER'],
    );
    t.deepEqual(await idsOf('UPSTREAM_LOGOUT_ANSWER_SENT'), []);
    // the third IdP, unanswered, sends its request again: it gets its answer
    const again = await fetch(message.url, { method: 'POST', body: new URLSearchParams(message.fields) });
    t.truthy(formsIn(await again.text()).find((f) => f.action === `${third.url}/slo`)?.fields.SAMLResponse);
  },
);

/**
 * Runs `action` while the bed's HSM's only session is held (a bed with `hsm: { poolSize: 1, acquireTimeoutMs: 500 }`:
 * a signature meanwhile waits half a second, then fails `HSM_BUSY`).
 */
async function whileHsmBusy<T>(action: () => Promise<T>): Promise<T> {
  const token = (bed.gateway.services.keys as unknown as { tokens: { token: Pkcs11Token } }).tokens.token;
  let release!: () => void;
  const holding = token.run(() => new Promise<void>((resolve) => (release = resolve)));
  try {
    return await action();
  } finally {
    release();
    await holding;
  }
}

test.serial(
  'an IdP logout first unanswered (the HSM busy) asks the other IdP when sent again, then is answered',
  async (t) => {
    const { atDemo, last } = await steppedUp(1, { hsm: { poolSize: 1, acquireTimeoutMs: 500 } });
    const [second] = idps as [DemoIdp];
    const message = await second.logoutRequest(second.sessions().at(-1)!.sessionIndex, 'relay-of-the-idp');
    const unanswered = await whileHsmBusy(() =>
      last.browser.submit({ action: message.url, method: 'POST', fields: message.fields }, new URL(message.url)),
    );
    t.is(unanswered.response.status, 503, 'the answer could not be signed');
    await unanswered.response.body?.cancel();
    t.is((await userinfo(bed.url, last.accessToken)).status, 401, "the gateway's session is ended all the same");
    t.true(
      bed.deployment.idp.sessions().some((s) => s.sessionIndex === atDemo.sessionIndex),
      'no IdP asked yet',
    );

    const { visited, answered } = await idpLogout(last.browser, message, second.url);
    t.deepEqual(
      visited,
      [`${bed.url}/saml/slo`, `${bed.deployment.idp.url}/slo`, `${bed.url}/saml/slo`, `${second.url}/slo`],
      'the retry: our LogoutRequest to the demo IdP, its answer back to us, then our answer to the second IdP',
    );
    t.is(answered?.response.status, 200);
    t.like(second.logoutResponses().at(-1), { inResponseTo: message.id });
    t.false(
      bed.deployment.idp.sessions().some((s) => s.sessionIndex === atDemo.sessionIndex),
      "the demo IdP's session is ended",
    );
    t.deepEqual(await idsOf('UPSTREAM_LOGOUT_UNANSWERED'), ['second-idp']);
    t.deepEqual(await idsOf('UPSTREAM_LOGOUT_ANSWERED_ON_RETRY'), ['second-idp']);
    t.deepEqual(await idsOf('UPSTREAM_LOGOUT_SENT'), ['demo-idp']);
    t.deepEqual(await idsOf('UPSTREAM_LOGOUT_COMPLETED'), ['demo-idp']);
    t.deepEqual(await idsOf('UPSTREAM_LOGOUT_ANSWER_SENT'), ['second-idp']);

    // sent again (the answer is kept for the IdP's own retry, as after any chain): answered at once, nobody asked
    const again = await fetch(message.url, { method: 'POST', body: new URLSearchParams(message.fields) });
    t.is(again.status, 200);
    t.is(formsIn(await again.text()).find((f) => f.method === 'POST')?.action, `${second.url}/slo`);
    t.deepEqual(await idsOf('UPSTREAM_LOGOUT_SENT'), ['demo-idp'], 'the demo IdP is not asked twice');
  },
);

test.serial(
  "a copy of an IdP logout first unanswered, sent from another browser, asks no IdP; the first browser's retry does",
  async (t) => {
    const { atDemo, last } = await steppedUp(1, { hsm: { poolSize: 1, acquireTimeoutMs: 500 } });
    const [second] = idps as [DemoIdp];
    const message = await second.logoutRequest(second.sessions().at(-1)!.sessionIndex, 'relay-of-the-idp');
    const unanswered = await whileHsmBusy(() =>
      last.browser.submit({ action: message.url, method: 'POST', fields: message.fields }, new URL(message.url)),
    );
    t.is(unanswered.response.status, 503);
    await unanswered.response.body?.cancel();

    // a copy (from a URL's history, a log) sent from another browser: answered at once, nobody asked
    const elsewhere = await new Browser().submit(
      { action: message.url, method: 'POST', fields: message.fields },
      new URL(message.url),
    );
    const form = formsIn(await elsewhere.response.text()).find((f) => f.method === 'POST');
    t.is(form?.action, `${second.url}/slo`, 'straight back to the IdP that began');
    t.truthy(form?.fields.SAMLResponse);
    t.deepEqual(await idsOf('UPSTREAM_LOGOUT_SENT'), [], 'no IdP asked from the other browser');
    t.deepEqual(await idsOf('UPSTREAM_LOGOUT_SKIPPED'), ['second-idp']);
    t.is((await audited(bed, 'UPSTREAM_LOGOUT_SKIPPED'))[0]?.retry, true);
    t.true(bed.deployment.idp.sessions().some((s) => s.sessionIndex === atDemo.sessionIndex));

    // the first browser's own retry still asks the demo IdP, then answers
    const { visited, answered } = await idpLogout(last.browser, message, second.url);
    t.deepEqual(visited, [
      `${bed.url}/saml/slo`,
      `${bed.deployment.idp.url}/slo`,
      `${bed.url}/saml/slo`,
      `${second.url}/slo`,
    ]);
    t.is(answered?.response.status, 200);
    t.false(bed.deployment.idp.sessions().some((s) => s.sessionIndex === atDemo.sessionIndex));
    t.deepEqual(await idsOf('UPSTREAM_LOGOUT_SENT'), ['demo-idp']);
  },
);
