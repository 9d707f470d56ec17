/**
 * A DPoP-bound access token (`cnf.jkt`) presented at userinfo without a proof of its key, or with another key's
 * proof, is refused before the token guard sees it (`gateway/oidc/proof-of-possession.ts`): whoever holds a stolen
 * bound token but not its key makes the gateway audit nothing and end nothing. Before, oidc-provider checked the
 * binding only after the find, where the guard had already audited the token of a revoked session (`TOKEN_REFUSED`)
 * and ended the grant of a token that is now another person's. The RP sees the same refusal as before
 * (`invalid_token`). Its own key's proof still gets the claims, and the guard's refusal once revoked. The key's
 * thumbprint is RFC 7638's for every DPoP algorithm the gateway accepts. The gateway's own resource route, the signed
 * risk assessment, verifies the proof itself (`api/dpop-proof.ts`): before, it gave a bound token presented as a
 * bearer token its assessment; a proof replayed is refused before the find too (before, the guard audited the revoked
 * session's token first). Real gateway, Redis, PostgreSQL, SoftHSM2.
 */
import test from 'ava';
import { calculateJwkThumbprint, exportJWK, generateKeyPair } from 'jose';
import { DPOP_ALGORITHMS, proofKeyThumbprint } from '../../../gateway/oidc/proof-of-possession.ts';
import { authorizationRequest, RP_REDIRECT } from '../../helpers/gateway-fixture.ts';
import { loginJourney } from '../../helpers/login-journey.ts';
import { dpopProof, type DpopKey } from '../../helpers/dpop-proof.ts';
import { redeem, startSessionBed, type SessionBed } from '../session/session-bed.ts';

type Key = DpopKey;

let bed: SessionBed;
test.before(async () => {
  bed = await startSessionBed();
});
test.after.always(async () => {
  await bed?.stop();
});

const proof = dpopProof;

/**
 * jean logs in; the RP redeems the code with a DPoP proof of `key` (none: a bearer token): the access token and its
 * session's sid.
 */
async function boundLogin(key?: Key): Promise<{ accessToken: string; sid: string }> {
  const request = await authorizationRequest(bed.rp);
  const journey = await loginJourney(request.url, { username: 'jean', redirectUri: RP_REDIRECT });
  const code = journey.url.searchParams.get('code');
  if (!code) throw new Error(`no code: ${journey.url}`);
  const dpop = key ? (nonce?: string) => proof(key, 'ES256', 'POST', `${bed.url}/token`, undefined, nonce) : undefined;
  const tokens = await redeem(bed, code, request.verifier, dpop);
  if (tokens.token_type !== (key ? 'DPoP' : 'Bearer')) throw new Error(`token: ${JSON.stringify(tokens)}`);
  const sid = JSON.parse(Buffer.from(tokens.id_token.split('.')[1]!, 'base64url').toString('utf8')) as { sid: string };
  return { accessToken: tokens.access_token, sid: sid.sid };
}

/**
 * userinfo with the bound token: with a proof of `key` (the DPoP scheme), or none (as a bearer token, what a thief
 * without the key does): the status and the error it names.
 */
async function userinfoWith(accessToken: string, key?: Key): Promise<{ status: number; error?: string }> {
  const headers: Record<string, string> = key
    ? { authorization: `DPoP ${accessToken}`, dpop: await proof(key, 'ES256', 'GET', `${bed.url}/me`, accessToken) }
    : { authorization: `Bearer ${accessToken}` };
  const response = await fetch(`${bed.url}/me`, { headers });
  await response.body?.cancel();
  const error = /error="([a-z_]+)"/.exec(response.headers.get('www-authenticate') ?? '')?.[1];
  return { status: response.status, ...(error ? { error } : {}) };
}

/** The token guard's refusals audited so far. */
async function tokenRefusals(): Promise<string[]> {
  const { rows } = await bed.gateway.services.pool.query<{ error_code: string }>(
    "select error_code from audit_log where to_state = 'TOKEN_REFUSED' order by id",
  );
  return rows.map((r) => r.error_code);
}

test.serial(
  'a bound token of a revoked session, without its key, is refused and makes the guard act on nothing',
  async (t) => {
    const key = await generateKeyPair('ES256');
    const other = await generateKeyPair('ES256');
    const { accessToken, sid } = await boundLogin(key);
    t.is((await userinfoWith(accessToken, key)).status, 200, "its own key's proof gets the claims");
    t.deepEqual(await userinfoWith(accessToken), { status: 401, error: 'invalid_token' }, 'no proof');
    t.deepEqual(await userinfoWith(accessToken, other), { status: 401, error: 'invalid_token' }, "another key's proof");

    await bed.gateway.services.sessions.revoker.revokeSession({ sid }, { actor: 'test', reason: 'test' });
    const before = await tokenRefusals();
    t.deepEqual(await userinfoWith(accessToken), { status: 401, error: 'invalid_token' });
    t.deepEqual(await userinfoWith(accessToken, other), { status: 401, error: 'invalid_token' });
    t.deepEqual(await tokenRefusals(), before, 'nothing audited for a presentation without the key');

    t.deepEqual(await userinfoWith(accessToken, key), { status: 401, error: 'invalid_token' });
    t.deepEqual(await tokenRefusals(), [...before, 'SESSION_REVOKED'], "with its key's proof, the guard refuses it");
  },
);

/**
 * The signed risk assessment with a token: as a bearer token, or with `proof` (the `scheme` given, `DPoP` by default).
 * A refusal for want of a proof carries a `DPoP` challenge.
 */
async function assessment(
  accessToken: string,
  proofValue?: string,
  scheme = proofValue ? 'DPoP' : 'Bearer',
): Promise<{ status: number; code?: string }> {
  const headers: Record<string, string> = { authorization: `${scheme} ${accessToken}` };
  if (proofValue) headers.dpop = proofValue;
  const response = await fetch(`${bed.url}/risk/assessment`, { headers });
  const body = await response.text();
  const code = /RISK_ASSESSMENT_[A-Z_]+/.exec(body)?.[0];
  if (code === 'RISK_ASSESSMENT_PROOF_INVALID' && !response.headers.get('www-authenticate')?.startsWith('DPoP '))
    throw new Error('a refusal for want of a proof without its DPoP challenge');
  return { status: response.status, ...(response.status === 200 ? {} : { code }) };
}

test.serial(
  'the signed risk assessment of a bound token needs a fresh proof of its key, else the guard acts on nothing',
  async (t) => {
    const key = await generateKeyPair('ES256');
    const other = await generateKeyPair('ES256');
    const { accessToken, sid } = await boundLogin(key);
    const url = `${bed.url}/risk/assessment`;
    const refused = { status: 401, code: 'RISK_ASSESSMENT_PROOF_INVALID' };

    const own = await proof(key, 'ES256', 'GET', url, accessToken);
    t.is((await assessment(accessToken, own)).status, 200, "its own key's proof gets the assessment");
    const lower = await proof(key, 'ES256', 'GET', url, accessToken);
    t.is((await assessment(accessToken, lower, 'dpop')).status, 200, 'the scheme in any case');
    t.deepEqual(await assessment(accessToken, own), refused, 'the same proof again');
    t.deepEqual(await assessment(accessToken), refused, 'as a bearer token, without its key');
    t.deepEqual(await assessment(accessToken, await proof(other, 'ES256', 'GET', url, accessToken)), refused);
    t.deepEqual(await assessment(accessToken, await proof(key, 'ES256', 'POST', url, accessToken)), refused, 'htm');
    t.deepEqual(await assessment(accessToken, await proof(key, 'ES256', 'GET', `${bed.url}/me`, accessToken)), refused);
    t.deepEqual(await assessment(accessToken, await proof(key, 'ES256', 'GET', url)), refused, 'no ath');

    await bed.gateway.services.sessions.revoker.revokeSession({ sid }, { actor: 'test', reason: 'test' });
    const before = await tokenRefusals();
    t.deepEqual(await assessment(accessToken), refused);
    t.deepEqual(await assessment(accessToken, await proof(other, 'ES256', 'GET', url, accessToken)), refused);
    t.deepEqual(await assessment(accessToken, own), refused, 'a used proof of its own key, replayed');
    t.deepEqual(await tokenRefusals(), before, 'nothing audited for a presentation without the key, nor a replay');
    const fresh = await proof(key, 'ES256', 'GET', url, accessToken);
    const revoked = await assessment(accessToken, fresh);
    t.deepEqual(revoked, { status: 404, code: 'RISK_ASSESSMENT_NOT_FOUND' }, 'with its key: the token is refused');
    t.deepEqual(await tokenRefusals(), [...before, 'SESSION_REVOKED']);
    t.deepEqual(await assessment(accessToken, fresh), refused, 'that proof replayed');
    t.deepEqual(await tokenRefusals(), [...before, 'SESSION_REVOKED'], 'the replay audited nothing more');
    // one proof sent twice at the same moment: one reaches the guard, the other is refused before it
    const twin = await proof(key, 'ES256', 'GET', url, accessToken);
    const both = await Promise.all([assessment(accessToken, twin), assessment(accessToken, twin)]);
    t.deepEqual(both.map((a) => a.status).sort(), [401, 404], 'one refused by the guard, the other as a replay');
    t.deepEqual(await tokenRefusals(), [...before, 'SESSION_REVOKED', 'SESSION_REVOKED']);
  },
);

test.serial(
  'an unbound token at the signed risk assessment: taken as a bearer token, refused with a proof',
  async (t) => {
    const { accessToken } = await boundLogin();
    const key = await generateKeyPair('ES256');
    const url = `${bed.url}/risk/assessment`;
    t.is((await assessment(accessToken)).status, 200);
    t.deepEqual(await assessment(accessToken, await proof(key, 'ES256', 'GET', url, accessToken)), {
      status: 401,
      code: 'RISK_ASSESSMENT_PROOF_INVALID',
    });
    t.deepEqual(
      await assessment(accessToken, await proof(key, 'ES256', 'GET', url, accessToken), 'Bearer'),
      { status: 401, code: 'RISK_ASSESSMENT_PROOF_INVALID' },
      'a bearer token with a DPoP header',
    );
    const madeUp = 'a.made-up.token';
    t.deepEqual(await assessment(madeUp, await proof(key, 'ES256', 'GET', url, madeUp)), {
      status: 404,
      code: 'RISK_ASSESSMENT_NOT_FOUND',
    });
  },
);

for (const alg of DPOP_ALGORITHMS)
  test(`the thumbprint of a ${alg} proof's key is RFC 7638's`, async (t) => {
    const key = await generateKeyPair(alg, { extractable: true });
    const jwt = await proof(key, alg, 'GET', 'https://gw.example/me');
    t.is(proofKeyThumbprint(jwt), await calculateJwkThumbprint(await exportJWK(key.publicKey)));
  });

test('a proof whose header carries no usable key has no thumbprint', (t) => {
  const header = (h: unknown) => `${Buffer.from(JSON.stringify(h)).toString('base64url')}.e30.sig`;
  t.is(proofKeyThumbprint(header({ alg: 'ES256' })), undefined);
  t.is(proofKeyThumbprint(header({ jwk: { kty: 'oct', k: 'AAAA' } })), undefined);
  t.is(proofKeyThumbprint(header({ jwk: { kty: 'EC', crv: 'P-256', x: 'AAAA' } })), undefined);
  t.is(proofKeyThumbprint('not a jwt'), undefined);
});
