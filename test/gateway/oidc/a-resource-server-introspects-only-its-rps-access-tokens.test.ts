/**
 * A resource server (`resourceServers`) introspects an RP's access tokens with credentials of its own, and can do
 * nothing else: without it, an RP's APIs hold the RP's credentials, which also redeem its codes and refresh its
 * tokens.
 *
 * - it is answered about the access tokens of the RPs it names (`sub` the RP's pairwise one, `client_id` the RP),
 *   a DPoP-bound one with its key's thumbprint (`cnf.jkt`), which the resource server checks the proof against;
 * - it is answered `active: false` about a refresh token of that RP, and about another RP's access token;
 * - it cannot redeem the RP's code or refresh token (oidc-provider's `invalid_request`: "requested grant type is
 *   not allowed for this client"; the code stays the RP's), nor revoke the RP's token, nor start an authorization;
 *   the RP's own introspection is as before;
 * - a resource server naming an RP that is not configured, or using an RP's `client_id`, is refused at load,
 *   naming the field.
 *
 * Real gateway, Redis, PostgreSQL, SoftHSM2.
 */
import test from 'ava';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { calculateJwkThumbprint, decodeJwt, exportJWK, generateKeyPair } from 'jose';
import { dpopProof } from '../../helpers/dpop-proof.ts';
import { postAsClient } from '../../helpers/as-client.ts';
import { authorizationRequest, RP_REDIRECT } from '../../helpers/gateway-fixture.ts';
import { loginJourney } from '../../helpers/login-journey.ts';
import { failsAt } from '../config/config-bed.ts';
import { redeem, startSessionBed, type SessionBed } from '../session/session-bed.ts';

const ORDERS_API = { client_id: 'orders-api', client_secret: randomBytes(32).toString('base64url') };
const OTHER_RP = 'other-rp';

let bed: SessionBed;
test.before(async () => {
  const secretFile = join(process.env.TMPDIR ?? '/tmp', `orders-api-${process.pid}.secret`);
  writeFileSync(secretFile, ORDERS_API.client_secret, { mode: 0o600 });
  bed = await startSessionBed({
    moreClients: [{ client_id: OTHER_RP }],
    config: {
      resourceServers: [
        { client_id: ORDERS_API.client_id, client_secret: { file: secretFile }, introspects: ['demo-rp'] },
      ],
    },
  });
});
test.after.always(async () => {
  await bed?.stop();
});

interface Tokens {
  access_token: string;
  id_token: string;
  refresh_token?: string;
}

/** jean logs in to `clientId` (a copy of the demo RP's entry, same secret) and it redeems the code. */
async function logInTo(clientId: string): Promise<{ tokens: Tokens; code: string; verifier: string }> {
  const request = await authorizationRequest(bed.rp);
  request.url.searchParams.set('client_id', clientId);
  const journey = await loginJourney(request.url, { username: 'jean', redirectUri: RP_REDIRECT });
  const code = journey.url.searchParams.get('code');
  if (!code) throw new Error(`no code: ${journey.url.href}`);
  const response = await postAsClient(
    bed.url,
    '/token',
    { client_id: clientId, client_secret: bed.deployment.client.client_secret },
    { grant_type: 'authorization_code', code, redirect_uri: RP_REDIRECT, code_verifier: request.verifier },
  );
  if (response.status !== 200) throw new Error(`token: ${response.status} ${await response.text()}`);
  return { tokens: (await response.json()) as Tokens, code, verifier: request.verifier };
}

async function introspectAs(client: typeof ORDERS_API, token: string): Promise<Record<string, unknown>> {
  const response = await postAsClient(bed.url, '/token/introspection', client, { token });
  if (response.status !== 200) throw new Error(`introspection: ${response.status} ${await response.text()}`);
  return (await response.json()) as Record<string, unknown>;
}

test.serial("the resource server is answered about its RP's access token, as its RP would be", async (t) => {
  const { tokens } = await logInTo('demo-rp');
  const claims = await introspectAs(ORDERS_API, tokens.access_token);
  t.like(claims, { active: true, client_id: 'demo-rp', sub: decodeJwt(tokens.id_token).sub });
  t.is(typeof claims.acr, 'string');
  const asTheRp = await introspectAs(bed.deployment.client, tokens.access_token);
  t.is(asTheRp.active, true, "the RP's own introspection is as before");
  t.is(asTheRp.sub, claims.sub);
});

test.serial("a DPoP-bound access token's introspection gives the resource server its key's thumbprint", async (t) => {
  const key = await generateKeyPair('ES256');
  const request = await authorizationRequest(bed.rp);
  const journey = await loginJourney(request.url, { username: 'jean', redirectUri: RP_REDIRECT });
  const proof = (nonce?: string) => dpopProof(key, 'ES256', 'POST', `${bed.url}/token`, undefined, nonce);
  const tokens = await redeem(bed, journey.url.searchParams.get('code')!, request.verifier, proof);
  t.is(tokens.token_type, 'DPoP');
  const claims = await introspectAs(ORDERS_API, tokens.access_token);
  t.is(claims.active, true);
  t.deepEqual(claims.cnf, { jkt: await calculateJwkThumbprint(await exportJWK(key.publicKey)) });
});

test.serial("nor a refresh token of its RP, nor another RP's access token", async (t) => {
  const mine = await logInTo('demo-rp');
  t.truthy(mine.tokens.refresh_token, 'the RP has a refresh token');
  t.deepEqual(await introspectAs(ORDERS_API, mine.tokens.refresh_token!), { active: false });
  t.is((await introspectAs(bed.deployment.client, mine.tokens.refresh_token!)).active, true, 'its RP still sees it');
  const other = await logInTo(OTHER_RP);
  t.deepEqual(await introspectAs(ORDERS_API, other.tokens.access_token), { active: false });
});

test.serial(
  'its credentials redeem no code or refresh token, revoke nothing and start no login, pushed or not',
  async (t) => {
    const request = await authorizationRequest(bed.rp);
    const journey = await loginJourney(request.url, { username: 'jean', redirectUri: RP_REDIRECT });
    const code = journey.url.searchParams.get('code')!;
    const redeem = await postAsClient(bed.url, '/token', ORDERS_API, {
      grant_type: 'authorization_code',
      code,
      redirect_uri: RP_REDIRECT,
      code_verifier: request.verifier,
    });
    t.is(redeem.status, 400);
    t.like(await redeem.json(), {
      error: 'invalid_request',
      error_description: 'requested grant type is not allowed for this client',
    });
    const byTheRp = await postAsClient(bed.url, '/token', bed.deployment.client, {
      grant_type: 'authorization_code',
      code,
      redirect_uri: RP_REDIRECT,
      code_verifier: request.verifier,
    });
    t.is(byTheRp.status, 200, 'the code is still the RP’s to redeem');
    await byTheRp.body?.cancel();

    const { tokens } = await logInTo('demo-rp');
    const refresh = await postAsClient(bed.url, '/token', ORDERS_API, {
      grant_type: 'refresh_token',
      refresh_token: tokens.refresh_token!,
    });
    t.is(refresh.status, 400);
    t.like(await refresh.json(), { error: 'invalid_request' });

    const revoke = await postAsClient(bed.url, '/token/revocation', ORDERS_API, { token: tokens.access_token });
    // answered as a token not found (RFC 7009): 200, nothing revoked, nothing told about the token
    t.is(revoke.status, 200, 'a resource server revokes nothing of its RP’s');
    await revoke.body?.cancel();
    t.is((await introspectAs(ORDERS_API, tokens.access_token)).active, true, 'the token is still active');

    const start = await authorizationRequest(bed.rp);
    start.url.searchParams.set('client_id', ORDERS_API.client_id);
    const pushed = await postAsClient(bed.url, '/request', ORDERS_API, Object.fromEntries(start.url.searchParams));
    t.is(pushed.status, 400, 'no pushed authorization request either');
    t.false('request_uri' in ((await pushed.json()) as object));
    const authorize = await fetch(start.url, { redirect: 'manual' });
    t.is(authorize.status, 400, 'no redirect anywhere: it has no redirect URI');
    t.is(authorize.headers.get('location'), null);
    await authorize.body?.cancel();
  },
);

test('a resource server naming an RP not configured, or wearing an RP’s client_id, is refused at load', (t) => {
  const server = (over: Record<string, unknown>) => ({
    client_id: 'orders-api',
    client_secret: { env: 'RP' },
    introspects: ['rp1'],
    ...over,
  });
  failsAt(
    t,
    (c) => (c.resourceServers = [server({ introspects: ['rp9'] })]),
    'resourceServers[0].introspects[0]',
    /rp9/,
  );
  failsAt(t, (c) => (c.resourceServers = [server({ client_id: 'rp1' })]), 'resourceServers[0].client_id', /own/);
  failsAt(t, (c) => (c.resourceServers = [server({ introspects: [] })]), 'resourceServers[0].introspects');
  failsAt(t, (c) => (c.resourceServers = [server({ client_secret: 'inline' })]), 'resourceServers[0].client_secret');
  failsAt(t, (c) => (c.resourceServers = [server({}), server({})]), 'resourceServers[1].client_id', /duplicate/);
});
