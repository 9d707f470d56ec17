/**
 * Issue #12 item 5: a refresh token is rotated on every use; presenting an already-rotated one is a reuse:
 * invalid_grant, and the whole family and the session are revoked (the current refresh token and the
 * access tokens stop working), audited (REFRESH_TOKEN_REUSED) and counted.
 */
import test from 'ava';
import { authorizationRequest, RP_REDIRECT } from '../../helpers/gateway-fixture.ts';
import { loginJourney } from '../../helpers/login-journey.ts';
import { startSessionBed, userinfo, type SessionBed } from './session-bed.ts';

let bed: SessionBed;
test.before(async () => {
  bed = await startSessionBed();
});
test.after.always(async () => {
  await bed?.stop();
});

function basic(): string {
  const { client_id, client_secret } = bed.deployment.client;
  return `Basic ${Buffer.from(`${client_id}:${client_secret}`).toString('base64')}`;
}

async function token(body: Record<string, string>): Promise<{ status: number; json: Record<string, string> }> {
  const response = await fetch(`${bed.url}/token`, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded', authorization: basic() }, body: new URLSearchParams(body) });
  return { status: response.status, json: (await response.json()) as Record<string, string> };
}

async function loginTokens(): Promise<Record<string, string>> {
  const request = await authorizationRequest(bed.rp);
  const journey = await loginJourney(request.url, { username: 'jean', redirectUri: RP_REDIRECT });
  const code = journey.url.searchParams.get('code');
  if (!code) throw new Error(`no code: ${journey.url}`);
  const answer = await token({ grant_type: 'authorization_code', code, redirect_uri: RP_REDIRECT, code_verifier: request.verifier });
  if (answer.status !== 200) throw new Error(`token endpoint: ${answer.status} ${JSON.stringify(answer.json)}`);
  return answer.json;
}

test.serial('a refresh rotates the refresh token and gives a working access token', async (t) => {
  const first = await loginTokens();
  t.is(typeof first.refresh_token, 'string');
  const refreshed = await token({ grant_type: 'refresh_token', refresh_token: first.refresh_token! });
  t.is(refreshed.status, 200, JSON.stringify(refreshed.json));
  t.not(refreshed.json.refresh_token, first.refresh_token);
  t.is((await userinfo(bed.url, refreshed.json.access_token!)).status, 200);
  // and the next refresh with the new one works too
  t.is((await token({ grant_type: 'refresh_token', refresh_token: refreshed.json.refresh_token! })).status, 200);
});

test.serial('presenting a rotated refresh token again revokes the family and the session', async (t) => {
  const first = await loginTokens();
  const second = await token({ grant_type: 'refresh_token', refresh_token: first.refresh_token! });
  t.is(second.status, 200);
  t.is((await userinfo(bed.url, second.json.access_token!)).status, 200);

  const reuse = await token({ grant_type: 'refresh_token', refresh_token: first.refresh_token! });
  t.is(reuse.status, 400);
  t.is(reuse.json.error, 'invalid_grant');
  // the current member of the family is dead too, and so is the session's access token
  const current = await token({ grant_type: 'refresh_token', refresh_token: second.json.refresh_token! });
  t.is(current.status, 400);
  t.is(current.json.error, 'invalid_grant');
  t.is((await userinfo(bed.url, second.json.access_token!)).status, 401);

  const audited = await bed.gateway.services.pool.query<{ n: string }>("select count(*) as n from audit_log where error_code = 'REFRESH_TOKEN_REUSED'");
  t.true(Number(audited.rows[0]!.n) >= 1);
  const revoked = await bed.gateway.services.pool.query<{ n: string }>("select count(*) as n from session_revocations where actor = 'refresh-token-reuse'");
  t.true(Number(revoked.rows[0]!.n) >= 1);
});

test.serial('a refresh token is bound to its client: another client presenting it gets invalid_grant', async (t) => {
  const first = await loginTokens();
  const response = await fetch(`${bed.url}/token`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded', authorization: `Basic ${Buffer.from('unknown-rp:not-the-secret-of-anyone-at-all-0000').toString('base64')}` },
    body: new URLSearchParams({ grant_type: 'refresh_token', refresh_token: first.refresh_token! }),
  });
  t.is(response.status, 401);
  // the token still works for its own client
  t.is((await token({ grant_type: 'refresh_token', refresh_token: first.refresh_token! })).status, 200);
});
