/**
 * Refresh tokens, probed over HTTP (RFC 9700 §4.14.2; OAuth 2.1 §4.3.1): when the target issues a refresh
 * token to the suite's RP, it must be rotated on every use, and presenting an already-rotated one must be
 * refused and revoke the family (the current refresh token and the session's access token stop working).
 * A target that issues no refresh token to the suite's RP is skipped with that reason.
 */
import type { SuiteContext } from '../../context.ts';
import type { JsonAnswer } from '../../parties/rp.ts';
import { judge, skip, type CheckDefinition } from '../../types.ts';
import { describeTokenAnswer } from './flows.ts';

/** The skip reason when the target issues no refresh token to the suite's RP. */
export const NO_REFRESH =
  'the target issued no refresh_token to the suite RP (not registered for the refresh_token grant)';

interface Chain {
  /** The code exchange's answer (RT1). */
  first: JsonAnswer;
  /** The first refresh with RT1 (RT2, AT2), when RT1 was issued. */
  second?: JsonAnswer;
}

/** One login of its own (the reuse check revokes its session, which must not be the shared one), RT1 → RT2. */
function chain(ctx: SuiteContext): Promise<Chain | string> {
  return ctx.memo('refresh-chain', async () => {
    const login = await ctx.login();
    if (login.code === null) return `login failed: error=${login.error ?? login.status}`;
    const first = await ctx.rp.exchange(login.code, login.request);
    const rt1 = first.json.refresh_token;
    if (typeof rt1 !== 'string') return { first };
    return { first, second: await ctx.rp.token({ grant_type: 'refresh_token', refresh_token: rt1 }) };
  });
}

/** The refresh-token checks. */
export const refreshChecks: readonly CheckDefinition[] = [
  {
    id: 'OIDC-REFRESH-01',
    title: 'A refresh token is rotated on every use',
    plan: 'oidc',
    source: 'RFC 9700 §4.14.2 (refresh token rotation); OAuth 2.1 §4.3.1',
    requires: ['OIDC-BASE-00'],
    run: async (ctx) => {
      const sent = 'code exchange, then grant_type=refresh_token with the refresh token';
      const c = await chain(ctx);
      if (typeof c === 'string') return { verdict: 'fail', sent: 'an honest login', expected: 'a code', observed: c };
      const rt = c.first.json.refresh_token;
      if (typeof rt !== 'string' || c.second === undefined)
        return skip(NO_REFRESH, { sent, expected: 'a refresh_token', observed: describeTokenAnswer(c.first) });
      const next = c.second;
      return judge(
        next.status === 200 &&
          typeof next.json.refresh_token === 'string' &&
          next.json.refresh_token !== rt &&
          typeof next.json.access_token === 'string',
        {
          sent,
          expected: 'HTTP 200 with a new access token and a new refresh token (different from the one presented)',
          observed: `${describeTokenAnswer(next)}${next.json.refresh_token === rt ? ' (same refresh token)' : ''}`,
        },
      );
    },
  },
  {
    id: 'OIDC-REFRESH-02',
    title: 'Presenting an already-rotated refresh token is refused and revokes the family',
    plan: 'oidc',
    source: 'RFC 9700 §4.14.2 (reuse detection); OAuth 2.1 §4.3.1',
    requires: ['OIDC-BASE-00'],
    run: async (ctx) => {
      const sent = 'refresh with RT1 (→ RT2, AT2); refresh with RT1 again; then refresh with RT2 and userinfo with AT2';
      const c = await chain(ctx);
      if (typeof c === 'string') return { verdict: 'fail', sent: 'an honest login', expected: 'a code', observed: c };
      const rt1 = c.first.json.refresh_token;
      if (typeof rt1 !== 'string' || c.second === undefined)
        return skip(NO_REFRESH, { sent, expected: 'a refresh_token', observed: describeTokenAnswer(c.first) });
      const rt2 = c.second.json.refresh_token;
      const at2 = c.second.json.access_token;
      if (c.second.status !== 200 || typeof rt2 !== 'string' || typeof at2 !== 'string') {
        return {
          verdict: 'fail',
          sent,
          expected: 'the first refresh to succeed',
          observed: describeTokenAnswer(c.second),
        };
      }
      const reuse = await ctx.rp.token({ grant_type: 'refresh_token', refresh_token: rt1 });
      const current = await ctx.rp.token({ grant_type: 'refresh_token', refresh_token: rt2 });
      const info = await ctx.rp.userinfo(at2);
      return judge(
        reuse.status === 400 &&
          reuse.json.error === 'invalid_grant' &&
          current.status === 400 &&
          current.json.error === 'invalid_grant' &&
          info.status === 401,
        {
          sent,
          expected: 'reuse: 400 invalid_grant; RT2: 400 invalid_grant; userinfo with AT2: 401',
          observed: `reuse: ${describeTokenAnswer(reuse)}; RT2: ${describeTokenAnswer(current)}; userinfo: HTTP ${info.status}`,
        },
      );
    },
  },
];
