/**
 * A client registered with `access_token_format: "opaque"` gets oidc-provider's random value as its access token,
 * not an RFC 9068 JWT: nothing signed for it in the HSM (one signature less per login), and its resource servers
 * introspect it, so a revoked session's token is refused there at once. The token works wherever a JWT one does
 * (userinfo, introspection, the signed risk assessment, DPoP binding) and is checked the same way: only the value
 * issued is a token (its hash is stored with it), a made-up value of the same shape is not (a JWT token's bare `jti`,
 * of that shape too, is refused as before: access-tokens-are-rfc9068-jwts.test.ts). Introspection answers the
 * claims a JWT carries; revocation ends it. `access_token_signed_response_alg` with "opaque" is refused at load,
 * naming the field. Real gateway, Redis, PostgreSQL, SoftHSM2.
 */
import test from 'ava';
import { randomBytes } from 'node:crypto';
import { decodeJwt, generateKeyPair } from 'jose';
import { postAsClient } from '../../helpers/as-client.ts';
import { authorizationRequest, RP_REDIRECT } from '../../helpers/gateway-fixture.ts';
import { loginJourney } from '../../helpers/login-journey.ts';
import { Pkcs11Signer } from '../../../hsm/pkcs11-signer.ts';
import { failsAt } from '../config/config-bed.ts';
import { dpopProof } from '../../helpers/dpop-proof.ts';
import { introspect, logIn, redeem, startSessionBed, userinfo, type SessionBed } from '../session/session-bed.ts';

let bed: SessionBed;
test.before(async () => {
  bed = await startSessionBed({ clientOverrides: { access_token_format: 'opaque' } });
});
test.after.always(async () => {
  await bed?.stop();
});

const OPAQUE = /^[A-Za-z0-9_-]{43}$/;

/** The HSM signatures made in this process, by key purpose (the gateway runs in it): counted, then signed. */
const signedBy = new Map<string, number>();
const sign = Pkcs11Signer.prototype.sign;
Pkcs11Signer.prototype.sign = function counted(this: Pkcs11Signer, data: Uint8Array) {
  signedBy.set(this.purpose, (signedBy.get(this.purpose) ?? 0) + 1);
  return sign.call(this, data);
};

test.serial('an opaque client gets a random value that userinfo, introspection and the assessment take', async (t) => {
  signedBy.clear();
  const session = await logIn(bed);
  t.regex(session.accessToken, OPAQUE, 'not a JWT');
  t.throws(() => decodeJwt(session.accessToken));
  t.is(decodeJwt(session.idToken).sub, session.sub, 'the ID token is still a JWT');
  t.true((signedBy.get('id_token') ?? 0) >= 1, 'the ID token was signed (the count sees the login)');
  t.is(signedBy.get('access_token') ?? 0, 0, 'nothing signed for the access token');

  const info = await userinfo(bed.url, session.accessToken);
  t.is(info.status, 200);
  t.is(info.claims?.sub, session.sub);
  const { client } = bed.deployment;
  const introspection = await postAsClient(bed.url, '/token/introspection', client, { token: session.accessToken });
  const claims = (await introspection.json()) as Record<string, unknown>;
  t.like(claims, {
    active: true,
    sub: session.sub,
    client_id: client.client_id,
    sid: session.sid,
    token_type: 'Bearer',
  });
  t.is(typeof claims.acr, 'string');
  t.is(typeof claims.fraud_score, 'number');
  const assessment = await fetch(`${bed.url}/risk/assessment`, {
    headers: { authorization: `Bearer ${session.accessToken}` },
  });
  t.is(assessment.status, 200);
  await assessment.body?.cancel();

  const madeUp = randomBytes(32).toString('base64url');
  t.regex(madeUp, OPAQUE);
  t.is((await userinfo(bed.url, madeUp)).status, 401, 'a value of the same shape that was never issued');
  t.false(await introspect(bed.url, bed.deployment, madeUp));

  await bed.gateway.services.sessions.revoker.revokeSession({ sid: session.sid }, { actor: 'test', reason: 'test' });
  t.is((await userinfo(bed.url, session.accessToken)).status, 401, 'refused once the session is revoked');
  t.false(await introspect(bed.url, bed.deployment, session.accessToken), 'introspection says so at once');
});

test.serial('an opaque token revoked by its client is refused at once', async (t) => {
  const session = await logIn(bed);
  const revoked = await postAsClient(bed.url, '/token/revocation', bed.deployment.client, {
    token: session.accessToken,
    token_type_hint: 'access_token',
  });
  t.is(revoked.status, 200);
  await revoked.body?.cancel();
  t.is((await userinfo(bed.url, session.accessToken)).status, 401);
  t.false(await introspect(bed.url, bed.deployment, session.accessToken));
});

test.serial('an opaque token bound to a DPoP key is refused at userinfo without its proof', async (t) => {
  const key = await generateKeyPair('ES256');
  const proof = (htm: string, htu: string, accessToken?: string, nonce?: string) =>
    dpopProof(key, 'ES256', htm, htu, accessToken, nonce);
  const request = await authorizationRequest(bed.rp);
  const journey = await loginJourney(request.url, { username: 'jean', redirectUri: RP_REDIRECT });
  const code = journey.url.searchParams.get('code')!;
  const tokens = await redeem(bed, code, request.verifier, (nonce) =>
    proof('POST', `${bed.url}/token`, undefined, nonce),
  );
  t.is(tokens.token_type, 'DPoP');
  t.regex(tokens.access_token, OPAQUE);
  const me = `${bed.url}/me`;
  const withProof = await fetch(me, {
    headers: { authorization: `DPoP ${tokens.access_token}`, dpop: await proof('GET', me, tokens.access_token) },
  });
  t.is(withProof.status, 200);
  await withProof.body?.cancel();
  t.is((await userinfo(bed.url, tokens.access_token)).status, 401, 'as a bearer token, without its key');
});

test('access_token_signed_response_alg with an opaque format is refused at load, naming the field', (t) => {
  failsAt(
    t,
    (c) => Object.assign(c.clients[0], { access_token_format: 'opaque', access_token_signed_response_alg: 'ES256' }),
    'clients[0].access_token_signed_response_alg',
    /opaque/,
  );
  failsAt(t, (c) => Object.assign(c.clients[0], { access_token_format: 'paseto' }), 'clients[0].access_token_format');
});
