/**
 * A login may send the IdP several requests (the person chose again; a step-up forced a new, stronger one), and
 * the policy judges an answer against the latest: its level, its step-up, its forced freshness. An answer kept
 * from an earlier request (a plainer one, authenticated before the step-up was asked for) must never stand for
 * the latest: it is refused `UPSTREAM_ANSWER_SUPERSEDED`, the login fails, the RP is told `access_denied` and no
 * code is issued (reviewer finding, fifteenth round: an older answer satisfied a step-up). The latest request's
 * answer finishes the login as always. Real Redis, PostgreSQL, HSM; the samlify demo IdP.
 */
import test from 'ava';
import { Browser, formsIn, type Form } from '../../helpers/browser.ts';
import {
  authorizationRequest,
  RP_REDIRECT,
  startGatewayFixture,
  type GatewayFixture,
} from '../../helpers/gateway-fixture.ts';

/** Sends an AuthnRequest form to the IdP and logs in there: the IdP's answer, not yet posted to the gateway. */
async function answerAtIdp(browser: Browser, request: Form, base: URL, username: string) {
  const idpPage = await browser.submit(request, base, {}, () => false);
  const loginForm = formsIn(await idpPage.response.text())[0]!;
  const answered = await browser.submit(
    loginForm,
    idpPage.url,
    { username, password: `${username}-demo` },
    () => false,
  );
  return { form: formsIn(await answered.response.text())[0]!, base: answered.url };
}

/** A login at the chooser; `choose()` picks the demo IdP: the AuthnRequest form it answers with. */
async function atTheChooser(fx: GatewayFixture) {
  const browser = new Browser();
  const chooserStep = await browser.follow((await authorizationRequest(fx.rp)).url, {}, () => false);
  const chooser = formsIn(await chooserStep.response.text()).find((f) => f.action.endsWith('/idp'))!;
  const loginId = chooserStep.url.pathname.split('/')[2]!;
  const choose = async () => {
    const sent = await browser.submit(chooser, chooserStep.url, { idp: 'demo-idp' }, () => false);
    return { form: formsIn(await sent.response.text())[0]!, base: sent.url };
  };
  return { browser, loginId, choose };
}

test('an answer to a request the person replaced by choosing again fails the login: no code', async (t) => {
  const fx = await startGatewayFixture();
  t.teardown(() => fx.stop());
  const { browser, loginId, choose } = await atTheChooser(fx);
  const first = await choose();
  const kept = await answerAtIdp(browser, first.form, first.base, 'marie'); // answered, kept, not posted
  await choose(); // the person chose again: the latest request is this one

  const atRp = (u: URL) => u.toString().startsWith(RP_REDIRECT);
  const posted = await browser.submit(kept.form, kept.base, {}, atRp);
  t.true(atRp(posted.url), `back at the RP: ${posted.url}`);
  t.is(posted.url.searchParams.get('code'), null, 'no code');
  t.is(posted.url.searchParams.get('error'), 'access_denied');
  t.is((await fx.gateway.services.flow.get(loginId))?.state, 'FAILED');
  const { rows } = await fx.gateway.services.pool.query<{ to_state: string; error_code: string | null }>(
    'select to_state, error_code from audit_log where session_id = $1 order by id',
    [loginId],
  );
  t.deepEqual(rows.at(-1), { to_state: 'FAILED', error_code: 'UPSTREAM_ANSWER_SUPERSEDED' });
});

test("the latest request's answer finishes the login after the person chose again", async (t) => {
  const fx = await startGatewayFixture();
  t.teardown(() => fx.stop());
  const { browser, choose } = await atTheChooser(fx);
  await choose();
  const latest = await choose();
  const answer = await answerAtIdp(browser, latest.form, latest.base, 'marie');
  const atRp = (u: URL) => u.toString().startsWith(RP_REDIRECT);
  const posted = await browser.submit(answer.form, answer.base, {}, atRp);
  t.true(atRp(posted.url), `back at the RP: ${posted.url}`);
  t.truthy(posted.url.searchParams.get('code'));
});
