/**
 * Issue #12 item 5: a refresh token is rotated on every use; presenting an already-rotated one is a reuse:
 * invalid_grant, and the whole family and the session are revoked (the current refresh token and the
 * access tokens stop working), audited (REFRESH_TOKEN_REUSED) and counted. A refresh token issued with a
 * DPoP proof is bound to that key; a refresh re-runs the RP's deny level against the score of the login behind it.
 */
import test from 'ava';
import { randomUUID } from 'node:crypto';
import { decodeJwt, exportJWK, generateKeyPair, SignJWT, type CryptoKey } from 'jose';
import { authorizationRequest, RP_REDIRECT } from '../../helpers/gateway-fixture.ts';
import { loginJourney } from '../../helpers/login-journey.ts';
import { startSessionBed, userinfo, type SessionBed } from './session-bed.ts';
import { withDpopNonce } from '../../helpers/dpop-proof.ts';

let bed: SessionBed;
/** Another registered RP (the demo RP's entry, its own id; the same secret). */
const OTHER_RP = 'other-rp';
test.before(async () => {
  bed = await startSessionBed({ moreClients: [{ client_id: OTHER_RP }] });
});
test.after.always(async () => {
  await bed?.stop();
});

function basic(): string {
  const { client_id, client_secret } = bed.deployment.client;
  return `Basic ${Buffer.from(`${client_id}:${client_secret}`).toString('base64')}`;
}

type Key = { privateKey: CryptoKey; publicKey: CryptoKey };

async function dpopProof(key: Key, htu: string, nonce?: string): Promise<string> {
  return new SignJWT({ htm: 'POST', htu, jti: randomUUID(), ...(nonce === undefined ? {} : { nonce }) })
    .setProtectedHeader({ alg: 'ES256', typ: 'dpop+jwt', jwk: await exportJWK(key.publicKey) })
    .setIssuedAt()
    .sign(key.privateKey);
}

async function token(
  body: Record<string, string>,
  key?: Key,
): Promise<{ status: number; json: Record<string, string> }> {
  // the gateway asks for its DPoP nonce first (dpop.nonce: required); sent again with it, as openid-client does
  const response = await withDpopNonce(async (nonce) =>
    fetch(`${bed.url}/token`, {
      method: 'POST',
      headers: {
        'content-type': 'application/x-www-form-urlencoded',
        authorization: basic(),
        ...(key ? { dpop: await dpopProof(key, `${bed.url}/token`, nonce) } : {}),
      },
      body: new URLSearchParams(body),
    }),
  );
  return { status: response.status, json: (await response.json()) as Record<string, string> };
}

async function loginTokens(key?: Key, extra: Record<string, string> = {}): Promise<Record<string, string>> {
  const request = await authorizationRequest(bed.rp, extra);
  const journey = await loginJourney(request.url, { username: 'jean', redirectUri: RP_REDIRECT });
  const code = journey.url.searchParams.get('code');
  if (!code) throw new Error(`no code: ${journey.url}`);
  const answer = await token(
    { grant_type: 'authorization_code', code, redirect_uri: RP_REDIRECT, code_verifier: request.verifier },
    key,
  );
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

test.serial('a login that stated a payment gets no refresh token: the stake was scored once', async (t) => {
  // attacker review, twenty-ninth round: its refresh token minted payment access tokens again, never rescored
  const details = [{ type: 'payment_initiation', instructedAmount: { currency: 'EUR', amount: '10.00' } }];
  const tokens = await loginTokens(undefined, { authorization_details: JSON.stringify(details) });
  t.is(typeof tokens.access_token, 'string');
  t.deepEqual(tokens.authorization_details, details as never, 'the payment was granted');
  t.false('refresh_token' in tokens, 'no refresh token');
  t.is(typeof (await loginTokens()).refresh_token, 'string', 'a login without a stake still gets one');
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

  const audited = await bed.gateway.services.pool.query<{ n: string }>(
    "select count(*) as n from audit_log where error_code = 'REFRESH_TOKEN_REUSED'",
  );
  t.true(Number(audited.rows[0]!.n) >= 1);
  const revoked = await bed.gateway.services.pool.query<{ n: string }>(
    "select count(*) as n from session_revocations where actor = 'refresh-token-reuse'",
  );
  t.true(Number(revoked.rows[0]!.n) >= 1);
});

test.serial(
  'its own RP introspecting or revoking a rotated refresh token finds nothing and signs nobody out',
  async (t) => {
    // RFC 7009 lets an RP revoke a token it holds, a stale one too (at its logout): only using a rotated refresh token
    // to get tokens is a sign of theft (attacker review, twenty-ninth round: either call ended the person's session
    // at every RP, back-channel logout and CAEP included)
    const first = await loginTokens();
    const second = await token({ grant_type: 'refresh_token', refresh_token: first.refresh_token! });
    t.is(second.status, 200);
    const asItself = (path: string, body: Record<string, string>) =>
      fetch(`${bed.url}${path}`, {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded', authorization: basic() },
        body: new URLSearchParams(body),
      });
    const introspected = await asItself('/token/introspection', { token: first.refresh_token! });
    t.false(((await introspected.json()) as { active: boolean }).active);
    const revoked = await asItself('/token/revocation', {
      token: first.refresh_token!,
      token_type_hint: 'refresh_token',
    });
    t.is(revoked.status, 200);
    await revoked.body?.cancel();
    t.is((await userinfo(bed.url, second.json.access_token!)).status, 200, 'the session stands');
    const next = await token({ grant_type: 'refresh_token', refresh_token: second.json.refresh_token! });
    t.is(next.status, 200, JSON.stringify(next.json));
  },
);

test.serial('a refresh token is bound to its client: another client presenting it gets invalid_grant', async (t) => {
  const first = await loginTokens();
  const response = await fetch(`${bed.url}/token`, {
    method: 'POST',
    headers: {
      'content-type': 'application/x-www-form-urlencoded',
      authorization: `Basic ${Buffer.from('unknown-rp:not-the-secret-of-anyone-at-all-0000').toString('base64')}`,
    },
    body: new URLSearchParams({ grant_type: 'refresh_token', refresh_token: first.refresh_token! }),
  });
  t.is(response.status, 401);
  // the token still works for its own client
  t.is((await token({ grant_type: 'refresh_token', refresh_token: first.refresh_token! })).status, 200);
});

test.serial(
  "another RP presenting a client's rotated refresh token acts on nothing: not a reuse, the session stands",
  async (t) => {
    const first = await loginTokens();
    const second = await token({ grant_type: 'refresh_token', refresh_token: first.refresh_token! });
    t.is(second.status, 200);
    const { client_secret } = bed.deployment.client;
    const asOther = (path: string, body: Record<string, string>) =>
      fetch(`${bed.url}${path}`, {
        method: 'POST',
        headers: {
          'content-type': 'application/x-www-form-urlencoded',
          authorization: `Basic ${Buffer.from(`${OTHER_RP}:${client_secret}`).toString('base64')}`,
        },
        body: new URLSearchParams(body),
      });
    const reused = await asOther('/token', { grant_type: 'refresh_token', refresh_token: first.refresh_token! });
    t.is(reused.status, 400);
    t.is(((await reused.json()) as { error: string }).error, 'invalid_grant');
    const introspected = await asOther('/token/introspection', { token: first.refresh_token! });
    t.false(((await introspected.json()) as { active: boolean }).active);
    t.is((await asOther('/token/revocation', { token: first.refresh_token! })).status, 200);
    // the person's session and the family's current members stand
    t.is((await userinfo(bed.url, second.json.access_token!)).status, 200);
    const next = await token({ grant_type: 'refresh_token', refresh_token: second.json.refresh_token! });
    t.is(next.status, 200, JSON.stringify(next.json));
    // its own client presenting it is a reuse, as before
    t.is((await token({ grant_type: 'refresh_token', refresh_token: first.refresh_token! })).status, 400);
    t.is((await userinfo(bed.url, next.json.access_token!)).status, 401);
  },
);

test.serial('a refresh token issued with a DPoP proof is bound to that key (cnf.jkt)', async (t) => {
  const key = await generateKeyPair('ES256');
  const other = await generateKeyPair('ES256');
  const first = await loginTokens(key);
  t.is(first.token_type, 'DPoP');
  const without = await token({ grant_type: 'refresh_token', refresh_token: first.refresh_token! });
  t.is(without.status, 400);
  t.is(without.json.error, 'invalid_grant');
  const wrongKey = await token({ grant_type: 'refresh_token', refresh_token: first.refresh_token! }, other);
  t.is(wrongKey.status, 400);
  t.is(wrongKey.json.error, 'invalid_grant');
  const rotated = await token({ grant_type: 'refresh_token', refresh_token: first.refresh_token! }, key);
  t.is(rotated.status, 200, JSON.stringify(rotated.json));
  // the rotated token keeps the binding
  t.is((await token({ grant_type: 'refresh_token', refresh_token: rotated.json.refresh_token! }, other)).status, 400);
  t.is((await token({ grant_type: 'refresh_token', refresh_token: rotated.json.refresh_token! }, key)).status, 200);
});

test.serial(
  "a refresh refused by the risk policy on a session now another person's ends the token's grant, not that session",
  async (t) => {
    const first = await loginTokens();
    const sid = String(decodeJwt(first.id_token!).sid);
    const { sessions, accounts, pool } = bed.gateway.services;
    const session = await sessions.store.findSession<{
      accountId: string;
      authorizations: Record<string, { grantId: string }>;
    }>('sid', sid);
    const accountId = session!.payload.accountId;
    const grantId = session!.payload.authorizations[bed.deployment.client.client_id]!.grantId;
    // two people's logins at once on this browser: PostgreSQL has the session as the other person's save left it,
    // Redis still jean's copy for a moment (the token guard reads Redis: the refresh reaches the risk policy)
    await pool.query('update session_records set account_key = $1 where record_key = $2 and valid_to is null', [
      sessions.store.keys.key('account', 'someone-else'),
      session!.record.recordKey,
    ]);
    const account = await accounts.load(accountId);
    // the score of this session's own login (the newest of jean's): what its refresh token is judged on
    await accounts.save(accountId, { ...account!, fraudScore: 1 }, account!.evidence![0]);
    try {
      const refused = await token({ grant_type: 'refresh_token', refresh_token: first.refresh_token! });
      t.is(refused.json.error, 'invalid_grant');
      const row = await sessions.store.durable.get(session!.record.recordKey);
      t.is(row?.state, 'active', "the other person's session is not revoked");
      const grantKey = sessions.store.keys.key('Grant', grantId);
      t.deepEqual(await sessions.store.durable.keysOfGrant(grantKey), [], "jean's grant ended");
      const audited = await pool.query(
        `select 1 from audit_log where error_code = 'REFRESH_RISK_TOO_HIGH'
          and details->>'sessionOfAnotherPerson' = 'true' and details->>'sessionsRevoked' = '0'`,
      );
      t.is(audited.rowCount, 1);
      const ended = await pool.query(
        "select 1 from audit_log where to_state = 'GRANT_ENDED' and error_code = 'REFRESH_RISK_TOO_HIGH'",
      );
      t.is(ended.rowCount, 1);
    } finally {
      await accounts.save(accountId, account!, account!.evidence![0]); // the score as it was, for the tests after
    }
  },
);

// last: it raises jean's score for the rest of the file
test.serial(
  "a refresh after the score of its login rose to the RP's deny level is refused and ends the session",
  async (t) => {
    const first = await loginTokens();
    const sid = String(decodeJwt(first.id_token!).sid);
    const { sessions, accounts } = bed.gateway.services;
    const session = await sessions.store.findSession<{ accountId: string }>('sid', sid);
    const account = await accounts.load(session!.payload.accountId);
    // what a later login on this session (SSO) records of it (the permissive policy denies at 1)
    await accounts.save(session!.payload.accountId, { ...account!, fraudScore: 1 }, account!.evidence![0]);
    const refused = await token({ grant_type: 'refresh_token', refresh_token: first.refresh_token! });
    t.is(refused.status, 400);
    t.is(refused.json.error, 'invalid_grant');
    t.is((await userinfo(bed.url, first.access_token!)).status, 401);
    const audited = await bed.gateway.services.pool.query<{ n: string }>(
      "select count(*) as n from audit_log where to_state = 'TOKEN_REFUSED' and error_code = 'REFRESH_RISK_TOO_HIGH' and details->>'sessionOfAnotherPerson' is null",
    );
    t.is(Number(audited.rows[0]!.n), 1);
  },
);
