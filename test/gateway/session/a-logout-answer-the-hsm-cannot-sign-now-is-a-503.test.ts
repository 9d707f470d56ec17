/**
 * An IdP LogoutRequest whose signed answer meets the HSM unavailable (its only session held, no caller may wait:
 * `HSM_BUSY` under the adapter's `SAML_SIGNING_FAILED`) is answered like every other `HSM_BUSY` path: 503 with
 * `Retry-After` (a 5xx: the page names no code, as for every 5xx), audited with `HSM_BUSY` (it was a 500, audited
 * `SAML_SIGNING_FAILED` as a refusal of the message).
 */
import test from 'ava';
import type { Pkcs11Token } from '../../../hsm/pkcs11/token.ts';
import { startGatewayFixture } from '../../helpers/gateway-fixture.ts';
import { logIn } from './session-bed.ts';

test('an IdP LogoutRequest answered while the HSM is busy: 503 HSM_BUSY with Retry-After, audited', async (t) => {
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
  await logIn(fx);
  const upstream = fx.deployment.idp.sessions().at(-1)!;
  const token = (fx.gateway.services.keys as unknown as { tokens: { token: Pkcs11Token } }).tokens.token;
  const holding = token.run(() => new Promise<void>((resolve) => (release = resolve)));
  const message = await fx.deployment.idp.logoutRequest(upstream.sessionIndex, 'relay-from-idp');
  const answer = await fetch(`${fx.url}/saml/slo`, {
    method: 'POST',
    body: new URLSearchParams(message.fields),
    redirect: 'manual',
  });
  await answer.body?.cancel();
  release!();
  await holding;
  t.is(answer.status, 503);
  t.is(answer.headers.get('retry-after'), '2');
  const { rows } = await fx.gateway.services.pool.query<{ error_code: string }>(
    "select error_code from audit_log where to_state like 'UPSTREAM_LOGOUT_%' order by id",
  );
  t.is(rows.at(-1)?.error_code, 'HSM_BUSY', 'audited with the code the browser was given');
});
