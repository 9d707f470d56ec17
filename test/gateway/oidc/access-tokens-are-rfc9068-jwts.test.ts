/**
 * Issue #12 item 5: access tokens are RFC 9068 JWTs (`typ: at+jwt`), signed in the HSM with a key of the
 * gateway's JWKS, 5 minutes by default, carrying only sub, acr, auth_time, fraud_score and the registered claims
 * (iss, aud, exp, iat, jti, client_id, sid; cnf.jkt when DPoP-bound). They keep working at userinfo and
 * introspection, and stop when their session is revoked; a forged JWT naming a real jti is no token.
 */
import test from 'ava';
import { createRemoteJWKSet, decodeJwt, decodeProtectedHeader, jwtVerify } from 'jose';
import { introspect, logIn, startSessionBed, userinfo, type SessionBed } from '../session/session-bed.ts';

let bed: SessionBed;
test.before(async () => {
  bed = await startSessionBed();
});
test.after.always(async () => {
  await bed?.stop();
});

test.serial('the access token is an at+jwt signed by a key of the JWKS, with only the agreed claims', async (t) => {
  const session = await logIn(bed);
  t.is(decodeProtectedHeader(session.accessToken).typ, 'at+jwt');
  t.is(decodeProtectedHeader(session.accessToken).alg, 'RS256', 'access_token_signed_response_alg defaults to RS256');
  const jwks = createRemoteJWKSet(new URL(`${bed.url}/jwks`));
  const { payload } = await jwtVerify(session.accessToken, jwks, {
    issuer: bed.deployment.rawConfig.issuer as string,
    typ: 'at+jwt',
  });
  t.deepEqual(
    Object.keys(payload).sort(),
    ['acr', 'aud', 'auth_time', 'client_id', 'exp', 'fraud_score', 'iat', 'iss', 'jti', 'sid', 'sub'].sort(),
  );
  t.is(payload.sub, session.sub);
  t.is(payload.sid, session.sid);
  t.is(payload.client_id, bed.deployment.client.client_id);
  t.is(payload.acr, decodeJwt(session.idToken).acr);
  t.is(typeof payload.fraud_score, 'number');
  t.is(payload.exp! - payload.iat!, 300);
  t.is((await userinfo(bed.url, session.accessToken)).status, 200);
  t.true(await introspect(bed.url, bed.deployment, session.accessToken));
});

test.serial('a bare jti or a JWT re-signed around a real jti is no token', async (t) => {
  const session = await logIn(bed);
  const { jti } = decodeJwt(session.accessToken);
  t.is((await userinfo(bed.url, String(jti))).status, 401);
  const [header, body] = session.accessToken.split('.');
  const forged = `${header}.${body}.${Buffer.from('not the signature').toString('base64url')}`;
  t.is((await userinfo(bed.url, forged)).status, 401);
  t.false(await introspect(bed.url, bed.deployment, forged));
});

test.serial('the JWT access token of a revoked session is refused at userinfo and introspection', async (t) => {
  const session = await logIn(bed);
  await bed.gateway.services.sessions.revoker.revokeSession({ sid: session.sid }, { actor: 'test', reason: 'test' });
  t.is((await userinfo(bed.url, session.accessToken)).status, 401);
  t.false(await introspect(bed.url, bed.deployment, session.accessToken));
});
