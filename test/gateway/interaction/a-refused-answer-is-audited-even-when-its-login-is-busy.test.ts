/**
 * A refused IdP answer (here: tampered, its signature broken) fails its login with the refusal's code. When the
 * login cannot be failed now — another request holds it (the first copy of a double-posted form, still being
 * decided) — the refusal is still audited (`REJECTED` with its code) and answered with its page and status, never
 * a 500 with nothing audited (reviewer finding, fifteenth round). Real Redis, PostgreSQL, HSM; samlify demo IdP.
 */
import test from 'ava';
import { authorizationRequest, RP_REDIRECT, startGatewayFixture } from '../../helpers/gateway-fixture.ts';
import { loginJourney } from '../../helpers/login-journey.ts';
import type { HeldClaim } from '../../../gateway/flow/login-flow.ts';

test('a tampered answer for a login another request holds is audited REJECTED with its code, and answered 400', async (t) => {
  const fx = await startGatewayFixture();
  t.teardown(() => fx.stop());
  const { flow, logins, pool } = fx.gateway.services;
  let loginId = '';
  let held: HeldClaim | undefined;
  const request = await authorizationRequest(fx.rp);
  const journey = await loginJourney(request.url, {
    username: 'marie',
    redirectUri: RP_REDIRECT,
    beforeAcs: async (form) => {
      loginId = (await logins.loadRelay(form.fields.RelayState!))!.loginId;
      held = await flow.claim(loginId, 'FRAUD_CHECK'); // another request is deciding this login
      const xml = Buffer.from(form.fields.SAMLResponse!, 'base64').toString('utf8');
      const tampered = xml.replace(/(<saml:NameID[^>]*>)([^<]*)</, (_, open: string, id: string) => `${open}${id}x<`);
      t.not(tampered, xml, 'the NameID was changed');
      return { ...form, fields: { ...form.fields, SAMLResponse: Buffer.from(tampered).toString('base64') } };
    },
  });
  t.is(journey.status, 400, journey.html.slice(0, 300));
  const { rows } = await pool.query<{ to_state: string; error_code: string | null }>(
    'select to_state, error_code from audit_log where session_id = $1 order by id',
    [loginId],
  );
  const last = rows.at(-1)!;
  t.is(last.to_state, 'REJECTED');
  t.regex(last.error_code ?? '', /^SAML_/, `the refusal's code: ${last.error_code}`);
  t.true(journey.html.includes(last.error_code!), 'the page names the code');
  t.is((await flow.get(loginId))?.state, 'AUTHENTICATING', 'the holder decides the login');
  await flow.release(loginId, held!);
});
