/**
 * Single Logout refusals of a hostile HTTP-Redirect `SigAlg` / `Signature` are audited and answered 400 with
 * their codes (issue #15, found by the logout fuzzer):
 * - `logout-redirect.sigalg-with-nul` (`%00…`) and `…-with-escaped-nul` (the six characters `\u0000`): the
 *   refusal's detail quotes the SigAlg and the audit log refuses NUL — it was a 500 AUDIT_INVALID_RECORD;
 *   now SAML_ALG_NOT_ALLOWED, the NUL written `U+0000` in the audit record;
 * - `logout-redirect.sigalg-badly-percent-encoded` (`%C0`, a truncated `%E0%A4%A`): an exception the logout
 *   pipeline called SAML_INTERNAL_ERROR; now SAML_TRANSPORT_INVALID.
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
