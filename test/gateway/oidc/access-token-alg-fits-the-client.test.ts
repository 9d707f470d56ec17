/**
 * The JWT access token's algorithm is the client's (`access_token_signed_response_alg`, RS256 by default):
 * an ES256 client gets ES256 access tokens signed in the HSM by the active ES256 `access_token` key (a key of
 * their own, not the ID token's), which a data provider finds in /jwks; an algorithm outside the registry's token rows is refused at load (CONFIG_INVALID
 * naming the field), and one without an active key in the HSM at boot.
 */
import test from 'ava';
import { createRemoteJWKSet, decodeProtectedHeader, jwtVerify } from 'jose';
import { startGatewayInProcess } from '../../harness/deployment.ts';
import { freePort } from '../../harness/services/free-port.ts';
import { failsAt } from '../config/config-bed.ts';
import { introspect, logIn, startSessionBed, userinfo, type SessionBed } from '../session/session-bed.ts';
import { GatewayError } from '../../../gateway/errors.ts';

let bed: SessionBed;
test.before(async () => {
  bed = await startSessionBed({
    clientOverrides: { id_token_signed_response_alg: 'ES256', access_token_signed_response_alg: 'ES256' },
  });
});
test.after.always(async () => {
  await bed?.stop();
});

test('an ES256 client gets ES256 access tokens that verify against /jwks', async (t) => {
  const session = await logIn(bed);
  const header = decodeProtectedHeader(session.accessToken);
  t.is(header.alg, 'ES256');
  t.is(header.typ, 'at+jwt');
  t.is(decodeProtectedHeader(session.idToken).alg, 'ES256');
  // a key of its own (key separation): the active ES256 access_token key, never the ID token's
  const { keys } = bed.gateway.services;
  t.is(header.kid, keys.activeSigners('access_token').find((s) => s.alg === 'ES256')?.kid);
  t.not(header.kid, decodeProtectedHeader(session.idToken).kid, 'not signed with the ID token key');
  const published = (await (await fetch(`${bed.url}/jwks`)).json()) as { keys: { kid: string; alg: string }[] };
  t.true(
    published.keys.some((k) => k.kid === header.kid && k.alg === 'ES256'),
    'its key is in /jwks',
  );
  const { payload } = await jwtVerify(session.accessToken, createRemoteJWKSet(new URL(`${bed.url}/jwks`)), {
    issuer: bed.deployment.rawConfig.issuer as string,
    typ: 'at+jwt',
    algorithms: ['ES256'],
  });
  t.is(payload.client_id, bed.deployment.client.client_id);
  t.is((await userinfo(bed.url, session.accessToken)).status, 200);
  t.true(await introspect(bed.url, bed.deployment, session.accessToken));
});

test('an access-token algorithm outside the registry is refused at load, naming the field', (t) => {
  for (const alg of ['HS256', 'none', 'ML-DSA-65', 'ES512'])
    failsAt(
      t,
      (c) => (c.clients[0].access_token_signed_response_alg = alg),
      'clients[0].access_token_signed_response_alg',
    );
});

test('an access-token algorithm without an active access_token or id_token key in the HSM fails the boot, naming the field', async (t) => {
  const clients = bed.deployment.rawConfig.clients as Record<string, unknown>[];
  const original = clients[0];
  clients[0] = { ...original, access_token_signed_response_alg: 'PS256' }; // the development key set has no PS256 key of either
  try {
    const error = await t.throwsAsync(startGatewayInProcess(bed.deployment, await freePort()));
    t.true(error instanceof GatewayError);
    t.is((error as GatewayError).code, 'CONFIG_INVALID');
    t.is((error as GatewayError & { path?: string }).path, 'clients[demo-rp].access_token_signed_response_alg');
  } finally {
    clients[0] = original;
  }
});
