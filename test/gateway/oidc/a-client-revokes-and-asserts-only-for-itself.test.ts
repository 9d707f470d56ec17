/**
 * Two token-endpoint rules about which client a request speaks for:
 *
 * - the revocation endpoint (RFC 7009) revokes a client's own tokens only: another RP presenting a token it holds
 *   (a resource server's credentials, a partner's) gets 200 and revokes nothing, as for a token not found. The
 *   library's default answered 400 `invalid_request`, which told the caller the token was live
 *   (gateway/oidc/revocation-policy.ts);
 * - a `private_key_jwt` client assertion is accepted only with `aud` = the issuer, alone: the token endpoint's URL,
 *   which a hostile authorization server can advertise as its own, is refused, as is an array
 *   (gateway/oidc/client-assertion-audience.ts; oidc-provider with the gateway's hook and a client with inline keys,
 *   since the gateway's clients fetch theirs from an https `jwks_uri` the SSRF guard keeps off loopback).
 */
import test from 'ava';
import { generateKeyPairSync, randomUUID } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { importJWK, SignJWT, type JWK } from 'jose';
import Provider from 'oidc-provider';
import { assertionAudienceIsTheIssuer } from '../../../gateway/oidc/client-assertion-audience.ts';
import { logIn, startSessionBed, type SessionBed } from '../session/session-bed.ts';

const OTHER_RP = 'rp-other';
let bed: SessionBed;
test.before(async () => {
  bed = await startSessionBed({ moreClients: [{ client_id: OTHER_RP }] });
});
test.after.always(async () => {
  await bed?.stop();
});

const basic = (clientId: string) =>
  `Basic ${Buffer.from(`${clientId}:${bed.deployment.client.client_secret}`).toString('base64')}`;

test.serial("another RP's revocation of a token is answered as a token not found, and revokes nothing", async (t) => {
  const session = await logIn(bed);
  const metadata = bed.rp.serverMetadata();
  const revoke = await fetch(String(metadata.revocation_endpoint), {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded', authorization: basic(OTHER_RP) },
    body: new URLSearchParams({ token: session.accessToken, token_type_hint: 'access_token' }),
  });
  t.is(revoke.status, 200, await revoke.text());
  const userinfo = await fetch(String(metadata.userinfo_endpoint), {
    headers: { authorization: `Bearer ${session.accessToken}` },
  });
  t.is(userinfo.status, 200, 'the token still works: nothing was revoked');

  const own = await fetch(String(metadata.revocation_endpoint), {
    method: 'POST',
    headers: {
      'content-type': 'application/x-www-form-urlencoded',
      authorization: basic(bed.deployment.client.client_id),
    },
    body: new URLSearchParams({ token: session.accessToken, token_type_hint: 'access_token' }),
  });
  t.is(own.status, 200);
  const after = await fetch(String(metadata.userinfo_endpoint), {
    headers: { authorization: `Bearer ${session.accessToken}` },
  });
  t.is(after.status, 401, 'its own client revokes it');
});

test.serial("another RP's revocation of a revoked session's token makes the token guard audit nothing", async (t) => {
  const session = await logIn(bed);
  await bed.gateway.services.sessions.revoker.revokeSession({ sid: session.sid }, { actor: 'test', reason: 'test' });
  const refusals = async () =>
    (
      await bed.gateway.services.pool.query(
        "select count(*)::int as n from audit_log where to_state = 'TOKEN_REFUSED' and error_code = 'SESSION_REVOKED'",
      )
    ).rows[0].n as number;
  const revokeAs = async (clientId: string) => {
    const answer = await fetch(String(bed.rp.serverMetadata().revocation_endpoint), {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded', authorization: basic(clientId) },
      body: new URLSearchParams({ token: session.accessToken, token_type_hint: 'access_token' }),
    });
    await answer.body?.cancel();
    return answer.status;
  };
  const before = await refusals();
  t.is(await revokeAs(OTHER_RP), 200);
  t.is(await refusals(), before, 'another RP presenting it: the guard did not run');
  t.is(await revokeAs(bed.deployment.client.client_id), 200);
  t.is(await refusals(), before + 1, 'its own RP presenting it: the guard refuses it, audited');
});

test('a client assertion is accepted with the issuer as its audience only', async (t) => {
  const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  const jwk = { ...(publicKey.export({ format: 'jwk' }) as JWK), kid: 'rp-key', alg: 'ES256', use: 'sig' };
  const signingKey = await importJWK({ ...(privateKey.export({ format: 'jwk' }) as JWK), alg: 'ES256' }, 'ES256');
  let server: Server | undefined;
  const port = await new Promise<number>((resolve) => {
    server = createServer().listen(0, '127.0.0.1', () => resolve((server!.address() as AddressInfo).port));
  });
  const issuer = `http://127.0.0.1:${port}`;
  const provider = new Provider(issuer, {
    clients: [
      {
        client_id: 'rp',
        token_endpoint_auth_method: 'private_key_jwt',
        token_endpoint_auth_signing_alg: 'ES256',
        jwks: { keys: [jwk] },
        redirect_uris: ['https://rp.example/callback'],
      },
    ],
    assertJwtClientAuthClaimsAndHeader: assertionAudienceIsTheIssuer,
  });
  const callback = provider.callback();
  server!.on('request', (req, res) => void callback(req, res));
  try {
    const tokenEndpoint = `${issuer}/token`;
    const exchange = async (aud: string | string[]) => {
      const assertion = await new SignJWT({})
        .setProtectedHeader({ alg: 'ES256', kid: 'rp-key' })
        .setIssuer('rp')
        .setSubject('rp')
        .setAudience(aud)
        .setJti(randomUUID())
        .setIssuedAt()
        .setExpirationTime('1m')
        .sign(signingKey);
      const response = await fetch(tokenEndpoint, {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
        body: new URLSearchParams({
          grant_type: 'authorization_code',
          code: 'no-such-code',
          redirect_uri: 'https://rp.example/callback',
          client_id: 'rp',
          client_assertion_type: 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer',
          client_assertion: assertion,
        }),
      });
      return ((await response.json()) as { error: string }).error;
    };
    // authenticated, then the bogus code is refused: the assertion itself was taken
    t.is(await exchange(issuer), 'invalid_grant');
    t.is(await exchange(tokenEndpoint), 'invalid_client', "the token endpoint's URL as aud");
    t.is(await exchange([issuer, tokenEndpoint]), 'invalid_client', 'an array holding the issuer');
  } finally {
    server!.close();
  }
});
