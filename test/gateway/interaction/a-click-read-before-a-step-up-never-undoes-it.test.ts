/**
 * A chooser click reads the login's context when it arrives; its form may take long to upload. A step-up begun
 * meanwhile (the IdP's answer, FRAUD_CHECK, back to AUTHENTICATING with a higher level and one more step-up) must
 * stand: the click's claim from AUTHENTICATING succeeds at once, so the context is read again once claimed and the
 * click is refused (`LOGIN_STATE_INVALID`) — it never writes its stale copy back, which would reset the step-up
 * count (around `maxStepUps`) and drop the step-up's forced, higher request (reviewer finding R1, fourteenth
 * round). Real Redis, PostgreSQL and HSM.
 */
import { request } from 'node:http';
import test from 'ava';
import { recordKey } from '../../../gateway/flow/login-record.ts';
import { authorizationRequest, startGatewayFixture, type GatewayFixture } from '../../helpers/gateway-fixture.ts';
import { Browser, formsIn } from '../../helpers/browser.ts';

/** A POST whose headers and first half of the body go now, the rest when `finish` is called. */
function slowPost(target: URL, cookie: string, body: string) {
  const half = Math.floor(body.length / 2);
  const req = request(target, {
    method: 'POST',
    headers: {
      accept: 'text/html',
      cookie,
      'content-type': 'application/x-www-form-urlencoded',
      'content-length': Buffer.byteLength(body),
    },
  });
  const answer = new Promise<{ status: number; html: string }>((resolve, reject) => {
    req.on('response', (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, html: Buffer.concat(chunks).toString() }));
      res.on('error', reject);
    });
    req.on('error', reject);
  });
  req.write(body.slice(0, half));
  return {
    finish() {
      req.end(body.slice(half));
      return answer;
    },
  };
}

/**
 * A login whose person chose the demo IdP once (AUTHENTICATING), and a second click on the chooser that has read
 * the login's context and is still uploading its form (`click.finish()` sends the rest).
 */
async function staleClick(fx: GatewayFixture) {
  const browser = new Browser();
  const chooserStep = await browser.follow((await authorizationRequest(fx.rp)).url, {}, () => false);
  const chooser = formsIn(await chooserStep.response.text()).find((f) => f.action.endsWith('/idp'))!;
  const loginId = chooserStep.url.pathname.split('/')[2]!;
  const first = await browser.submit(chooser, chooserStep.url, { idp: 'demo-idp' }, () => false);
  await first.response.body?.cancel();
  const target = new URL(chooser.action, chooserStep.url);
  const body = new URLSearchParams({ ...chooser.fields, idp: 'demo-idp' }).toString();
  const click = slowPost(target, browser.cookieHeader(target), body);
  await new Promise((resolve) => setTimeout(resolve, 300)); // the handler has read the context, and waits
  return { loginId, click, browser, chooser, chooserStep };
}

async function transitions(fx: GatewayFixture, loginId: string) {
  const { rows } = await fx.gateway.services.pool.query<{ from_state: string | null; to_state: string }>(
    'select from_state, to_state from audit_log where session_id = $1 order by id',
    [loginId],
  );
  return rows.map((r) => `${r.from_state} → ${r.to_state}`);
}

test('a click whose form arrives after a step-up began is refused; the step-up context stands', async (t) => {
  const fx = await startGatewayFixture({ boot: { fraud: { checkpointMs: 0 } } });
  t.teardown(() => fx.stop());
  const { flow, logins, redis } = fx.gateway.services;
  // the stale click: read the context, now uploading its form
  const { loginId, click } = await staleClick(fx);

  // meanwhile the IdP answers and the risk pipeline asks for a step-up
  await flow.transition(loginId, 'FRAUD_CHECK', { component: 'test-acs' });
  const before = (await logins.load(loginId))!;
  const stepUp = {
    ...before,
    requiredAcr: 'eidas3' as const,
    stepUps: before.stepUps + 1,
    upstream: { issuedAt: Date.now(), forceAuthn: true, stepUpLevel: 2 },
  };
  await flow.transition(loginId, 'AUTHENTICATING', {
    component: 'test-step-up',
    alongCommit: () => logins.save(stepUp),
  });

  const refused = await click.finish();
  t.is(refused.status, 400, refused.html.slice(0, 300));
  t.true(refused.html.includes('LOGIN_STATE_INVALID'), refused.html.slice(0, 600));
  t.false(
    formsIn(refused.html).some((f) => f.fields.SAMLRequest !== undefined),
    'no AuthnRequest handed out',
  );
  const after = (await logins.reload(loginId))!;
  t.deepEqual(after.upstream, stepUp.upstream, 'the stale click wrote nothing');
  t.is(after.stepUps, stepUp.stepUps, 'the step-up count stands');
  t.is(after.requiredAcr, 'eidas3');
  t.is((await flow.get(loginId))?.state, 'AUTHENTICATING');
  t.falsy(await redis.hget(recordKey(loginId), 'pending'), 'the claim was given back');
  t.deepEqual(await transitions(fx, loginId), [
    'null → INITIATED',
    'INITIATED → AUTHENTICATING',
    'AUTHENTICATING → FRAUD_CHECK',
    'FRAUD_CHECK → AUTHENTICATING',
  ]);
});

test('a click whose form arrives after another click of the same login still goes to the IdP', async (t) => {
  const fx = await startGatewayFixture({ boot: { fraud: { checkpointMs: 0 } } });
  t.teardown(() => fx.stop());
  const { flow, logins } = fx.gateway.services;
  const { loginId, click, browser, chooser, chooserStep } = await staleClick(fx);
  const other = await browser.submit(chooser, chooserStep.url, { idp: 'demo-idp' }, () => false);
  await other.response.body?.cancel();

  const sent = await click.finish();
  t.is(sent.status, 200, sent.html.slice(0, 300));
  t.true(
    formsIn(sent.html).some((f) => f.fields.SAMLRequest !== undefined),
    'the AuthnRequest is handed out',
  );
  t.is((await flow.get(loginId))?.state, 'AUTHENTICATING');
  t.is((await logins.reload(loginId))?.stepUps, 0);
});
