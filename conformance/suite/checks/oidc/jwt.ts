/**
 * JWTs the OP receives (RFC 8725 §3.1–3.2): an `alg: none` or foreign-signed `id_token_hint` never yields a
 * silent login, and an unsigned request object is never acted on.
 */
import { SignJWT, importPKCS8, decodeJwt } from 'jose';
import type { SuiteContext } from '../../context.ts';
import { judge, type CheckDefinition } from '../../types.ts';
import { describeHop, firstHop, sessionBrowser } from './flows.ts';

/** An unsigned JWT (`alg: none`) with these claims. */
export function unsignedJwt(claims: Record<string, unknown>): string {
  const part = (v: unknown): string => Buffer.from(JSON.stringify(v)).toString('base64url');
  return `${part({ alg: 'none', typ: 'JWT' })}.${part(claims)}.`;
}

/** A JWT with these claims signed by the suite's attacker key (RS256). */
export async function attackerJwt(ctx: SuiteContext, claims: Record<string, unknown>, kid?: string): Promise<string> {
  const key = await importPKCS8((await ctx.attacker()).privateKeyPem, 'RS256');
  return new SignJWT(claims)
    .setProtectedHeader({ alg: 'RS256', typ: 'JWT', ...(kid === undefined ? {} : { kid }) })
    .sign(key);
}

/** The JWT checks. */
export const jwtChecks: readonly CheckDefinition[] = [
  {
    id: 'OIDC-JWT-01',
    title: 'An alg:none id_token_hint never gives a silent login',
    plan: 'oidc',
    source: 'RFC 8725 §3.1; OpenID Connect Core 1.0 §3.1.2.1 (id_token_hint); oidcc-id-token-hint',
    requires: ['OIDC-BASE-00'],
    run: async (ctx) => {
      const { browser, login } = await sessionBrowser(ctx);
      const hint = unsignedJwt(decodeJwt(login.idToken));
      const hop = await firstHop(ctx, ctx.rp.authorization({ prompt: 'none', id_token_hint: hint }).url, browser);
      return judge(!hop.params.has('code'), {
        sent: 'prompt=none with id_token_hint = the real ID token re-encoded with alg none (session present)',
        expected: 'an error (invalid_request / login_required), no code',
        observed: describeHop(hop),
      });
    },
  },
  {
    id: 'OIDC-JWT-02',
    title: 'An id_token_hint signed by someone else never gives a silent login',
    plan: 'oidc',
    source: 'RFC 8725 §3.2; OpenID Connect Core 1.0 §3.1.2.1',
    requires: ['OIDC-BASE-00'],
    run: async (ctx) => {
      const { browser, login } = await sessionBrowser(ctx);
      const hint = await attackerJwt(ctx, decodeJwt(login.idToken), String(login.header.kid ?? ''));
      const hop = await firstHop(ctx, ctx.rp.authorization({ prompt: 'none', id_token_hint: hint }).url, browser);
      return judge(!hop.params.has('code'), {
        sent: 'prompt=none with id_token_hint re-signed by an attacker key (same kid)',
        expected: 'an error, no code',
        observed: describeHop(hop),
      });
    },
  },
  {
    id: 'OIDC-JWT-03',
    title: 'An unsigned request object (alg none) is not acted on',
    plan: 'oidc',
    source:
      'RFC 9101 §6.1; RFC 8725 §3.1; oidcc-unsigned-request-object-supported-correctly-or-rejected-as-unsupported',
    run: async (ctx) => {
      const noneAdvertised =
        Array.isArray(ctx.rp.discovery.request_object_signing_alg_values_supported) &&
        ctx.rp.discovery.request_object_signing_alg_values_supported.includes('none');
      const template = ctx.rp.authorization({ prompt: 'none' });
      const inner = Object.fromEntries(template.url.searchParams);
      const request = unsignedJwt({
        ...inner,
        iss: ctx.rp.client.clientId,
        aud: ctx.rp.discovery.issuer,
        redirect_uri: 'https://attacker.example/callback',
      });
      const url = new URL(template.url);
      url.searchParams.set('request', request);
      const hop = await firstHop(ctx, url);
      const toAttacker = hop.location?.origin === 'https://attacker.example';
      const ok = !toAttacker && (noneAdvertised || !hop.params.has('code'));
      return judge(ok, {
        sent: 'request=<alg none JWT redirecting to https://attacker.example>',
        expected:
          'request_not_supported / invalid_request_object (or processed only if none is advertised); never a redirect to the attacker',
        observed: describeHop(hop),
      });
    },
  },
];
