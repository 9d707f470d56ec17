/**
 * Authorization codes (RFC 6749 §4.1.2, RFC 9700 §4.5, `oidcc-codereuse`): single use; a second use is
 * refused AND revokes the tokens of the first use; made-up codes are refused; token responses are not
 * cacheable (RFC 6749 §5.1).
 */
import { judge, type CheckDefinition } from '../../types.ts';
import { describeTokenAnswer, freshCode } from './flows.ts';
import { describe } from '../../verdicts.ts';

/** The code checks. */
export const codeChecks: readonly CheckDefinition[] = [
  {
    id: 'OIDC-CODE-01',
    title: 'A code used twice is refused and the grant is revoked',
    plan: 'oidc',
    source: 'RFC 6749 §4.1.2, §10.5; RFC 9700 §4.5; oidcc-codereuse',
    requires: ['OIDC-BASE-00'],
    run: async (ctx) => {
      // Its own browser and login: revoking this grant must not touch the session other checks use.
      const login = await ctx.login();
      if (login.code === null)
        return { verdict: 'fail', sent: 'an honest login', expected: 'a code', observed: describe(login) };
      const { code, request } = { code: login.code, request: login.request };
      const first = await ctx.rp.exchange(code, request);
      const second = await ctx.rp.exchange(code, request);
      const token = String(first.json.access_token ?? '');
      const after = token === '' ? undefined : await ctx.rp.userinfo(token);
      const ok =
        first.status === 200 && second.json.error === 'invalid_grant' && after !== undefined && after.status === 401;
      return judge(ok, {
        sent: 'token request with a code, the same request again, then UserInfo with the first access token',
        expected: 'first: tokens; second: invalid_grant; the first access token no longer works (401)',
        observed: `first ${describeTokenAnswer(first)}; second ${describeTokenAnswer(second)}; UserInfo with the first token: HTTP ${after?.status ?? '-'}`,
      });
    },
  },
  {
    id: 'OIDC-CODE-02',
    title: 'A made-up code is refused (invalid_grant)',
    plan: 'oidc',
    source: 'RFC 6749 §5.2',
    run: async (ctx) => {
      const answer = await ctx.rp.token({
        grant_type: 'authorization_code',
        code: 'made-up-code-0123456789abcdef0123456789',
        redirect_uri: ctx.rp.client.redirectUri,
        code_verifier: 'v'.repeat(43),
      });
      return judge(answer.json.error === 'invalid_grant', {
        sent: 'token request with a code the OP never issued',
        expected: 'HTTP 400 invalid_grant',
        observed: describeTokenAnswer(answer),
      });
    },
  },
  {
    id: 'OIDC-CODE-03',
    title: 'Token responses are not cacheable (Cache-Control: no-store)',
    plan: 'oidc',
    source: 'RFC 6749 §5.1; RFC 9700 §4.3.2 (HTTP-05)',
    requires: ['OIDC-BASE-00'],
    run: async (ctx) => {
      const { code, request } = await freshCode(ctx);
      const answer = await ctx.rp.exchange(code, request);
      const cache = answer.headers.get('cache-control') ?? '';
      return judge(answer.status === 200 && /no-store/i.test(cache), {
        sent: 'honest token request',
        expected: 'HTTP 200 with Cache-Control: no-store',
        observed: `HTTP ${answer.status}, Cache-Control: ${cache || '(absent)'}`,
      });
    },
  },
];
