/**
 * An answer from the IdP refused when the login cannot be attributed (RelayState posted from another browser) is
 * the error page with its code's status in the error registry, not a blanket 400 (RATE_LIMITED already had its
 * 429): an adapter's `unavailable` kind is a 503 with its code hidden as every 5xx, an `internal` kind a 500 with
 * no code on the page (it was a 400 naming the internal code). Both audited `REJECTED` with their own code.
 */
import test from 'ava';
import { AdapterError } from '../../../adapters/contract.ts';
import type { AdapterErrorCode } from '../../../adapters/errors/registry.ts';
import { errorSpec } from '../../../gateway/error-registry.ts';
import { authorizationRequest, RP_REDIRECT, startGatewayFixture } from '../../helpers/gateway-fixture.ts';
import { loginJourney } from '../../helpers/login-journey.ts';

const codeOf = (html: string) => /<code>([A-Z0-9_]+)<\/code>/.exec(html)?.[1];

test('an unattributed refusal at the ACS: its registry status, audited with its code', async (t) => {
  const fx = await startGatewayFixture();
  t.teardown(() => fx.stop());
  const adapter = fx.gateway.services.adapters.get('demo-idp') as { finishLogin: (...args: never[]) => unknown };
  const original = adapter.finishLogin;
  const answers: Array<{ code: AdapterErrorCode; status: number; page: string | undefined }> = [];
  const journey = await loginJourney((await authorizationRequest(fx.rp)).url, {
    username: 'jean',
    redirectUri: RP_REDIRECT,
    beforeAcs: async (form) => {
      for (const code of ['SAML_IDP_UNAVAILABLE', 'SAML_INTERNAL_ERROR'] as const) {
        adapter.finishLogin = () => Promise.reject(new AdapterError(code, 'injected', { detail: 'test' }));
        // another browser: no binding cookie, so the login named by RelayState is not this request's to fail
        const answer = await fetch(form.action, {
          method: 'POST',
          body: new URLSearchParams(form.fields),
          redirect: 'manual',
        });
        answers.push({ code, status: answer.status, page: codeOf(await answer.text()) });
      }
      adapter.finishLogin = original;
      return form;
    },
  });
  t.true(journey.url.toString().startsWith(RP_REDIRECT), 'the login itself is untouched');
  t.deepEqual(answers, [
    { code: 'SAML_IDP_UNAVAILABLE', status: 503, page: 'INTERNAL' },
    { code: 'SAML_INTERNAL_ERROR', status: 500, page: 'INTERNAL' },
  ]);
  for (const { code, status } of answers) t.is(status, errorSpec(code).status);
  const { rows } = await fx.gateway.services.pool.query<{ error_code: string }>(
    "select error_code from audit_log where to_state = 'REJECTED' order by id",
  );
  t.deepEqual(
    rows.map((r) => r.error_code),
    ['SAML_IDP_UNAVAILABLE', 'SAML_INTERNAL_ERROR'],
  );
});
