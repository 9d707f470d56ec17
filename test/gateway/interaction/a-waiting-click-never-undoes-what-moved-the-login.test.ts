/**
 * A chooser click that met another request's claim (BUSY) and waited for it goes on only from where its
 * AuthnRequest was made for (issue #14's patience, reviewer finding F1): if the other request was the IdP's
 * answer (AUTHENTICATING → FRAUD_CHECK), or began a step-up meanwhile, the click is refused
 * (`LOGIN_STATE_INVALID`) and the login stays where the other request left it. A chooser click never starts
 * a login the risk pipeline is deciding on (FRAUD_CHECK). Real Redis, PostgreSQL and HSM.
 */
import test from 'ava';
import { recordKey } from '../../../gateway/flow/login-record.ts';
import { authorizationRequest, startGatewayFixture, type GatewayFixture } from '../../helpers/gateway-fixture.ts';
import { Browser, formsIn, type Form } from '../../helpers/browser.ts';

/** A login whose person chose the demo IdP once: AUTHENTICATING, the chooser form at hand for another click. */
async function authenticatingLogin(fx: GatewayFixture) {
  const browser = new Browser();
  const request = await authorizationRequest(fx.rp);
  const chooserStep = await browser.follow(request.url, {}, () => false);
  const chooser = formsIn(await chooserStep.response.text()).find((f) => f.action.endsWith('/idp'))!;
  const loginId = chooserStep.url.pathname.split('/')[2]!;
  const first = await browser.submit(chooser, chooserStep.url, { idp: 'demo-idp' }, () => false);
  await first.response.body?.cancel();
  const click = () => browser.submit(chooser as Form, chooserStep.url, { idp: 'demo-idp' }, () => false);
  return { loginId, click };
}

async function transitions(fx: GatewayFixture, loginId: string) {
  const { rows } = await fx.gateway.services.pool.query<{ from_state: string | null; to_state: string }>(
    'select from_state, to_state from audit_log where session_id = $1 order by id',
    [loginId],
  );
  return rows.map((r) => `${r.from_state} → ${r.to_state}`);
}

/** Waits until the click has met the claim (it then signs and waits): its AuthnRequest's pending entry is held. */
const aMoment = () => new Promise((resolve) => setTimeout(resolve, 150));

test('a click waiting while the IdP answer moves the login to FRAUD_CHECK is refused; the answer stands', async (t) => {
  const fx = await startGatewayFixture({ boot: { fraud: { checkpointMs: 0 } } });
  t.teardown(() => fx.stop());
  const { flow } = fx.gateway.services;
  const { loginId, click } = await authenticatingLogin(fx);
  const answer = await flow.claim(loginId, 'FRAUD_CHECK'); // the ACS, checking the IdP's answer
  const waiting = click();
  await aMoment();
  await flow.transition(loginId, 'FRAUD_CHECK', { component: 'test-acs', held: answer });
  const refused = await waiting;
  const html = await refused.response.text();
  t.is(refused.response.status, 400, html.slice(0, 300));
  t.true(html.includes('LOGIN_STATE_INVALID'), html.slice(0, 600));
  t.false(
    formsIn(html).some((f) => f.fields.SAMLRequest !== undefined),
    'no AuthnRequest handed out',
  );
  t.is((await flow.get(loginId))?.state, 'FRAUD_CHECK');
  t.falsy(await fx.gateway.services.redis.hget(recordKey(loginId), 'pending'), 'the claim was given back');
  t.deepEqual(await transitions(fx, loginId), [
    'null → INITIATED',
    'INITIATED → AUTHENTICATING',
    'AUTHENTICATING → FRAUD_CHECK',
  ]);
});

test('a click waiting while a step-up begins is refused; the step-up context stays', async (t) => {
  const fx = await startGatewayFixture({ boot: { fraud: { checkpointMs: 0 } } });
  t.teardown(() => fx.stop());
  const { flow, logins } = fx.gateway.services;
  const { loginId, click } = await authenticatingLogin(fx);
  const other = await flow.claim(loginId, 'AUTHENTICATING');
  const waiting = click();
  await aMoment();
  const before = (await logins.load(loginId))!;
  const stepUp = {
    ...before,
    requiredAcr: 'eidas3' as const,
    upstream: { issuedAt: Date.now(), forceAuthn: true, stepUpLevel: 2 },
  };
  await logins.save(stepUp);
  await flow.release(loginId, other);
  const refused = await waiting;
  const html = await refused.response.text();
  t.is(refused.response.status, 400, html.slice(0, 300));
  t.true(html.includes('LOGIN_STATE_INVALID'), html.slice(0, 600));
  t.deepEqual((await logins.load(loginId))?.upstream, stepUp.upstream, 'the stale click wrote nothing');
  t.is((await logins.load(loginId))?.requiredAcr, 'eidas3');
  t.falsy(await fx.gateway.services.redis.hget(recordKey(loginId), 'pending'), 'the claim was given back');
  t.deepEqual(await transitions(fx, loginId), ['null → INITIATED', 'INITIATED → AUTHENTICATING']);
});

test('a chooser click on a login in FRAUD_CHECK is refused before anything is signed', async (t) => {
  const fx = await startGatewayFixture({ boot: { fraud: { checkpointMs: 0 } } });
  t.teardown(() => fx.stop());
  const { flow } = fx.gateway.services;
  const { loginId, click } = await authenticatingLogin(fx);
  await flow.transition(loginId, 'FRAUD_CHECK', { component: 'test-acs' });
  const refused = await click();
  const html = await refused.response.text();
  t.is(refused.response.status, 400, html.slice(0, 300));
  t.true(html.includes('LOGIN_STATE_INVALID'), html.slice(0, 600));
  t.is((await flow.get(loginId))?.state, 'FRAUD_CHECK');
});
