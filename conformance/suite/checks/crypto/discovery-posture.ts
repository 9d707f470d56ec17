/**
 * Discovery posture (RFC 9700 §2.1.1/§2.1.2, RFC 8725, RFC 8414): only the code flow, S256 only, no
 * implicit or password grants, no `none`/HMAC algorithms offered anywhere, strong token-endpoint client
 * authentication, and TLS on anything that is not loopback.
 */
import type { SuiteContext } from '../../context.ts';
import { judge, skip, type CheckDefinition, type Outcome } from '../../types.ts';
import { isLoopback } from '../oidc/discovery.ts';

function list(ctx: SuiteContext, name: string): string[] | undefined {
  const v = ctx.rp.discovery[name];
  return Array.isArray(v) ? v.map(String) : undefined;
}

function posture(
  ctx: SuiteContext,
  name: string,
  expected: string,
  ok: (values: string[]) => boolean,
  /** What the metadata means when it leaves the member out (RFC 8414 §2 defaults), judged as if published. */
  whenAbsent?: string[],
): Outcome {
  const values = list(ctx, name);
  if (values === undefined)
    return whenAbsent
      ? judge(ok(whenAbsent), {
          sent: 'GET discovery',
          expected,
          observed: `${name} absent: read as ${JSON.stringify(whenAbsent)} (RFC 8414 §2)`,
        })
      : judge(false, { sent: 'GET discovery', expected, observed: `${name} absent` });
  return judge(ok(values), { sent: 'GET discovery', expected, observed: `${name} = ${JSON.stringify(values)}` });
}

const weakAlg = (a: string): boolean => a === 'none' || /^HS/.test(a) || a === 'RSA1_5';

/** The discovery posture checks. */
export const discoveryPostureChecks: readonly CheckDefinition[] = [
  {
    id: 'CRYPTO-DISC-01',
    title: 'Only the authorization code flow is offered',
    plan: 'crypto',
    source: 'RFC 9700 §2.1.2',
    run: async (ctx) =>
      posture(ctx, 'response_types_supported', 'exactly ["code"]', (v) => v.length === 1 && v[0] === 'code'),
  },
  {
    id: 'CRYPTO-DISC-02',
    title: 'PKCE method S256 only',
    plan: 'crypto',
    source: 'RFC 9700 §2.1.1; RFC 7636 §7.2',
    run: async (ctx) =>
      posture(ctx, 'code_challenge_methods_supported', 'exactly ["S256"]', (v) => v.length === 1 && v[0] === 'S256'),
  },
  {
    id: 'CRYPTO-DISC-03',
    title: 'No implicit or password grant',
    plan: 'crypto',
    source: 'RFC 9700 §2.1.2, §2.4',
    run: async (ctx) =>
      posture(
        ctx,
        'grant_types_supported',
        'neither implicit nor password',
        (v) => !v.includes('implicit') && !v.includes('password'),
        ['authorization_code', 'implicit'],
      ),
  },
  {
    id: 'CRYPTO-DISC-04',
    title: 'Token endpoint client authentication is never "none"',
    plan: 'crypto',
    source: 'RFC 6749 §2.3; RFC 9700 §2.5',
    run: async (ctx) =>
      posture(ctx, 'token_endpoint_auth_methods_supported', 'no "none"', (v) => v.length > 0 && !v.includes('none')),
  },
  {
    id: 'CRYPTO-DISC-05',
    title: 'No none/HMAC algorithm for client assertions',
    plan: 'crypto',
    source: 'RFC 8725 §3.1; RFC 7523 §3',
    run: async (ctx) =>
      posture(
        ctx,
        'token_endpoint_auth_signing_alg_values_supported',
        'no none, HS*, RSA1_5',
        (v) => !v.some(weakAlg),
        [],
      ),
  },
  {
    id: 'CRYPTO-DISC-06',
    title: 'ID tokens are never offered unsigned or HMAC-signed',
    plan: 'crypto',
    source: 'RFC 8725 §3.1; OpenID Connect Core 1.0 §10.1',
    run: async (ctx) =>
      posture(ctx, 'id_token_signing_alg_values_supported', 'no none, HS*', (v) => v.length > 0 && !v.some(weakAlg)),
  },
  {
    id: 'CRYPTO-DISC-07',
    title: 'Request objects are never accepted unsigned',
    plan: 'crypto',
    source: 'RFC 9101 §6.1; RFC 8725 §3.1',
    run: async (ctx) =>
      posture(
        ctx,
        'request_object_signing_alg_values_supported',
        'absent, or without none/HS*',
        (v) => !v.some(weakAlg),
        [],
      ),
  },
  {
    id: 'CRYPTO-DISC-08',
    title: 'DPoP proofs only with asymmetric algorithms',
    plan: 'crypto',
    source: 'RFC 9449 §4.2, §5.1',
    run: async (ctx) =>
      posture(ctx, 'dpop_signing_alg_values_supported', 'absent, or without none/HS*', (v) => !v.some(weakAlg), []),
  },
  {
    id: 'CRYPTO-DISC-09',
    title: 'UserInfo and introspection responses are never signed with none/HMAC',
    plan: 'crypto',
    source: 'RFC 8725 §3.1',
    run: async (ctx) => {
      const all = [
        ...(list(ctx, 'userinfo_signing_alg_values_supported') ?? []),
        ...(list(ctx, 'introspection_signing_alg_values_supported') ?? []),
        ...(list(ctx, 'authorization_signing_alg_values_supported') ?? []),
      ];
      return judge(!all.some(weakAlg), {
        sent: 'GET discovery',
        expected: 'no none, HS*',
        observed: JSON.stringify([...new Set(all)]),
      });
    },
  },
  {
    id: 'CRYPTO-TLS-01',
    title: 'The target is served over TLS',
    plan: 'crypto',
    source: 'RFC 9700 §2.6; RFC 9325',
    run: async (ctx) => {
      if (ctx.target.protocol === 'http:' && isLoopback(ctx.target))
        return skip('the target is a loopback http:// development deployment; TLS cannot be judged', {
          sent: ctx.target.href,
        });
      return judge(ctx.target.protocol === 'https:', {
        sent: ctx.target.href,
        expected: 'https',
        observed: ctx.target.protocol,
      });
    },
  },
];
