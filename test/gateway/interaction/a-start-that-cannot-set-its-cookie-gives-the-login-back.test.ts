/**
 * The browser-binding cookie is set once the login is claimed for AUTHENTICATING, and setting it can fail: koa
 * refuses a Secure cookie over what it sees as plain HTTP (a deployment whose proxy setting is wrong). The claim is
 * then given back at once, like any other refusal of the start: the person's retry is not met by `BUSY` for the
 * claim's 30 s lease, and nothing is audited or moved (reviewer finding R3, fourteenth round). Real Redis,
 * PostgreSQL and HSM; the request is a koa context of the gateway's own app on an unencrypted socket.
 */
import { IncomingMessage, ServerResponse } from 'node:http';
import { Socket } from 'node:net';
import test from 'ava';
import { recordKey } from '../../../gateway/flow/login-record.ts';
import { startUpstream } from '../../../gateway/interaction/start-upstream.ts';
import { authorizationRequest, startGatewayFixture } from '../../helpers/gateway-fixture.ts';
import { Browser } from '../../helpers/browser.ts';

test('a start whose Secure cookie cannot be set over plain HTTP gives its claim back and moves nothing', async (t) => {
  const fx = await startGatewayFixture();
  t.teardown(() => fx.stop());
  const { services } = fx.gateway;
  const chooserStep = await new Browser().follow((await authorizationRequest(fx.rp)).url, {}, () => false);
  await chooserStep.response.body?.cancel();
  const loginId = chooserStep.url.pathname.split('/')[2]!;
  const login = (await services.logins.reload(loginId))!;

  const req = new IncomingMessage(new Socket());
  req.method = 'POST';
  req.url = `/interaction/${loginId}/idp`;
  req.headers = { host: new URL(fx.url).host };
  const ctx = fx.gateway.app.createContext(req, new ServerResponse(req));
  ctx.state.requestId = 'test-plain-http';
  const secureCookies = { ...services, config: { ...services.config, cookies: { secure: true } } };

  const error = await t.throwsAsync(startUpstream(ctx, secureCookies, login, 'demo-idp'));
  t.regex(error!.message, /secure cookie/i);
  t.falsy(await services.redis.hget(recordKey(loginId), 'pending'), 'the claim was given back');
  t.is((await services.flow.get(loginId))?.state, 'INITIATED');
  const { rows } = await services.pool.query<{ to_state: string }>(
    'select to_state from audit_log where session_id = $1 order by id',
    [loginId],
  );
  t.deepEqual(
    rows.map((r) => r.to_state),
    ['INITIATED'],
  );
});
