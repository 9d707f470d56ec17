/**
 * Every token is served the identity, the score and the IdP of the login behind it, never those of the person's
 * latest login elsewhere (reviewer finding, twenty-seventh round). A person's record is one per person (the pivot
 * identity makes the account, whichever IdP asserted it), and every login rewrote it: a later login of "the same"
 * person at another IdP (another device, or someone holding that identity at a weaker IdP) changed what the first
 * login's tokens were served.
 *
 * Here jean logs in at the demo IdP (LoA high, jean.martin@example.org), then someone logs in as jean at a second
 * samlify IdP that asserts the same pivot identity at LoA substantial with another email and username:
 * - the first login's userinfo, its refreshed ID token and access token keep its own email, acr and score;
 * - the second login's tokens are served the second login's claims;
 * - the first session still stands on the demo IdP after any request re-saved it: revoking every session of the
 *   demo IdP reaches it (and not the second one), and its refresh token stops working;
 * - a token whose login the person's record no longer keeps (more later logins than it keeps) is served only the
 *   claims that make the account, and its refresh is refused (`REFRESH_LOGIN_UNKNOWN`), never judged on another
 *   login's score and IdP.
 */
import test from 'ava';
import { decodeJwt } from 'jose';
import { demoUsers, type DemoUser } from '../../../conformance/saml-idp/index.ts';
import type { Browser } from '../../helpers/browser.ts';
import { authorizationRequest, RP_REDIRECT } from '../../helpers/gateway-fixture.ts';
import { loginJourney } from '../../helpers/login-journey.ts';
import { startIdpsBed, type IdpsBed } from './idps-bed.ts';
import { userinfo } from './session-bed.ts';

/** jean as the second IdP knows him: the same pivot identity, another email and username, LoA substantial. */
const otherJean: readonly DemoUser[] = demoUsers.map((u) =>
  u.username === 'jean'
    ? {
        ...u,
        loa: 'substantial',
        nameId: 'second-idp-jean',
        email: 'someone-else@example.net',
        preferred_username: 'not-jean',
      }
    : u,
);

let beds: IdpsBed;
test.before(async () => {
  beds = await startIdpsBed(1, { users: otherJean });
});
test.after.always(async () => {
  await beds?.stop();
});

interface Tokens {
  access_token: string;
  id_token: string;
  refresh_token: string;
}

function basic(): string {
  const { client_id, client_secret } = beds.bed.deployment.client;
  return `Basic ${Buffer.from(`${client_id}:${client_secret}`).toString('base64')}`;
}

async function tokenEndpoint(
  body: Record<string, string>,
): Promise<{ status: number; json: Tokens & { error?: string } }> {
  const response = await fetch(`${beds.bed.url}/token`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded', authorization: basic() },
    body: new URLSearchParams(body),
  });
  return { status: response.status, json: (await response.json()) as Tokens & { error?: string } };
}

/** jean logs in at `idp` in a browser of his own: the tokens, and the browser (its session). */
async function logInAt(idp: string): Promise<{ tokens: Tokens; browser: Browser }> {
  const request = await authorizationRequest(beds.bed.rp);
  const journey = await loginJourney(request.url, { username: 'jean', redirectUri: RP_REDIRECT, idp });
  const code = journey.url.searchParams.get('code');
  if (!code) throw new Error(`no code: ${journey.url}`);
  const answer = await tokenEndpoint({
    grant_type: 'authorization_code',
    code,
    redirect_uri: RP_REDIRECT,
    code_verifier: request.verifier,
  });
  if (answer.status !== 200) throw new Error(`token endpoint: ${answer.status} ${JSON.stringify(answer.json)}`);
  return { tokens: answer.json, browser: journey.browser };
}

test.serial(
  "a login's tokens keep its own claims, score and IdP after a login of the same person elsewhere",
  async (t) => {
    const first = await logInAt('demo-idp');
    const firstClaims = decodeJwt(first.tokens.id_token);
    t.like(firstClaims, { email: 'jean.martin@example.org', acr: 'eidas3' });
    const firstScore = decodeJwt(first.tokens.access_token).fraud_score;

    const second = await logInAt('second-idp');
    t.like(decodeJwt(second.tokens.id_token), {
      sub: firstClaims.sub,
      email: 'someone-else@example.net',
      acr: 'eidas2',
    });

    const served = await userinfo(beds.bed.url, first.tokens.access_token);
    t.is(served.status, 200);
    t.is(served.claims?.email, 'jean.martin@example.org', "the first login's access token: its own email");
    t.is(served.claims?.preferred_username, undefined, 'and not the other login’s username');
    t.is((await userinfo(beds.bed.url, second.tokens.access_token)).claims?.email, 'someone-else@example.net');

    const refreshed = await tokenEndpoint({ grant_type: 'refresh_token', refresh_token: first.tokens.refresh_token });
    t.is(refreshed.status, 200, JSON.stringify(refreshed.json));
    t.like(decodeJwt(refreshed.json.id_token), { email: 'jean.martin@example.org', acr: 'eidas3' });
    t.like(decodeJwt(refreshed.json.access_token), { acr: 'eidas3', fraud_score: firstScore });
    t.is(decodeJwt(refreshed.json.access_token).auth_time, firstClaims.auth_time, 'the login it names');
    t.is((await userinfo(beds.bed.url, refreshed.json.access_token)).claims?.email, 'jean.martin@example.org');

    // any request that reads the first session saves it again (here the logout page, not confirmed): it still
    // stands on the demo IdP, and revoking that IdP's sessions reaches it, not the second login's
    const page = await first.browser.follow(new URL(`${beds.bed.url}/session/end`), {}, () => true);
    await page.response.body?.cancel();
    const result = await beds.bed.gateway.services.sessions.revoker.revokeAllOfIdp('demo-idp', {
      actor: 'test',
      reason: 'the demo IdP was compromised',
    });
    t.true(result.sessions >= 1);
    const after = await tokenEndpoint({ grant_type: 'refresh_token', refresh_token: refreshed.json.refresh_token });
    t.is(after.json.error, 'invalid_grant', "the first session's refresh token stops working");
    t.is((await userinfo(beds.bed.url, second.tokens.access_token)).status, 200, 'the second login is not of that IdP');
  },
);

test.serial(
  'a token whose login the record no longer keeps gets only the claims that make the account, and no refresh',
  async (t) => {
    const { tokens } = await logInAt('demo-idp');
    const { accounts, pool } = beds.bed.gateway.services;
    const accountId = await accountOf(tokens.id_token);
    const account = (await accounts.load(accountId))!;
    const own = account.evidence![0]!;
    // eight later logins of the person (other devices): the record keeps eight, this one's is dropped
    for (let i = 1; i <= 8; i++)
      await accounts.save(accountId, account, { ...own, loginId: `later-${i}`, authTime: own.authTime + i });
    const served = await userinfo(beds.bed.url, tokens.access_token);
    t.is(served.status, 200);
    t.is(served.claims?.family_name, 'Martin', 'the claims that make the account');
    t.is(served.claims?.email, undefined, 'no email of another login');
    const refused = await tokenEndpoint({ grant_type: 'refresh_token', refresh_token: tokens.refresh_token });
    t.is(refused.json.error, 'invalid_grant');
    const { rows } = await pool.query(
      "select 1 from audit_log where to_state = 'TOKEN_REFUSED' and error_code = 'REFRESH_LOGIN_UNKNOWN'",
    );
    t.is(rows.length, 1, 'audited');
  },
);

/** The account id of an ID token's session (its `sid`). */
async function accountOf(idToken: string): Promise<string> {
  const session = await beds.bed.gateway.services.sessions.store.findSession<{ accountId: string }>(
    'sid',
    String(decodeJwt(idToken).sid),
  );
  return session!.payload.accountId;
}

test.serial(
  'a login the IdP answered from an older session of its own keeps its entry (counted from the login)',
  async (t) => {
    const { tokens } = await logInAt('demo-idp');
    const { accounts } = beds.bed.gateway.services;
    const accountId = await accountOf(tokens.id_token);
    const account = (await accounts.load(accountId))!;
    const own = account.evidence![0]!;
    // the same login, as if the IdP's AuthnInstant were days old (an IdP session older than a gateway session lives)
    const old = { ...own, loginId: 'answered-from-an-old-idp-session', authTime: own.authTime - 5 * 86_400 };
    const { savedAt: _savedAt, ...fresh } = old;
    await accounts.save(accountId, account, fresh);
    const view = await accounts.ofLogin(accountId, { acr: old.acr, authTime: old.authTime });
    t.true(view?.known, 'its tokens are still served their own login');
  },
);
