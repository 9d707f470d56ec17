/**
 * An IdP the operator disables (`idps disable`, `idps remove`: a compromised key) or whose `maxLoa` is lowered no
 * longer vouches for the logins it made earlier (gateway/idps/idp-still-vouches.ts). Before, the adapter refused its
 * new logins and answers, but SSO on a session it had made went on for the session's life, for every RP it served,
 * and so did refreshes:
 *
 * - an SSO login on a session whose IdP is disabled gives no code: the person would log in again (here, with the
 *   demo's only IdP disabled, none is left: the RP hears `unmet_authentication_requirements`);
 * - its refresh token is refused while the IdP is withdrawn (`REFRESH_IDP_WITHDRAWN`, audited; the grant kept, so
 *   that a forged disable, undone by the registry within 30 s, ends nothing for good);
 * - once the IdP is enabled again, a new login works as before;
 * - the rule itself, over its cases (unknown, disabled, only unavailable, not for this RP, a level above `maxLoa`).
 */
import test from 'ava';
import type { UpstreamAdapter } from '../../../adapters/contract.ts';
import { idpNoLongerVouches } from '../../../gateway/idps/idp-still-vouches.ts';
import { authorizationRequest, RP_REDIRECT } from '../../helpers/gateway-fixture.ts';
import { loginJourney } from '../../helpers/login-journey.ts';
import { startSessionBed, tokenEndpoint as tokenRequest, type SessionBed } from './session-bed.ts';

const SUBSTANTIAL = 'http://eidas.europa.eu/LoA/substantial';

test('the rule: what a configured IdP still vouches for', (t) => {
  const idp = (over: Partial<UpstreamAdapter> & { availability?: () => string }) =>
    ({ id: 'x', maxLoa: SUBSTANTIAL, ...over }) as unknown as UpstreamAdapter;
  t.is(idpNoLongerVouches([], 'x', 'rp', 'eidas2'), 'idp_unknown');
  t.is(idpNoLongerVouches([idp({ availability: () => 'disabled' })], 'x', 'rp', 'eidas2'), 'idp_disabled');
  t.is(idpNoLongerVouches([idp({ availability: () => 'unavailable' })], 'x', 'rp', 'eidas2'), null);
  t.is(idpNoLongerVouches([idp({ onlyClients: ['other'] })], 'x', 'rp', 'eidas2'), 'idp_not_for_client');
  t.is(idpNoLongerVouches([idp({})], 'x', 'rp', 'eidas3'), 'above_idp_max_loa');
  t.is(idpNoLongerVouches([idp({})], 'x', 'rp', 'eidas2'), null);
  t.is(idpNoLongerVouches([idp({})], 'x', 'rp', 'eidas1'), null);
});

let bed: SessionBed;
test.before(async () => {
  bed = await startSessionBed();
});
test.after.always(async () => {
  await bed?.stop();
});

const tokenEndpoint = (body: Record<string, string>) => tokenRequest(bed, body);

test.serial('a disabled IdP’s sessions give no SSO login and its refresh tokens are refused', async (t) => {
  const request = await authorizationRequest(bed.rp);
  const journey = await loginJourney(request.url, { username: 'jean', redirectUri: RP_REDIRECT });
  const code = journey.url.searchParams.get('code');
  t.truthy(code);
  const tokens = await tokenEndpoint({
    grant_type: 'authorization_code',
    code: code!,
    redirect_uri: RP_REDIRECT,
    code_verifier: request.verifier,
  });
  t.truthy(tokens.refresh_token);

  const monitor = bed.gateway.services.adapters.monitor!;
  monitor.disable('demo-idp');
  try {
    const sso = await journey.browser.follow(
      (await authorizationRequest(bed.rp)).url,
      {},
      (u) => u.href.startsWith(RP_REDIRECT) || u.href.startsWith(bed.deployment.idp.url),
    );
    await sso.response.body?.cancel();
    t.is(sso.url.searchParams.get('code'), null, 'no code from a session the disabled IdP made');
    // the demo's only IdP is disabled: no IdP is left for the level asked, which the RP hears as an error
    t.is(sso.url.searchParams.get('error'), 'unmet_authentication_requirements', sso.url.href);

    const refreshed = await tokenEndpoint({ grant_type: 'refresh_token', refresh_token: tokens.refresh_token! });
    t.is(refreshed.error, 'invalid_grant');
    const { rows } = await bed.gateway.services.pool.query(
      "select 1 from audit_log where to_state = 'TOKEN_REFUSED' and error_code = 'REFRESH_IDP_WITHDRAWN'",
    );
    t.is(rows.length, 1);
    const ended = await bed.gateway.services.pool.query(
      "select 1 from audit_log where to_state = 'GRANT_ENDED' and error_code = 'REFRESH_IDP_WITHDRAWN'",
    );
    t.is(ended.rows.length, 0, 'its grant kept: refused while the IdP is withdrawn (a forged disable ends nothing)');
  } finally {
    monitor.enable('demo-idp');
  }
  const refreshed = await tokenEndpoint({ grant_type: 'refresh_token', refresh_token: tokens.refresh_token! });
  t.truthy(refreshed.access_token, 'enabled again, its refresh works');
  const again = await loginJourney((await authorizationRequest(bed.rp)).url, {
    username: 'jean',
    redirectUri: RP_REDIRECT,
  });
  t.truthy(again.url.searchParams.get('code'), 'enabled again, a login works');
});
