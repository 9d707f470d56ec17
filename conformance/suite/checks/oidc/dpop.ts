/**
 * DPoP (RFC 9449; fapi2 `…-dpop-negative-tests`): the token endpoint refuses broken proofs (signature not
 * by the header key, wrong htm/htu, wrong typ, alg none, private key in the header, stale iat); a
 * DPoP-bound access token works only with a fresh proof of the same key (no replay, no Bearer downgrade,
 * right `ath`), at UserInfo and at the gateway's signed risk assessment. Skipped when the deployment does not
 * advertise DPoP. The server's nonce (§8): one never issued gets no token, and the token endpoint requires its own.
 */
import { randomUUID } from 'node:crypto';
import type { SuiteContext } from '../../context.ts';
import type { JsonAnswer } from '../../parties/rp.ts';
import { judge, skip, type CheckDefinition, type Outcome } from '../../types.ts';
import { dpopProof, newDpopKey, unsignedProof, type DpopKey, type ProofInput } from './dpop-proof.ts';
import { describeTokenAnswer, freshCode } from './flows.ts';

const SOURCE = 'RFC 9449 §4.3; fapi2 …-dpop-negative-tests';

function offered(ctx: SuiteContext): boolean {
  const algs = ctx.rp.discovery.dpop_signing_alg_values_supported;
  return Array.isArray(algs) && algs.includes('ES256');
}

/** Exchanges a fresh code with `proof` (re-sent once with the server's DPoP-Nonce when asked). */
async function tokenWithProof(
  ctx: SuiteContext,
  makeProof: (extra: Partial<ProofInput>) => Promise<string>,
): Promise<JsonAnswer> {
  const { code, request } = await freshCode(ctx);
  let answer = await ctx.rp.exchange(code, request, {}, { dpop: await makeProof({}) });
  const nonce = answer.headers.get('dpop-nonce');
  if (answer.json.error === 'use_dpop_nonce' && nonce !== null)
    answer = await ctx.rp.exchange(code, request, {}, { dpop: await makeProof({ nonce }) });
  return answer;
}

/**
 * A broken proof at the token endpoint gets no token. `nonceAnswers`: the flaw is one a server nonce makes
 * moot (a stale iat: RFC 9449 §4.3 lets the nonce stand for the time), so the proof is not sent again with the
 * nonce, and the server asking for one (`use_dpop_nonce`) is a refusal too.
 */
async function brokenAtToken(
  ctx: SuiteContext,
  sent: string,
  make: (key: DpopKey, htu: string, extra: Partial<ProofInput>) => Promise<string>,
  nonceAnswers = false,
): Promise<Outcome> {
  if (!offered(ctx))
    return skip('the deployment does not advertise DPoP (dpop_signing_alg_values_supported)', { sent });
  const key = await newDpopKey();
  const htu = ctx.rp.discovery.token_endpoint;
  const answer = nonceAnswers
    ? await freshCode(ctx).then(async ({ code, request }) =>
        ctx.rp.exchange(code, request, {}, { dpop: await make(key, htu, {}) }),
      )
    : await tokenWithProof(ctx, (extra) => make(key, htu, extra));
  const refusals = ['invalid_dpop_proof', 'invalid_request', ...(nonceAnswers ? ['use_dpop_nonce'] : [])];
  const ok = !('access_token' in answer.json) && refusals.includes(String(answer.json.error));
  return judge(ok, {
    sent: `token request with a DPoP proof: ${sent}`,
    expected: `HTTP 400 ${refusals.filter((e) => e !== 'invalid_request').join(' or ')}, no token`,
    observed: describeTokenAnswer(answer),
  });
}

/** A DPoP-bound access token (memoized) and its key. */
function boundToken(ctx: SuiteContext): Promise<{ key: DpopKey; token: string; answer: JsonAnswer }> {
  return ctx.memo('dpop-bound-token', async () => {
    const key = await newDpopKey();
    const answer = await tokenWithProof(ctx, (extra) =>
      dpopProof(key, { htm: 'POST', htu: ctx.rp.discovery.token_endpoint, ...extra }),
    );
    return { key, token: String(answer.json.access_token ?? ''), answer };
  });
}

function userinfoUrl(ctx: SuiteContext): string {
  return String(ctx.rp.discovery.userinfo_endpoint);
}

async function atResource(
  ctx: SuiteContext,
  sent: string,
  call: (key: DpopKey, token: string) => Promise<JsonAnswer>,
): Promise<Outcome> {
  if (!offered(ctx)) return skip('the deployment does not advertise DPoP', { sent });
  const { key, token } = await boundToken(ctx);
  const answer = await call(key, token);
  return judge(answer.status === 401 || answer.status === 400, {
    sent: `UserInfo with a DPoP-bound token: ${sent}`,
    expected: 'HTTP 401 (invalid_token / invalid_dpop_proof)',
    observed: `HTTP ${answer.status}`,
  });
}

/** The DPoP checks. */
export const dpopChecks: readonly CheckDefinition[] = [
  {
    id: 'OIDC-DPOP-00',
    title: 'Positive control: a DPoP-bound token works with a fresh proof',
    plan: 'oidc',
    source: 'RFC 9449 §5, §7',
    requires: ['OIDC-BASE-00'],
    run: async (ctx) => {
      if (!offered(ctx)) return skip('the deployment does not advertise DPoP (dpop_signing_alg_values_supported)');
      const { key, token, answer } = await boundToken(ctx);
      const info =
        token === ''
          ? undefined
          : await ctx.rp.userinfo(token, {
              scheme: 'DPoP',
              headers: { dpop: await dpopProof(key, { htm: 'GET', htu: userinfoUrl(ctx), accessToken: token }) },
            });
      return judge(answer.json.token_type === 'DPoP' && info?.status === 200, {
        sent: 'token request with a valid proof; UserInfo with DPoP scheme and a proof with ath',
        expected: 'token_type=DPoP; UserInfo HTTP 200',
        observed: `token_type=${String(answer.json.token_type)}; UserInfo HTTP ${info?.status ?? '-'}`,
      });
    },
  },
  {
    id: 'OIDC-DPOP-01',
    title: 'A proof not signed by its header key is refused',
    plan: 'oidc',
    source: SOURCE,
    requires: ['OIDC-DPOP-00'],
    run: async (ctx) => {
      const other = await newDpopKey();
      return brokenAtToken(ctx, 'signed by another key than its jwk', (key, htu, extra) =>
        dpopProof(key, { htm: 'POST', htu, signWith: other.privateKey, ...extra }),
      );
    },
  },
  {
    id: 'OIDC-DPOP-02',
    title: 'A proof with the wrong htm is refused',
    plan: 'oidc',
    source: SOURCE,
    requires: ['OIDC-DPOP-00'],
    run: (ctx) =>
      brokenAtToken(ctx, 'htm=GET for a POST', (key, htu, extra) => dpopProof(key, { htm: 'GET', htu, ...extra })),
  },
  {
    id: 'OIDC-DPOP-03',
    title: 'A proof for another URL (htu) is refused',
    plan: 'oidc',
    source: SOURCE,
    requires: ['OIDC-DPOP-00'],
    run: (ctx) =>
      brokenAtToken(ctx, 'htu = the userinfo endpoint', (key, _htu, extra) =>
        dpopProof(key, { htm: 'POST', htu: userinfoUrl(ctx), ...extra }),
      ),
  },
  {
    id: 'OIDC-DPOP-04',
    title: 'A proof with typ JWT (not dpop+jwt) is refused',
    plan: 'oidc',
    source: SOURCE,
    requires: ['OIDC-DPOP-00'],
    run: (ctx) =>
      brokenAtToken(ctx, 'typ=JWT', (key, htu, extra) => dpopProof(key, { htm: 'POST', htu, typ: 'JWT', ...extra })),
  },
  {
    id: 'OIDC-DPOP-05',
    title: 'An unsigned proof (alg none) is refused',
    plan: 'oidc',
    source: `${SOURCE}; RFC 8725 §3.1`,
    requires: ['OIDC-DPOP-00'],
    run: (ctx) => brokenAtToken(ctx, 'alg=none', async (key, htu) => unsignedProof(key, { htm: 'POST', htu })),
  },
  {
    id: 'OIDC-DPOP-06',
    title: 'A proof carrying a private key in its jwk is refused',
    plan: 'oidc',
    source: `${SOURCE} (§4.2: jwk MUST NOT contain a private key)`,
    requires: ['OIDC-DPOP-00'],
    run: (ctx) =>
      brokenAtToken(ctx, 'jwk includes d', (key, htu, extra) =>
        dpopProof(key, { htm: 'POST', htu, jwk: key.privateJwk, ...extra }),
      ),
  },
  {
    id: 'OIDC-DPOP-07',
    title: 'A proof issued an hour ago is refused',
    plan: 'oidc',
    source: `${SOURCE} (§4.3 iat window)`,
    requires: ['OIDC-DPOP-00'],
    run: (ctx) =>
      brokenAtToken(
        ctx,
        'iat = now − 3600 s, no nonce',
        (key, htu, extra) => dpopProof(key, { htm: 'POST', htu, iat: Math.floor(Date.now() / 1000) - 3600, ...extra }),
        true,
      ),
  },
  {
    id: 'OIDC-DPOP-08',
    title: 'A replayed proof (same jti) is refused at the resource',
    plan: 'oidc',
    source: `${SOURCE} (§11.1 replay)`,
    requires: ['OIDC-DPOP-00'],
    run: (ctx) =>
      atResource(ctx, 'the same proof sent twice (second answer judged)', async (key, token) => {
        const proof = await dpopProof(key, { htm: 'GET', htu: userinfoUrl(ctx), accessToken: token });
        await ctx.rp.userinfo(token, { scheme: 'DPoP', headers: { dpop: proof } });
        return ctx.rp.userinfo(token, { scheme: 'DPoP', headers: { dpop: proof } });
      }),
  },
  {
    id: 'OIDC-DPOP-09',
    title: 'A DPoP-bound token sent as Bearer is refused (no downgrade)',
    plan: 'oidc',
    source: `${SOURCE} (§7.1)`,
    requires: ['OIDC-DPOP-00'],
    run: (ctx) => atResource(ctx, 'Authorization: Bearer, no proof', (_key, token) => ctx.rp.userinfo(token)),
  },
  {
    id: 'OIDC-DPOP-10',
    title: 'A DPoP-bound token with a proof of another key is refused',
    plan: 'oidc',
    source: `${SOURCE} (§7.1 cnf.jkt)`,
    requires: ['OIDC-DPOP-00'],
    run: (ctx) =>
      atResource(ctx, 'proof by another key', async (_key, token) => {
        const other = await newDpopKey();
        return ctx.rp.userinfo(token, {
          scheme: 'DPoP',
          headers: { dpop: await dpopProof(other, { htm: 'GET', htu: userinfoUrl(ctx), accessToken: token }) },
        });
      }),
  },
  {
    id: 'OIDC-DPOP-11',
    title: 'A proof with the wrong ath is refused at the resource',
    plan: 'oidc',
    source: `${SOURCE} (§4.3 ath)`,
    requires: ['OIDC-DPOP-00'],
    run: (ctx) =>
      atResource(ctx, 'ath of another token', async (key, token) =>
        ctx.rp.userinfo(token, {
          scheme: 'DPoP',
          headers: { dpop: await dpopProof(key, { htm: 'GET', htu: userinfoUrl(ctx), accessToken: `${token}x` }) },
        }),
      ),
  },
  {
    id: 'OIDC-DPOP-12',
    title: "A DPoP-bound token gets the gateway's signed risk assessment only with a fresh proof of its key",
    plan: 'oidc',
    source: `${SOURCE} (§7.1: every resource checks the binding)`,
    requires: ['OIDC-DPOP-00'],
    run: async (ctx) => {
      if (!offered(ctx)) return skip('the deployment does not advertise DPoP');
      const { key, token } = await boundToken(ctx);
      const base = ctx.target.href.endsWith('/') ? ctx.target.href : `${ctx.target.href}/`;
      const endpoint = new URL('risk/assessment', base).href;
      const call = async (headers: Record<string, string>) =>
        (
          await fetch(endpoint, { headers, signal: AbortSignal.timeout(15_000) }).then(async (r) => {
            await r.body?.cancel();
            return r;
          })
        ).status;
      const bearer = await call({ authorization: `Bearer ${token}` });
      const own = await call({
        authorization: `DPoP ${token}`,
        dpop: await dpopProof(key, { htm: 'GET', htu: endpoint, accessToken: token }),
      });
      return judge(bearer === 401 && own === 200, {
        sent: 'GET /risk/assessment with the bound token: as Bearer without a proof, then with the DPoP scheme and a proof',
        expected: 'HTTP 401, then HTTP 200',
        observed: `HTTP ${bearer}, then HTTP ${own}`,
      });
    },
  },
  {
    id: 'OIDC-DPOP-13',
    title: 'A proof with a nonce the server never issued gets no token',
    plan: 'oidc',
    source: `${SOURCE} (§8 nonce)`,
    requires: ['OIDC-DPOP-00'],
    run: (ctx) =>
      brokenAtToken(
        ctx,
        'nonce made up by the client',
        (key, htu) => dpopProof(key, { htm: 'POST', htu, nonce: `made-up-${randomUUID()}` }),
        true,
      ),
  },
  {
    id: 'OIDC-DPOP-14',
    title: 'The token endpoint requires its own nonce in a DPoP proof (a proof made in advance is worthless)',
    plan: 'oidc',
    source: 'RFC 9449 §8, §11.2 (pre-generated proofs)',
    requires: ['OIDC-DPOP-00'],
    run: async (ctx) => {
      if (!offered(ctx)) return skip('the deployment does not advertise DPoP');
      const key = await newDpopKey();
      const htu = ctx.rp.discovery.token_endpoint;
      const { code, request } = await freshCode(ctx);
      const first = await ctx.rp.exchange(code, request, {}, { dpop: await dpopProof(key, { htm: 'POST', htu }) });
      const nonce = first.headers.get('dpop-nonce');
      const asked = first.json.error === 'use_dpop_nonce' && nonce !== null && !('access_token' in first.json);
      const second = asked
        ? await ctx.rp.exchange(code, request, {}, { dpop: await dpopProof(key, { htm: 'POST', htu, nonce }) })
        : undefined;
      return judge(asked && second?.json.token_type === 'DPoP', {
        sent: "token request with a fresh proof without a nonce; then the same code with the server's DPoP-Nonce",
        expected: 'HTTP 400 use_dpop_nonce with a DPoP-Nonce header, no token; then token_type=DPoP',
        observed: `${describeTokenAnswer(first)}${nonce === null ? ', no DPoP-Nonce' : ''}; then ${
          second ? describeTokenAnswer(second) : '-'
        }`,
      });
    },
  },
];
