/**
 * A Single Logout refusal whose detail quotes a NUL character from the message is audited and answered with
 * its code, not a 500 (issue #15, found by the logout fuzzer: the audit log refuses NUL, and the refusal of
 * `logout-redirect.sigalg-with-nul` — an HTTP-Redirect LogoutResponse or LogoutRequest whose `SigAlg` is
 * `%00…` — became AUDIT_INVALID_RECORD, 500).
 */
import test from 'ava';
import { startGatewayFixture, type GatewayFixture } from '../../helpers/gateway-fixture.ts';
import {
  logoutRequestFields,
  logoutRequestXml,
  logoutResponseXml,
  redirectMessage,
  samlId,
  successResponse,
} from '../../helpers/saml/logout-messages.ts';
import type { TestIdp } from '../../helpers/saml/test-idp.ts';

let fx: GatewayFixture;
test.before(async () => {
  fx = await startGatewayFixture();
});
test.after.always(async () => {
  await fx?.stop();
});

const codeOf = (html: string) => /<code>([A-Z0-9_]+)<\/code>/.exec(html)?.[1];
const SIGALG_WITH_NUL = '&SigAlg=%00http%3A%2F%2Fwww.w3.org%2F2001%2F04%2Fxmldsig-more%23rsa-sha256&Signature=AAAA';

async function refusedRows(): Promise<{ error_code: string; details: { detail?: string } }[]> {
  const { rows } = await fx.gateway.services.pool.query<{ error_code: string; details: { detail?: string } }>(
    "select error_code, details from audit_log where to_state in ('UPSTREAM_LOGOUT_REFUSED', 'UPSTREAM_LOGOUT_FAILED') order by id",
  );
  return rows;
}

test.serial('logout-redirect.sigalg-with-nul, a LogoutResponse: 400 SAML_ALG_NOT_ALLOWED, audited', async (t) => {
  const idp = { entityId: fx.deployment.idp.entityId } as TestIdp;
  const xml = logoutResponseXml(successResponse(idp, `${fx.url}/saml/slo`, samlId()));
  const query = redirectMessage('SAMLResponse', xml).rawQuery + SIGALG_WITH_NUL;
  const response = await fetch(`${fx.url}/saml/slo?${query}`, { redirect: 'manual' });
  t.is(response.status, 400);
  t.is(codeOf(await response.text()), 'SAML_ALG_NOT_ALLOWED');
  const row = (await refusedRows()).at(-1);
  t.is(row?.error_code, 'SAML_ALG_NOT_ALLOWED');
  t.regex(row?.details.detail ?? '', /^SigAlg U\+0000http/, 'the NUL written as U+0000');
});

test.serial('logout-redirect.sigalg-with-nul, a LogoutRequest: 400 SAML_ALG_NOT_ALLOWED, audited', async (t) => {
  const idp = { entityId: fx.deployment.idp.entityId } as TestIdp;
  const xml = logoutRequestXml(logoutRequestFields(idp, `${fx.url}/saml/slo`, 'someone', '_s1'));
  const query = redirectMessage('SAMLRequest', xml).rawQuery + SIGALG_WITH_NUL;
  const response = await fetch(`${fx.url}/saml/slo?${query}`, { redirect: 'manual' });
  t.is(response.status, 400);
  t.is(codeOf(await response.text()), 'SAML_ALG_NOT_ALLOWED');
  t.is((await refusedRows()).at(-1)?.error_code, 'SAML_ALG_NOT_ALLOWED');
});

test.serial(
  'logout-redirect.sigalg-with-escaped-nul (the six characters \\u0000): 400 SAML_ALG_NOT_ALLOWED',
  async (t) => {
    const idp = { entityId: fx.deployment.idp.entityId } as TestIdp;
    const xml = logoutResponseXml(successResponse(idp, `${fx.url}/saml/slo`, samlId()));
    const query = redirectMessage('SAMLResponse', xml).rawQuery + '&SigAlg=%5Cu0000x&Signature=AAAA';
    const response = await fetch(`${fx.url}/saml/slo?${query}`, { redirect: 'manual' });
    t.is(response.status, 400);
    t.is(codeOf(await response.text()), 'SAML_ALG_NOT_ALLOWED');
  },
);

test.serial(
  'logout-redirect.sigalg-badly-percent-encoded (%C0): 400 SAML_TRANSPORT_INVALID, not SAML_INTERNAL_ERROR',
  async (t) => {
    const idp = { entityId: fx.deployment.idp.entityId } as TestIdp;
    const xml = logoutResponseXml(successResponse(idp, `${fx.url}/saml/slo`, samlId()));
    for (const tail of [
      '&SigAlg=%C0&Signature=AAAA',
      '&SigAlg=http%3A%2F%2Fwww.w3.org%2F2001%2F04%2Fxmldsig-more%23rsa-sha256&Signature=%E0%A4%A',
    ]) {
      const query = redirectMessage('SAMLResponse', xml).rawQuery + tail;
      const response = await fetch(`${fx.url}/saml/slo?${query}`, { redirect: 'manual' });
      t.is(response.status, 400, tail);
      t.is(codeOf(await response.text()), 'SAML_TRANSPORT_INVALID', tail);
    }
  },
);
