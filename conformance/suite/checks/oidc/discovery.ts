/**
 * OIDF Config OP plan (`oidcc-discovery-endpoint-verification`) and RFC 9207 discovery: the document is
 * served, its issuer is the target, endpoints are https (http tolerated only on loopback), the JWKS is
 * valid, `openid` is a scope, only the code response type, RS256 offered, `iss` in responses advertised.
 */
import type { SuiteContext } from '../../context.ts';
import { judge, type CheckDefinition, type Outcome } from '../../types.ts';

const DISCOVERY = 'GET /.well-known/openid-configuration';

function needDiscovery(ctx: SuiteContext): Record<string, unknown> {
  if (ctx.discovery === undefined) throw new Error(ctx.discoveryError ?? 'no discovery document');
  return ctx.discovery;
}

function list(doc: Record<string, unknown>, name: string): string[] {
  const v = doc[name];
  return Array.isArray(v) ? v.map(String) : [];
}

/** True for 127.0.0.0/8, ::1 and localhost. */
export function isLoopback(url: URL): boolean {
  return url.hostname === 'localhost' || url.hostname === '[::1]' || /^127(\.\d{1,3}){3}$/.test(url.hostname);
}

async function fieldCheck(
  ctx: SuiteContext,
  expected: string,
  test: (doc: Record<string, unknown>) => [boolean, string],
): Promise<Outcome> {
  const doc = needDiscovery(ctx);
  const [ok, observed] = test(doc);
  return judge(ok, { sent: DISCOVERY, expected, observed });
}

/** The discovery checks. */
export const discoveryChecks: readonly CheckDefinition[] = [
  {
    id: 'OIDC-CFG-01',
    title: 'Discovery document is served and its issuer is the target',
    plan: 'oidc',
    source: 'OpenID Connect Discovery 1.0 §3, §4.3; oidcc-discovery-endpoint-verification',
    run: (ctx) =>
      fieldCheck(ctx, `issuer = ${ctx.target.href.replace(/\/$/, '')}`, (doc) => [
        doc.issuer === ctx.target.href.replace(/\/$/, '') || doc.issuer === ctx.target.href,
        `issuer = ${String(doc.issuer)}`,
      ]),
  },
  {
    id: 'OIDC-CFG-02',
    title: 'Every endpoint is https (http only on a loopback target)',
    plan: 'oidc',
    source: 'OpenID Connect Discovery 1.0 §3; RFC 9700 §2.6',
    run: (ctx) =>
      fieldCheck(ctx, 'https endpoints, on the issuer host', (doc) => {
        const names = Object.keys(doc).filter((k) => k.endsWith('_endpoint') || k === 'jwks_uri');
        const bad = names.filter((k) => {
          const u = new URL(String(doc[k]));
          return !(u.protocol === 'https:' || (u.protocol === 'http:' && isLoopback(u)));
        });
        return [
          names.length > 0 && bad.length === 0,
          bad.length === 0 ? `${names.length} endpoints, all acceptable` : `not https: ${bad.join(', ')}`,
        ];
      }),
  },
  {
    id: 'OIDC-CFG-03',
    title: 'jwks_uri serves a valid JWKS with kid on every key',
    plan: 'oidc',
    source: 'OpenID Connect Discovery 1.0 §3; RFC 7517 §5',
    run: async (ctx) => {
      const keys = (await ctx.rp.jwks()).keys ?? [];
      const bad = keys.filter((k) => typeof k.kty !== 'string' || typeof k.kid !== 'string');
      return judge(keys.length > 0 && bad.length === 0, {
        sent: `GET ${ctx.rp.discovery.jwks_uri}`,
        expected: 'a JWKS with at least one key, each with kty and kid',
        observed: `${keys.length} keys, ${bad.length} without kty/kid`,
      });
    },
  },
  {
    id: 'OIDC-CFG-04',
    title: 'scopes_supported contains openid',
    plan: 'oidc',
    source: 'OpenID Connect Discovery 1.0 §3',
    run: (ctx) =>
      fieldCheck(ctx, 'openid ∈ scopes_supported', (doc) => [
        list(doc, 'scopes_supported').includes('openid'),
        `scopes_supported = ${JSON.stringify(doc.scopes_supported)}`,
      ]),
  },
  {
    id: 'OIDC-CFG-05',
    title: 'subject_types_supported and claims_supported are published',
    plan: 'oidc',
    source: 'OpenID Connect Discovery 1.0 §3',
    run: (ctx) =>
      fieldCheck(ctx, 'non-empty subject_types_supported and claims_supported', (doc) => [
        list(doc, 'subject_types_supported').length > 0 && list(doc, 'claims_supported').length > 0,
        `subject_types_supported = ${JSON.stringify(doc.subject_types_supported)}, ${list(doc, 'claims_supported').length} claims`,
      ]),
  },
  {
    id: 'OIDC-CFG-06',
    title: 'RS256 is offered for ID tokens (mandatory to implement)',
    plan: 'oidc',
    source: 'OpenID Connect Core 1.0 §15.1; oidcc-idtoken-signature',
    run: (ctx) =>
      fieldCheck(ctx, 'RS256 ∈ id_token_signing_alg_values_supported', (doc) => [
        list(doc, 'id_token_signing_alg_values_supported').includes('RS256'),
        `id_token_signing_alg_values_supported = ${JSON.stringify(doc.id_token_signing_alg_values_supported)}`,
      ]),
  },
  {
    id: 'OIDC-ISS-00',
    title: 'authorization_response_iss_parameter_supported is true',
    plan: 'oidc',
    source: 'RFC 9207 §3',
    run: (ctx) =>
      fieldCheck(ctx, 'authorization_response_iss_parameter_supported = true', (doc) => [
        doc.authorization_response_iss_parameter_supported === true,
        `= ${String(doc.authorization_response_iss_parameter_supported)}`,
      ]),
  },
  {
    id: 'OIDC-RPL-00',
    title: 'end_session_endpoint is published (RP-initiated logout)',
    plan: 'oidc',
    source: 'OpenID Connect RP-Initiated Logout 1.0 §2.1; oidcc-rp-initiated-logout-discovery-endpoint-verification',
    run: (ctx) =>
      fieldCheck(ctx, 'an end_session_endpoint URL', (doc) => [
        typeof doc.end_session_endpoint === 'string',
        `end_session_endpoint = ${String(doc.end_session_endpoint)}`,
      ]),
  },
];
