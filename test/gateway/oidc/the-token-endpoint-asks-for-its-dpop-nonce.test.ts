/**
 * DPoP server nonces (RFC 9449 §8; `dpop.nonce`, oidc/dpop-nonces.ts). By default (`required`) the token and PAR
 * endpoints refuse a proof without the gateway's nonce, or with one it never issued: 400 `use_dpop_nonce` with a
 * `DPoP-Nonce` header, no token, the code not spent; the same request with that nonce is answered. A proof made
 * in advance by whoever held the client's key for a moment is then worthless. Asking for the nonce is a protocol
 * step, not a failure: it never empties the address's failures bucket (an RP's backend meets it with its first
 * requests). openid-client, an independent RP library, goes through by itself. (`offered`:
 * with-dpop-nonces-offered-a-proof-without-one-is-answered.test.ts.) The real gateway, Redis, PostgreSQL and HSM.
 */
import test from 'ava';
import { hkdfSync } from 'node:crypto';
import * as oidc from 'openid-client';
import { generateKeyPair } from 'jose';
import { authorizationRequest, RP_REDIRECT } from '../../helpers/gateway-fixture.ts';
import { loginJourney } from '../../helpers/login-journey.ts';
import { dpopProof, type DpopKey } from '../../helpers/dpop-proof.ts';
import { startSessionBed, type SessionBed } from '../session/session-bed.ts';
import { dpopNonceSecret } from '../../../gateway/oidc/dpop-nonces.ts';
import { Writable } from 'node:stream';
import pino from 'pino';

let required: SessionBed;
/** The gateway's log lines (its own logger, at info). */
const logLines: { level: number; msg: string; code?: string }[] = [];
test.before(async () => {
  // a failures bucket of two that never refills: a third charged answer would be a 429
  const sink = new Writable({
    write(chunk: Buffer, _encoding, done) {
      for (const line of chunk.toString('utf8').split('\n')) if (line.trim()) logLines.push(JSON.parse(line) as never);
      done();
    },
  });
  required = await startSessionBed({
    bootOptions: { logger: pino({ level: 'info' }, sink) },
    config: { rateLimit: { failures: { capacity: 2, perSecond: 0.001 }, redisTimeoutMs: 5_000 } },
  });
});
test.after.always(async () => {
  await required?.stop();
});

function basic(bed: SessionBed): string {
  const { client_id, client_secret } = bed.deployment.client;
  return `Basic ${Buffer.from(`${client_id}:${client_secret}`).toString('base64')}`;
}

async function freshCode(bed: SessionBed): Promise<{ code: string; verifier: string }> {
  const request = await authorizationRequest(bed.rp);
  const journey = await loginJourney(request.url, { username: 'jean', redirectUri: RP_REDIRECT });
  const code = journey.url.searchParams.get('code');
  if (!code) throw new Error(`no code: ${journey.url}`);
  return { code, verifier: request.verifier };
}

async function exchange(bed: SessionBed, code: string, verifier: string, proof: string) {
  const response = await fetch(`${bed.url}/token`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded', authorization: basic(bed), dpop: proof },
    body: new URLSearchParams({
      grant_type: 'authorization_code',
      code,
      redirect_uri: RP_REDIRECT,
      code_verifier: verifier,
    }),
  });
  return {
    status: response.status,
    nonce: response.headers.get('dpop-nonce'),
    json: (await response.json()) as Record<string, string>,
  };
}

const key = (): Promise<DpopKey> => generateKeyPair('ES256');

test.serial(
  'a proof without the nonce is asked for it; the same code with the nonce gets a DPoP-bound token',
  async (t) => {
    const dpop = await key();
    const { code, verifier } = await freshCode(required);
    const tokenUrl = `${required.url}/token`;
    const first = await exchange(required, code, verifier, await dpopProof(dpop, 'ES256', 'POST', tokenUrl));
    t.is(first.status, 400);
    t.is(first.json.error, 'use_dpop_nonce');
    t.false('access_token' in first.json);
    t.truthy(first.nonce, 'a DPoP-Nonce header');
    const made = await exchange(
      required,
      code,
      verifier,
      await dpopProof(
        dpop,
        'ES256',
        'POST',
        tokenUrl,
        undefined,
        `${first.nonce!.startsWith('A') ? 'B' : 'A'}${first.nonce!.slice(1)}`,
      ),
    );
    t.is(made.json.error, 'use_dpop_nonce', 'a nonce it never issued');
    const second = await exchange(
      required,
      code,
      verifier,
      await dpopProof(dpop, 'ES256', 'POST', tokenUrl, undefined, first.nonce!),
    );
    t.is(second.status, 200, JSON.stringify(second.json));
    t.is(second.json.token_type, 'DPoP');
  },
);

/** How many times the token endpoint answered `use_dpop_nonce` so far (`gateway_oidc_errors_total`). */
async function nonceAnswers(): Promise<number> {
  const exposition = await required.gateway.services.metrics.registry.metrics();
  return Number(
    /gateway_oidc_errors_total\{event="grant\.error",error="use_dpop_nonce"\} (\d+)/.exec(exposition)?.[1] ?? 0,
  );
}

test.serial('asking for the nonce charges nothing to the failures bucket, and is counted', async (t) => {
  const before = await nonceAnswers();
  // four nonce requests from one address, its failures bucket holding two
  for (let i = 0; i < 4; i++) {
    const { code, verifier } = await freshCode(required);
    const asked = await exchange(
      required,
      code,
      verifier,
      await dpopProof(await key(), 'ES256', 'POST', `${required.url}/token`),
    );
    t.is(asked.json.error, 'use_dpop_nonce', `request ${i + 1}: ${asked.status} ${JSON.stringify(asked.json)}`);
  }
  const { code, verifier } = await freshCode(required);
  const dpop = await key();
  const asked = await exchange(
    required,
    code,
    verifier,
    await dpopProof(dpop, 'ES256', 'POST', `${required.url}/token`),
  );
  const answered = await exchange(
    required,
    code,
    verifier,
    await dpopProof(dpop, 'ES256', 'POST', `${required.url}/token`, undefined, asked.nonce!),
  );
  t.is(answered.status, 200, 'not refused by the failures bucket');
  t.is((await nonceAnswers()) - before, 5, 'each nonce demand counted');
});

test.serial('the PAR endpoint asks for the nonce too', async (t) => {
  const response = await fetch(`${required.url}/request`, {
    method: 'POST',
    headers: {
      'content-type': 'application/x-www-form-urlencoded',
      authorization: basic(required),
      dpop: await dpopProof(await key(), 'ES256', 'POST', `${required.url}/request`),
    },
    body: new URLSearchParams({
      client_id: required.deployment.client.client_id,
      response_type: 'code',
      redirect_uri: RP_REDIRECT,
      scope: 'openid',
      code_challenge: 'E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM',
      code_challenge_method: 'S256',
    }),
  });
  const body = await response.text();
  t.is(response.status, 400, body);
  t.is((JSON.parse(body) as { error: string }).error, 'use_dpop_nonce', body);
  t.truthy(response.headers.get('dpop-nonce'));
});

test.serial(
  'openid-client goes through by itself; its token, with the cached nonce, works at userinfo and the risk assessment',
  async (t) => {
    const request = await authorizationRequest(required.rp);
    const journey = await loginJourney(request.url, { username: 'jean', redirectUri: RP_REDIRECT });
    const DPoP = oidc.getDPoPHandle(required.rp, await oidc.randomDPoPKeyPair('ES256'));
    const tokens = await oidc.authorizationCodeGrant(
      required.rp,
      journey.url,
      { pkceCodeVerifier: request.verifier, expectedState: request.state, expectedNonce: request.nonce },
      undefined,
      { DPoP },
    );
    t.is(tokens.token_type, 'dpop');
    const info = await oidc.fetchUserInfo(required.rp, tokens.access_token, tokens.claims()!.sub, { DPoP });
    t.is(info.sub, tokens.claims()!.sub);
    // openid-client puts the nonce it keeps for the issuer's origin in every later proof: the gateway's own
    // resource route knows the gateway's nonces
    const assessment = await oidc.fetchProtectedResource(
      required.rp,
      tokens.access_token,
      new URL(`${required.url}/risk/assessment`),
      'GET',
      null,
      undefined,
      { DPoP },
    );
    t.is(assessment.status, 200, await assessment.clone().text());
  },
);

/** A nonce the gateway handed out `minutesAgo` (stale past four): oidc-provider's HKDF of that minute. */
function nonceOf(minutesAgo: number): string {
  const secret = dpopNonceSecret(required.gateway.services.config.secrets);
  const step = Buffer.alloc(8);
  step.writeBigUInt64BE(BigInt(Math.floor(Date.now() / 60_000) - minutesAgo));
  return Buffer.from(hkdfSync('sha256', secret, step, 'DPoP', 32)).toString('base64url');
}

test.serial(
  'a stale nonce at a resource is answered use_dpop_nonce with a fresh one, charging no failure; a made-up one is charged at userinfo',
  async (t) => {
    const dpop = await key();
    const { code, verifier } = await freshCode(required);
    const tokenUrl = `${required.url}/token`;
    const asked = await exchange(required, code, verifier, await dpopProof(dpop, 'ES256', 'POST', tokenUrl));
    const tokens = await exchange(
      required,
      code,
      verifier,
      await dpopProof(dpop, 'ES256', 'POST', tokenUrl, undefined, asked.nonce!),
    );
    const accessToken = tokens.json.access_token!;
    const call = async (url: string, nonce: string) => {
      const response = await fetch(url, {
        headers: {
          authorization: `DPoP ${accessToken}`,
          dpop: await dpopProof(dpop, 'ES256', 'GET', url, accessToken, nonce),
        },
      });
      await response.body?.cancel();
      return response;
    };
    t.is((await call(`${required.url}/me`, nonceOf(0))).status, 200, "this minute's nonce is good");
    // the risk assessment's refusals, as the gateway logs them
    const refusals = () => logLines.filter((l) => l.code === 'RISK_ASSESSMENT_PROOF_INVALID');
    const refusedBefore = refusals().length;
    // more stale nonces than the failures bucket holds, at userinfo and at the risk assessment
    for (const url of [`${required.url}/me`, `${required.url}/risk/assessment`])
      for (const minutesAgo of [6, 8, 10]) {
        const refused = await call(url, nonceOf(minutesAgo));
        t.is(refused.status, 401, url);
        t.regex(refused.headers.get('www-authenticate') ?? '', /use_dpop_nonce/, url);
        t.truthy(refused.headers.get('dpop-nonce'), url);
      }
    // a stale nonce the gateway handed out is a protocol step, logged at info; a made-up one stays a warning
    t.is((await call(`${required.url}/risk/assessment`, 'made-up-at-the-assessment')).status, 401);
    t.deepEqual(
      refusals()
        .slice(refusedBefore)
        .map((l) => [l.level, l.msg]),
      [
        [30, 'request answered with a protocol step'],
        [30, 'request answered with a protocol step'],
        [30, 'request answered with a protocol step'],
        [40, 'request failed'],
      ],
    );
    const fresh = (await call(`${required.url}/me`, nonceOf(9))).headers.get('dpop-nonce')!;
    t.is((await call(`${required.url}/me`, fresh)).status, 200, 'userinfo: not refused by the failures bucket');
    t.is((await call(`${required.url}/risk/assessment`, fresh)).status, 200, 'the risk assessment takes the nonce');
    // a good nonce that is not the latest: answered, with the latest for the next proof (as oidc-provider does)
    const older = await call(`${required.url}/risk/assessment`, nonceOf(1));
    t.is(older.status, 200);
    t.truthy(older.headers.get('dpop-nonce'));
    t.not(older.headers.get('dpop-nonce'), nonceOf(1));
    // made-up nonces at userinfo, where anyone may ask: charged (its failures bucket holds two)
    const madeUp: number[] = [];
    for (let i = 0; i < 3; i++) madeUp.push((await call(`${required.url}/me`, `made-up-${i}`)).status);
    t.deepEqual(madeUp, [401, 401, 429]);
  },
);
