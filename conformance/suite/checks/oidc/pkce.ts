/**
 * PKCE (RFC 7636, RFC 9700 §2.1.1): required for every client, S256 only; the token endpoint checks the
 * verifier (mismatch, absent, malformed) and never lets a method-less challenge act as `plain`.
 */
import { randomValue, s256 } from '../../parties/rp.ts';
import { judge, type CheckDefinition } from '../../types.ts';
import {
  describeHop,
  describeTokenAnswer,
  firstHop,
  freshCode,
  refusedForItsParameters,
  sessionBrowser,
} from './flows.ts';

const NO_CODE =
  'error redirect (invalid_request) or an error page, no code (login_required and the like refuse the session, not the PKCE parameters)';

/** The PKCE checks. */
export const pkceChecks: readonly CheckDefinition[] = [
  {
    id: 'OIDC-PKCE-01',
    title: 'code_challenge_method=plain is refused',
    plan: 'oidc',
    source: 'RFC 9700 §2.1.1; RFC 7636 §4.2, §7.2; fapi2 …-par-plain-pkce-rejected',
    requires: ['OIDC-BASE-00'],
    run: async (ctx) => {
      const { browser } = await sessionBrowser(ctx);
      const verifier = randomValue(32);
      const hop = await firstHop(
        ctx,
        ctx.rp.authorization({ code_challenge: verifier, code_challenge_method: 'plain', prompt: 'none' }).url,
        browser,
      );
      return judge(refusedForItsParameters(hop, ctx.rp.client.redirectUri), {
        sent: 'code_challenge=<verifier>, code_challenge_method=plain (session present)',
        expected: NO_CODE,
        observed: describeHop(hop),
      });
    },
  },
  {
    id: 'OIDC-PKCE-02',
    title: 'A request without PKCE is refused',
    plan: 'oidc',
    source: 'RFC 9700 §2.1.1; fapi2 …-par-ensure-pkce-required',
    requires: ['OIDC-BASE-00'],
    run: async (ctx) => {
      const { browser } = await sessionBrowser(ctx);
      const hop = await firstHop(
        ctx,
        ctx.rp.authorization({ code_challenge: null, code_challenge_method: null, prompt: 'none' }).url,
        browser,
      );
      return judge(refusedForItsParameters(hop, ctx.rp.client.redirectUri), {
        sent: 'no code_challenge (session present)',
        expected: NO_CODE,
        observed: describeHop(hop),
      });
    },
  },
  {
    id: 'OIDC-PKCE-03',
    title: 'A challenge without method never works as plain',
    plan: 'oidc',
    source: 'RFC 7636 §4.3 (default plain); RFC 9700 §2.1.1',
    requires: ['OIDC-BASE-00'],
    run: async (ctx) => {
      const { browser } = await sessionBrowser(ctx);
      const challenge = randomValue(32);
      const hop = await firstHop(
        ctx,
        ctx.rp.authorization({ code_challenge: challenge, code_challenge_method: null, prompt: 'none' }).url,
        browser,
      );
      const sent = 'code_challenge without code_challenge_method; if a code comes, code_verifier = the challenge';
      const code = hop.params.get('code');
      if (code === null)
        return judge(refusedForItsParameters(hop, ctx.rp.client.redirectUri), {
          sent,
          expected: 'refused, or the code needs S256',
          observed: describeHop(hop),
        });
      const answer = await ctx.rp.token({
        grant_type: 'authorization_code',
        code,
        redirect_uri: ctx.rp.client.redirectUri,
        code_verifier: challenge,
      });
      return judge(answer.status === 400 && answer.json.error === 'invalid_grant', {
        sent,
        expected: 'refused, or the code needs S256 (invalid_grant for the plain verifier)',
        observed: `code issued; exchange ${describeTokenAnswer(answer)}`,
      });
    },
  },
  {
    id: 'OIDC-PKCE-04',
    title: 'A wrong code_verifier is refused (invalid_grant)',
    plan: 'oidc',
    source: 'RFC 7636 §4.6; fapi2 …-incorrect-pkce-code-verifier-rejected',
    requires: ['OIDC-BASE-00'],
    run: async (ctx) => {
      const { code } = await freshCode(ctx);
      const answer = await ctx.rp.token({
        grant_type: 'authorization_code',
        code,
        redirect_uri: ctx.rp.client.redirectUri,
        code_verifier: randomValue(32),
      });
      return judge(answer.json.error === 'invalid_grant' && !('access_token' in answer.json), {
        sent: 'token request with another verifier',
        expected: 'HTTP 400 invalid_grant',
        observed: describeTokenAnswer(answer),
      });
    },
  },
  {
    id: 'OIDC-PKCE-05',
    title: 'A token request without code_verifier is refused',
    plan: 'oidc',
    source: 'RFC 7636 §4.5, §4.6; fapi2 …-ensure-pkce-code-verifier-required',
    requires: ['OIDC-BASE-00'],
    run: async (ctx) => {
      const { code } = await freshCode(ctx);
      const answer = await ctx.rp.token({
        grant_type: 'authorization_code',
        code,
        redirect_uri: ctx.rp.client.redirectUri,
      });
      return judge(answer.status === 400 && !('access_token' in answer.json), {
        sent: 'token request without code_verifier',
        expected: 'HTTP 400 (invalid_grant / invalid_request), no token',
        observed: describeTokenAnswer(answer),
      });
    },
  },
  {
    id: 'OIDC-PKCE-06',
    title: 'A code_verifier shorter than 43 characters is refused',
    plan: 'oidc',
    source: 'RFC 7636 §4.1',
    requires: ['OIDC-BASE-00'],
    run: async (ctx) => {
      const short = 'short-verifier-0123456789';
      const { code } = await freshCode(ctx, { code_challenge: s256(short) });
      const answer = await ctx.rp.token({
        grant_type: 'authorization_code',
        code,
        redirect_uri: ctx.rp.client.redirectUri,
        code_verifier: short,
      });
      return judge(answer.status === 400 && !('access_token' in answer.json), {
        sent: `challenge = S256 of a ${short.length}-character verifier, then that verifier`,
        expected: 'HTTP 400, no token (or the challenge refused up front)',
        observed: describeTokenAnswer(answer),
      });
    },
  },
];
