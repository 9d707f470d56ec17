/**
 * The endpoints an attacker hammers, which the rate limits apply to, recognised from method and path (the signed
 * risk assessment among them: each answer costs an HSM signature; introspection and revocation: client
 * authentication; userinfo: a made-up token costs a database read); every other request (discovery, JWKS, static pages, /health) is not limited. The client an
 * authorization or token request is made for, when it says so without a body being read (query `client_id`, HTTP
 * Basic).
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import type { Context } from 'koa';
import type { ClientEntry } from '../config/types.ts';

export type LimitedEndpoint =
  | 'authorize'
  | 'token'
  | 'par'
  | 'introspection'
  | 'revocation'
  | 'userinfo'
  | 'chooser'
  | 'acs'
  | 'logout'
  | 'webauthn'
  | 'interaction'
  | 'assessment';
export const LIMITED_ENDPOINTS: readonly LimitedEndpoint[] = [
  'authorize',
  'token',
  'par',
  'introspection',
  'revocation',
  'userinfo',
  'chooser',
  'acs',
  'logout',
  'webauthn',
  'interaction',
  'assessment',
];

const UID = '[A-Za-z0-9_-]{1,128}';
const CHOOSER = new RegExp(`^/interaction/${UID}(/idp)?$`);
const WEBAUTHN = new RegExp(`^/interaction/${UID}/webauthn(/|$)`);
/** A login's own pages and side channel: the completion hop, the review wait, the behaviour signals' POST. */
const INTERACTION_STEPS = new RegExp(`^/interaction/${UID}/(complete|review|signals)$`);
/** oidc-provider's resume of a login (`/auth/:uid`), where the completion step runs (resume-completion.ts). */
const RESUME = new RegExp(`^/auth/${UID}$`);

/**
 * @param loginResponses the upstream protocols' `login-response` routes as `METHOD path` (`POST /saml/acs`): the
 * answers from IdPs, limited as `acs` whatever the protocol that declared them
 * @param logoutDoors the upstream protocols' `logout` routes (`GET /saml/slo`, `POST /saml/slo`): limited as
 * `logout`, with a bucket of their own (`rateLimit.perIpLogout`)
 */
export function limitedEndpoint(
  method: string,
  path: string,
  loginResponses: ReadonlySet<string>,
  logoutDoors: ReadonlySet<string>,
): LimitedEndpoint | undefined {
  if (path === '/auth' && (method === 'GET' || method === 'POST')) return 'authorize';
  if (path === '/token' && method === 'POST') return 'token';
  // pushed authorization requests (RFC 9126, oidc-provider's default route): a login's start, client-authenticated
  if (path === '/request' && method === 'POST') return 'par';
  // oidc-provider's default routes: client authentication there is credential stuffing's door too, and an RP's
  // resource servers introspect its (opaque) tokens, each refusal audited
  if (path === '/token/introspection' && method === 'POST') return 'introspection';
  if (path === '/token/revocation' && method === 'POST') return 'revocation';
  // userinfo answers anyone with a bearer value, and one it does not hold costs a PostgreSQL read: unlimited, a flood
  // of made-up tokens took the pool every login needs (attacker review, twenty-ninth round)
  if (path === '/me' && (method === 'GET' || method === 'POST')) return 'userinfo';
  // each answer is signed in the HSM (api/risk-assessment.ts)
  if (path === '/risk/assessment' && method === 'GET') return 'assessment';
  if (loginResponses.has(`${method} ${path}`)) return 'acs';
  if (logoutDoors.has(`${method} ${path}`)) return 'logout';
  if (WEBAUTHN.test(path)) return 'webauthn';
  if (CHOOSER.test(path)) return 'chooser';
  // each costs Redis reads (the interaction, its login) before its cookie is judged: unlimited, one address made
  // them without end (the WebSocket side channel has its own caps, signals-socket-caps.ts)
  if (INTERACTION_STEPS.test(path) && (method === 'GET' || method === 'POST')) return 'interaction';
  // the resume runs the completion's Redis work (its context, the interaction, the claim, the outcome) for whoever
  // holds the resume cookie of a login, as often as sent
  if (RESUME.test(path) && method === 'GET') return 'interaction';
  return undefined;
}

/**
 * The client whose bucket an authorization (query `client_id`), token or pushed authorization (HTTP Basic) request
 * uses, when readable without the body. Not an introspection's or a revocation's: the RP's bucket counts its
 * logins, which its resource servers' calls must not use up.
 *
 * A token or pushed authorization request names its client only with that client's own secret: anyone can send
 * `Basic victim:wrong` at the rate of many addresses, and with the name alone that emptied the RP's bucket, every
 * code exchange of its users then refused (attacker review, thirty-first round). The request goes on with the
 * address's and the failures' buckets, and oidc-provider refuses it. An authorization request's `client_id` is
 * anyone's to send, as its users' browsers send it: its bucket caps what the RP's logins may take.
 */
export function requestedClient(
  ctx: Context,
  endpoint: LimitedEndpoint,
  clients: ReadonlyMap<string, ClientEntry>,
): string | undefined {
  if (endpoint === 'authorize') {
    const id = ctx.query.client_id;
    return typeof id === 'string' ? id : undefined;
  }
  if (endpoint !== 'token' && endpoint !== 'par') return undefined;
  const presented = basicCredentials(ctx.get('authorization'));
  const registered = presented === undefined ? undefined : clients.get(presented.id)?.client_secret;
  return registered !== undefined && sameSecret(registered, presented!.secret) ? presented!.id : undefined;
}

/** The client id and secret of an HTTP Basic header, decoded as oidc-provider does (RFC 6749 §2.3.1). */
function basicCredentials(header: string): { id: string; secret: string } | undefined {
  if (!header.toLowerCase().startsWith('basic ')) return undefined;
  const decoded = Buffer.from(header.slice(6).trim(), 'base64').toString('utf8');
  const colon = decoded.indexOf(':');
  if (colon <= 0) return undefined;
  const form = (part: string) => decodeURIComponent(part.replace(/\+/g, '%20'));
  try {
    return { id: form(decoded.slice(0, colon)), secret: form(decoded.slice(colon + 1)) };
  } catch {
    return undefined;
  }
}

/** Compared in constant time, whatever the lengths (their digests are). */
function sameSecret(registered: string, presented: string): boolean {
  const digest = (value: string) => createHash('sha256').update(value).digest();
  return timingSafeEqual(digest(registered), digest(presented));
}
