/**
 * IdP-initiated logout ends the sessions first, then signs its answer (idp-logout-request.ts, "Order"): when the
 * answer cannot be signed (the HSM busy), the sessions stay ended and the audit says so — `UPSTREAM_LOGOUT_UNANSWERED`
 * with the code and the number of sessions ended — never a "refused" record claiming nothing was ended. The same
 * message sent again ends nothing more and gets the answer kept for it, signed now (then, and only then, it is a
 * replay: a-retried-idp-logout-gets-its-answer.test.ts).
 */
import test from 'ava';
import type { Pkcs11Token } from '../../../hsm/pkcs11/token.ts';
import { startGatewayFixture } from '../../helpers/gateway-fixture.ts';
import { logIn, userinfo } from './session-bed.ts';

const codeOf = (html: string) => /<code>([A-Z0-9_]+)<\/code>/.exec(html)?.[1];

test('the HSM busy signing the answer: the sessions stay ended, audited as ended and unanswered', async (t) => {
  const fx = await startGatewayFixture({
    rawConfig: (raw) => {
      raw.hsm = { ...(raw.hsm as object), poolSize: 1, maxWaiting: 0 };
    },
  });
  let release: (() => void) | undefined;
  t.teardown(async () => {
    release?.();
    await fx.stop();
  });
  const session = await logIn(fx);
  t.is((await userinfo(fx.url, session.accessToken)).status, 200);
  const upstream = fx.deployment.idp.sessions().at(-1)!;
  const message = await fx.deployment.idp.logoutRequest(upstream.sessionIndex, 'relay-from-idp');
  const post = () =>
    fetch(`${fx.url}/saml/slo`, { method: 'POST', body: new URLSearchParams(message.fields), redirect: 'manual' });

  const token = (fx.gateway.services.keys as unknown as { tokens: { token: Pkcs11Token } }).tokens.token;
  const holding = token.run(() => new Promise<void>((resolve) => (release = resolve)));
  const answer = await post();
  await answer.body?.cancel();
  release!();
  await holding;
  t.is(answer.status, 503);
  t.is((await userinfo(fx.url, session.accessToken)).status, 401, 'the named session is ended');

  const { rows } = await fx.gateway.services.pool.query<{
    to_state: string;
    error_code: string;
    details: Record<string, unknown>;
  }>("select to_state, error_code, details from audit_log where to_state like 'UPSTREAM_LOGOUT_%' order by id");
  t.deepEqual(
    rows.map((r) => [r.to_state, r.error_code, r.details.sessions]),
    [['UPSTREAM_LOGOUT_UNANSWERED', 'HSM_BUSY', 1]],
  );

  const again = await post();
  t.is(again.status, 200, 'the retry gets the answer kept for it');
  t.regex(await again.text(), /name="SAMLResponse"/);
  t.is((await userinfo(fx.url, session.accessToken)).status, 401);
  const replayed = await post();
  t.is(replayed.status, 400);
  t.is(codeOf(await replayed.text()), 'SAML_LOGOUT_REPLAYED', 'answered once: no second answer');
});

test('a fault of ours while ending the named sessions, none ended: audited UNAVAILABLE with INTERNAL, never silent', async (t) => {
  const fx = await startGatewayFixture();
  t.teardown(() => fx.stop());
  const session = await logIn(fx);
  const upstream = fx.deployment.idp.sessions().at(-1)!;
  const message = await fx.deployment.idp.logoutRequest(upstream.sessionIndex, 'relay-from-idp');
  const revoker = fx.gateway.services.sessions.revoker;
  const revokeSession = revoker.revokeSession.bind(revoker);
  revoker.revokeSession = () => Promise.reject(new Error('a bug while ending the session'));
  const answer = await fetch(`${fx.url}/saml/slo`, {
    method: 'POST',
    body: new URLSearchParams(message.fields),
    redirect: 'manual',
  });
  await answer.body?.cancel();
  revoker.revokeSession = revokeSession;
  t.is(answer.status, 500);
  const { rows } = await fx.gateway.services.pool.query<{
    to_state: string;
    error_code: string;
    details: Record<string, unknown>;
  }>("select to_state, error_code, details from audit_log where to_state like 'UPSTREAM_LOGOUT_%' order by id");
  t.deepEqual(
    rows.map((r) => [r.to_state, r.error_code, r.details.sessions, r.details.failed]),
    [['UPSTREAM_LOGOUT_UNAVAILABLE', 'INTERNAL', 0, 1]],
  );
  t.is((await userinfo(fx.url, session.accessToken)).status, 200, 'nothing was ended');
});
