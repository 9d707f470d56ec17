/**
 * Issue #14: GET /interaction/:uid reserves the login's id for its start with its first reads
 * (`LoginFlow.tryClaimStart`, one round trip less). A request that does not start the login gives the id back:
 * another browser's request for that uid (not its interaction: refused) leaves nothing behind, and the person's
 * own request right after starts the login and shows the chooser; a second visit of the person (the login
 * exists) shows the chooser again without a second start. Real gateway, Redis, PostgreSQL and HSM.
 */
import test from 'ava';
import { authorizationRequest, startGatewayFixture } from '../../helpers/gateway-fixture.ts';
import { Browser, formsIn } from '../../helpers/browser.ts';
import { recordKey } from '../../../gateway/flow/login-record.ts';

/** A person's login started once at the interaction page (INITIATED, the chooser shown). */
async function startedLogin() {
  const fx = await startGatewayFixture({ boot: { fraud: { checkpointMs: 0 } } });
  const person = new Browser();
  const request = await authorizationRequest(fx.rp);
  const atInteraction = await person.follow(request.url, {}, (u) => u.pathname.startsWith('/interaction/'));
  const loginId = atInteraction.url.pathname.split('/')[2]!;
  const first = await person.follow(atInteraction.url, { headers: { 'accept-language': 'en' } });
  await first.response.body?.cancel();
  return { fx, person, atInteraction, loginId };
}

test('a refused request for a uid gives its reservation back; the person then starts the login', async (t) => {
  const fx = await startGatewayFixture({ boot: { fraud: { checkpointMs: 0 } } });
  t.teardown(() => fx.stop());
  const person = new Browser();
  const request = await authorizationRequest(fx.rp);
  const atInteraction = await person.follow(request.url, {}, (u) => u.pathname.startsWith('/interaction/'));
  const loginId = atInteraction.url.pathname.split('/')[2]!;
  t.truthy(loginId);

  const stranger = await new Browser().request(atInteraction.url);
  t.true(stranger.status >= 400, `a stranger is refused: ${stranger.status}`);
  await stranger.body?.cancel();
  t.is(await fx.gateway.services.flow.get(loginId), null, 'nothing started by the refused request');
  const { rows: none } = await fx.gateway.services.pool.query('select 1 from audit_log where session_id = $1', [
    loginId,
  ]);
  t.is(none.length, 0, 'nothing audited for it');

  const chooser = await person.follow(atInteraction.url, { headers: { 'accept-language': 'en' } });
  t.is(chooser.response.status, 200);
  t.true(
    formsIn(await chooser.response.text()).some((f) => f.action.endsWith('/idp')),
    'the chooser, not an error',
  );
  t.like(await fx.gateway.services.flow.get(loginId), { state: 'INITIATED', version: 1 });

  const again = await person.follow(atInteraction.url, { headers: { 'accept-language': 'en' } });
  t.is(again.response.status, 200);
  await again.response.body?.cancel();
  const { rows } = await fx.gateway.services.pool.query<{ to_state: string }>(
    'select to_state from audit_log where session_id = $1',
    [loginId],
  );
  t.deepEqual(
    rows.map((r) => r.to_state),
    ['INITIATED'],
    'started once',
  );
});

test('a context kept by a start whose commit was lost is started again by the person’s next request', async (t) => {
  const { fx, person, atInteraction, loginId } = await startedLogin();
  t.teardown(() => fx.stop());
  // the start's context was written along its commit, but the commit itself was lost (e.g. Redis failed over)
  await fx.gateway.services.redis.del(recordKey(loginId));
  t.truthy(await fx.gateway.services.logins.load(loginId), 'the context is left');

  const again = await person.follow(atInteraction.url, { headers: { 'accept-language': 'en' } });
  const chooser = formsIn(await again.response.text()).find((f) => f.action.endsWith('/idp'))!;
  t.like(await fx.gateway.services.flow.get(loginId), { state: 'INITIATED' }, 'started again');
  const sent = await person.submit(chooser, again.url, { idp: 'demo-idp' }, () => false);
  const html = await sent.response.text();
  t.is(sent.response.status, 200, html.slice(0, 300));
  t.true(
    formsIn(html).some((f) => f.fields.SAMLRequest !== undefined),
    'the person goes on to the IdP',
  );
});

test('a context without a login that is older than INITIATED’s timeout is an expired sign-in, never started again', async (t) => {
  const { fx, person, atInteraction, loginId } = await startedLogin();
  t.teardown(() => fx.stop());
  // the login timed out at the chooser long ago and its FAILED record is gone; a long interaction lifetime kept
  // the context (INITIATED's timeout is 300 s)
  const { logins, redis, flow, pool } = fx.gateway.services;
  await logins.save({ ...(await logins.load(loginId))!, startedAt: Date.now() - 301_000 });
  await redis.del(recordKey(loginId));
  const { rows: before } = await pool.query('select 1 from audit_log where session_id = $1', [loginId]);

  const again = await person.follow(atInteraction.url, { headers: { 'accept-language': 'en' } });
  const html = await again.response.text();
  t.is(again.response.status, 400, html.slice(0, 300));
  t.true(html.includes('LOGIN_STATE_INVALID'), html.slice(0, 600));
  t.is(await flow.get(loginId), null, 'not started again');
  const { rows: after } = await pool.query('select 1 from audit_log where session_id = $1', [loginId]);
  t.is(after.length, before.length, 'nothing audited');
});
