/**
 * A refused IdP logout message is answered with its code's status in the error registry, not a blanket 400:
 * an internal-kind code (5xx in the registry) is never exposed as a 4xx with its code. Here the HSM cannot
 * sign our LogoutResponse (its only session is held, no caller may wait): the adapter fails with
 * `SAML_SIGNING_FAILED` (internal, 500): audited with that code, answered 500 with no code on the page
 * (it was a 400 naming SAML_SIGNING_FAILED). A refusal of the message itself stays a 400 with its code.
 */
import test from 'ava';
import type { Pkcs11Token } from '../../../hsm/pkcs11/token.ts';
import { startGatewayFixture } from '../../helpers/gateway-fixture.ts';
import { logIn } from './session-bed.ts';

const codeOf = (html: string) => /<code>([A-Z0-9_]+)<\/code>/.exec(html)?.[1];

test('an IdP LogoutRequest whose answer the HSM cannot sign: 500 without its code, audited with it', async (t) => {
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
  const slo = `${fx.url}/saml/slo`;
  const post = (fields: Record<string, string>) =>
    fetch(slo, { method: 'POST', body: new URLSearchParams(fields), redirect: 'manual' });

  // a refusal of the message itself: its registry status (400) and code, as before
  const garbled = await post({ SAMLRequest: Buffer.from('<not-saml/>').toString('base64') });
  t.is(garbled.status, 400);
  t.truthy(codeOf(await garbled.text()));

  // the token's only session is held and no caller may wait: the signature of our answer fails
  const token = (fx.gateway.services.keys as unknown as { tokens: { token: Pkcs11Token } }).tokens.token;
  const holding = token.run(() => new Promise<void>((resolve) => (release = resolve)));
  const message = await fx.deployment.idp.logoutRequest(upstream.sessionIndex, 'relay-from-idp');
  const answer = await post(message.fields);
  const page = await answer.text();
  release!();
  await holding;
  t.is(answer.status, 500, 'the registry says 500 for an internal-kind code');
  t.is(codeOf(page), 'INTERNAL', 'the internal code is not exposed');
  const { rows } = await fx.gateway.services.pool.query<{ error_code: string }>(
    "select error_code from audit_log where to_state = 'UPSTREAM_LOGOUT_REFUSED' order by id",
  );
  t.is(rows.at(-1)?.error_code, 'SAML_SIGNING_FAILED', 'audited with its own code');
});
