/**
 * An AuthnRequest the gateway cannot sign now — the HSM's only session held, no caller may wait (`HSM_BUSY`
 * under the adapter's `SAML_SIGNING_FAILED`) — is the registry's 503 with Retry-After (it was a 500), audited
 * on the login with `HSM_BUSY`, and the login stays where it was: once the HSM is free, the person's retry
 * of the same step sends them to the IdP.
 */
import test from 'ava';
import type { Pkcs11Token } from '../../../hsm/pkcs11/token.ts';
import { authorizationRequest, startGatewayFixture } from '../../helpers/gateway-fixture.ts';
import { Browser, formsIn } from '../../helpers/browser.ts';

test('an AuthnRequest met by HSM_BUSY: 503 with Retry-After, audited HSM_BUSY, the login retried afterwards', async (t) => {
  const fx = await startGatewayFixture({
    boot: { fraud: { checkpointMs: 0 } },
    rawConfig: (raw) => {
      raw.hsm = { ...(raw.hsm as object), poolSize: 1, maxWaiting: 0 };
    },
  });
  let release: (() => void) | undefined;
  t.teardown(async () => {
    release?.();
    await fx.stop();
  });
  const browser = new Browser();
  const request = await authorizationRequest(fx.rp);
  const chooserStep = await browser.follow(request.url, {}, () => false);
  const chooserHtml = await chooserStep.response.text();
  t.regex(chooserStep.url.pathname, /^\/interaction\//, 'at the chooser');
  const loginId = chooserStep.url.pathname.split('/')[2]!;
  const chooser = formsIn(chooserHtml).find((f) => f.action.endsWith('/idp'));
  if (!chooser) return t.fail(`no chooser: ${chooserHtml.slice(0, 300)}`);

  const token = (fx.gateway.services.keys as unknown as { tokens: { token: Pkcs11Token } }).tokens.token;
  const holding = token.run(() => new Promise<void>((resolve) => (release = resolve)));
  const busy = await browser.submit(chooser, chooserStep.url, { idp: 'demo-idp' }, () => false);
  const busyHtml = await busy.response.text();
  release!();
  await holding;
  t.is(busy.response.status, 503, busyHtml.slice(0, 300));
  t.is(busy.response.headers.get('retry-after'), '2');
  const { rows } = await fx.gateway.services.pool.query<{ to_state: string; error_code: string | null }>(
    'select to_state, error_code from audit_log where session_id = $1 order by id',
    [loginId],
  );
  t.like(rows.at(-1), { to_state: 'AUTHN_REQUEST_UNSENT', error_code: 'HSM_BUSY' }, 'audited on the login');
  t.is((await fx.gateway.services.flow.get(loginId))?.state, 'INITIATED', 'the login is where it was');

  const again = await browser.submit(chooser, chooserStep.url, { idp: 'demo-idp' }, () => false);
  const againHtml = await again.response.text();
  t.is(again.response.status, 200);
  t.true(
    formsIn(againHtml).some((f) => f.fields.SAMLRequest !== undefined),
    'the retry posts the AuthnRequest to the IdP',
  );
});
