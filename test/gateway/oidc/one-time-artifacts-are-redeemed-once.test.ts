/**
 * Single use is atomic for every one-time artefact a client presents (issue #10 item 1): 50 presentations
 * of the same artefact at the same moment give exactly one success; the 49 others get the artefact's
 * stable refusal, and a reused authorization code revokes what it issued (RFC 6749 §4.1.2).
 */
import test from 'ava';
import { createHash, randomUUID } from 'node:crypto';
import { exportJWK, generateKeyPair, SignJWT, type CryptoKey } from 'jose';
import {
  authorizationRequest,
  RP_REDIRECT,
  startGatewayFixture,
  type GatewayFixture,
} from '../../helpers/gateway-fixture.ts';
import { loginJourney } from '../../helpers/login-journey.ts';
import { withDpopNonce } from '../../helpers/dpop-proof.ts';

const PRESENTATIONS = 50;
let fixture: GatewayFixture;

test.before(async () => {
  fixture = await startGatewayFixture();
});
test.after.always(async () => {
  await fixture?.stop();
});

function basic(): string {
  const { client_id, client_secret } = fixture.deployment.client;
  return `Basic ${Buffer.from(`${client_id}:${client_secret}`).toString('base64')}`;
}

/** A real login up to the code at the RP's redirect URI. */
async function freshCode(): Promise<{ code: string; verifier: string }> {
  const request = await authorizationRequest(fixture.rp);
  const journey = await loginJourney(request.url, { username: 'marie', redirectUri: RP_REDIRECT });
  const code = journey.url.searchParams.get('code');
  if (!code) throw new Error(`no code: ${journey.url}`);
  return { code, verifier: request.verifier };
}

function tokenRequest(code: string, verifier: string, dpop?: string): Promise<Response> {
  return fetch(fixture.rp.serverMetadata().token_endpoint!, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded', authorization: basic(), ...(dpop ? { dpop } : {}) },
    body: new URLSearchParams({
      grant_type: 'authorization_code',
      code,
      redirect_uri: RP_REDIRECT,
      code_verifier: verifier,
    }),
  });
}

async function dpopProof(
  key: { privateKey: CryptoKey; publicKey: CryptoKey },
  htm: string,
  htu: string,
  accessToken?: string,
  nonce?: string,
): Promise<string> {
  const jwk = await exportJWK(key.publicKey);
  return new SignJWT({
    htm,
    htu,
    jti: randomUUID(),
    ...(accessToken ? { ath: createHash('sha256').update(accessToken).digest('base64url') } : {}),
    ...(nonce === undefined ? {} : { nonce }),
  })
    .setProtectedHeader({ alg: 'ES256', typ: 'dpop+jwt', jwk })
    .setIssuedAt()
    .sign(key.privateKey);
}

test.serial(
  `one code presented ${PRESENTATIONS} times at once: one token set, ${PRESENTATIONS - 1} invalid_grant, and the token issued is revoked`,
  async (t) => {
    const { code, verifier } = await freshCode();
    const answers = await Promise.all(Array.from({ length: PRESENTATIONS }, () => tokenRequest(code, verifier)));
    const bodies = await Promise.all(
      answers.map(async (answer) => ({ status: answer.status, body: (await answer.json()) as Record<string, string> })),
    );
    const winners = bodies.filter((b) => b.status === 200);
    t.is(winners.length, 1, `statuses: ${bodies.map((b) => b.status).join(',')}`);
    t.deepEqual(
      new Set(bodies.filter((b) => b.status !== 200).map((b) => `${b.status} ${b.body.error}`)),
      new Set(['400 invalid_grant']),
    );

    // the reuse revoked the grant: the winner's access token no longer answers
    const me = await fetch(fixture.rp.serverMetadata().userinfo_endpoint!, {
      headers: { authorization: `Bearer ${winners[0]!.body.access_token}` },
    });
    t.is(me.status, 401);
    const introspection = await fetch(fixture.rp.serverMetadata().introspection_endpoint!, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded', authorization: basic() },
      body: new URLSearchParams({ token: winners[0]!.body.access_token! }),
    });
    t.false(((await introspection.json()) as { active: boolean }).active);
  },
);

test.serial('the refused reuse is audited (OIDC_ARTIFACT_REUSED)', async (t) => {
  const { code, verifier } = await freshCode();
  t.is((await tokenRequest(code, verifier)).status, 200);
  t.is((await tokenRequest(code, verifier)).status, 400);
  const pool = fixture.gateway.services.pool;
  const deadline = Date.now() + 10_000;
  let rows: unknown[] = [];
  while (Date.now() < deadline && rows.length === 0) {
    ({ rows } = await pool.query(`select error_code from audit_log where error_code = 'OIDC_ARTIFACT_REUSED'`));
    if (rows.length === 0) await new Promise((resolve) => setTimeout(resolve, 100));
  }
  t.true(rows.length >= 1);
});

test.serial(
  `one DPoP proof presented ${PRESENTATIONS} times at once: answered once, ${PRESENTATIONS - 1} refused as a replay`,
  async (t) => {
    const { code, verifier } = await freshCode();
    const key = await generateKeyPair('ES256');
    const tokenUrl = fixture.rp.serverMetadata().token_endpoint!;
    const issued = await withDpopNonce(async (nonce) =>
      tokenRequest(code, verifier, await dpopProof(key, 'POST', tokenUrl, undefined, nonce)),
    );
    t.is(issued.status, 200);
    const { access_token: accessToken, token_type: type } = (await issued.json()) as Record<string, string>;
    t.is(type, 'DPoP');
    const userinfo = fixture.rp.serverMetadata().userinfo_endpoint!;
    const proof = await dpopProof(key, 'GET', userinfo, accessToken);
    const answers = await Promise.all(
      Array.from({ length: PRESENTATIONS }, () =>
        fetch(userinfo, { headers: { authorization: `DPoP ${accessToken}`, dpop: proof } }),
      ),
    );
    const statuses = answers.map((answer) => answer.status);
    t.is(statuses.filter((s) => s === 200).length, 1, `statuses: ${statuses.join(',')}`);
    const refusals = answers
      .filter((answer) => answer.status !== 200)
      .map((answer) => answer.headers.get('www-authenticate') ?? '');
    // userinfo answers a replayed proof as an invalid token (oidc-provider's stable refusal there)
    for (const refusal of refusals) t.regex(refusal, /error="(invalid_token|invalid_dpop_proof)"/);
  },
);
