/**
 * An IdP may say when the person's session with it ends (SAML Core §2.7.2, AuthnStatement/@SessionNotOnOrAfter).
 * The gateway ignored it (reviewer finding, twenty-seventh round): its session, SSO to other RPs and refreshes went
 * on for the gateway's own session life. Now, with the samlify demo IdP saying so:
 * - an assertion whose SessionNotOnOrAfter has passed is refused (`SAML_EXPIRED`): no code;
 * - a login whose IdP session ends in ten minutes is allowed, and its session keeps that end; once that moment has
 *   passed (moved into the past in the record, not waited for), an SSO login on its session goes upstream again (no code from the session), and its refresh token is refused
 *   (`REFRESH_UPSTREAM_SESSION_OVER`, audited, its grant ended).
 */
import test from 'ava';
import { decodeJwt } from 'jose';
import { authorizationRequest, RP_REDIRECT } from '../../helpers/gateway-fixture.ts';
import { loginJourney } from '../../helpers/login-journey.ts';
import { startSessionBed, tokenEndpoint as tokenRequest, type SessionBed } from './session-bed.ts';

let bed: SessionBed;
test.before(async () => {
  bed = await startSessionBed();
});
test.after.always(async () => {
  await bed?.stop();
});

const tokenEndpoint = (body: Record<string, string>) => tokenRequest(bed, body);

test.serial('an assertion whose IdP session has already ended is refused: no code', async (t) => {
  bed.deployment.idp.setResponseOverrides({ sessionNotOnOrAfter: new Date(Date.now() - 60_000) });
  const request = await authorizationRequest(bed.rp);
  const journey = await loginJourney(request.url, { username: 'jean', redirectUri: RP_REDIRECT });
  t.is(journey.url.searchParams.get('code'), null);
  const { rows } = await bed.gateway.services.pool.query<{ error_code: string }>(
    "select error_code from audit_log where to_state = 'FAILED' order by id desc limit 1",
  );
  t.is(rows[0]?.error_code, 'SAML_EXPIRED');
});

test.serial('past the end the IdP gave, no SSO login and no refresh stand on the login', async (t) => {
  const end = new Date(Date.now() + 600_000);
  bed.deployment.idp.setResponseOverrides({ sessionNotOnOrAfter: end });
  const request = await authorizationRequest(bed.rp);
  const journey = await loginJourney(request.url, { username: 'jean', redirectUri: RP_REDIRECT });
  const code = journey.url.searchParams.get('code');
  t.truthy(code, 'allowed while the IdP session lasts');
  const tokens = await tokenEndpoint({
    grant_type: 'authorization_code',
    code: code!,
    redirect_uri: RP_REDIRECT,
    code_verifier: request.verifier,
  });
  t.truthy(tokens.refresh_token);
  bed.deployment.idp.setResponseOverrides(undefined);
  // the session keeps the end the IdP gave; then that moment passes (moved into the past here, not waited for)
  const { accounts, sessions } = bed.gateway.services;
  const session = await sessions.store.findSession<{ accountId: string }>(
    'sid',
    String(decodeJwt(tokens.id_token!).sid),
  );
  const account = (await accounts.load(session!.payload.accountId))!;
  const own = account.evidence![0]!;
  t.is(own.sessionNotOnOrAfter, Math.floor(end.getTime() / 1000));
  await accounts.save(session!.payload.accountId, account, {
    ...own,
    sessionNotOnOrAfter: Math.floor(Date.now() / 1000) - 1,
  });

  const sso = await journey.browser.follow(
    (await authorizationRequest(bed.rp)).url,
    {},
    (u) => u.href.startsWith(RP_REDIRECT) || u.href.startsWith(bed.deployment.idp.url),
  );
  await sso.response.body?.cancel();
  t.is(sso.url.searchParams.get('code'), null, 'no code from the session');
  t.false(sso.url.href.startsWith(RP_REDIRECT), `sent upstream: ${sso.url.href}`);

  const refreshed = await tokenEndpoint({ grant_type: 'refresh_token', refresh_token: tokens.refresh_token! });
  t.is(refreshed.error, 'invalid_grant');
  const { rows } = await bed.gateway.services.pool.query(
    "select details->>'sessionsRevoked' as revoked from audit_log where to_state = 'TOKEN_REFUSED' and error_code = 'REFRESH_UPSTREAM_SESSION_OVER'",
  );
  t.deepEqual(rows, [{ revoked: '0' }], 'its grant ended, not the session: it may stand on a newer login by now');
  const ended = await bed.gateway.services.pool.query(
    "select 1 from audit_log where to_state = 'GRANT_ENDED' and error_code = 'REFRESH_UPSTREAM_SESSION_OVER'",
  );
  t.is(ended.rows.length, 1);
});
