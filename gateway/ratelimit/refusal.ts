/**
 * How a refused request is answered (HTTP 429, RFC 6585 §4, always with `Retry-After`):
 *
 * - an API call (the token, introspection and revocation endpoints, the signed risk assessment, or a client that asks for JSON): an OAuth-shaped body,
 *   `{ "error": "temporarily_unavailable", "error_description" }`. RFC 6749 defines `temporarily_unavailable`
 *   for the authorization endpoint (§4.1.2.1) and lists no overload code for the token endpoint (§5.2); the
 *   same code is used there so an RP has one value to test, and the 429 status says the rest;
 * - an authorization request from a configured client to one of its registered redirect URIs, in the
 *   default (query) response mode: the RP gets `error=temporarily_unavailable` with its `state` and our `iss`
 *   (RFC 9207; unless the client's `compatibility.errorResponseIss` is `omit`) — the user goes back to the
 *   service instead of a dead end;
 * - anything else in a browser: the FR/EN error page with the code `RATE_LIMITED` (http/error-handler.ts).
 *
 * A new login shed because the HSM is saturated (`HSM_BUSY`) is answered the same way with 503.
 */
import type { Context } from 'koa';
import type { ClientEntry } from '../config/types.ts';
import { GatewayError } from '../errors.ts';
import type { LimitedEndpoint } from './endpoints.ts';

const DESCRIPTIONS = {
  RATE_LIMITED: 'Too many requests; retry after the number of seconds in Retry-After.',
  HSM_BUSY: 'The service is busy; retry after the number of seconds in Retry-After.',
} as const;
const STATUS = { RATE_LIMITED: 429, HSM_BUSY: 503 } as const;

/** Why a request is refused before it is served. */
export type RefusalCode = keyof typeof STATUS;

/** The endpoints only machines call: always the JSON answer. */
const API_CALLS: ReadonlySet<LimitedEndpoint> = new Set([
  'token',
  'par',
  'introspection',
  'revocation',
  'userinfo',
  'assessment',
]);

export function refuse(
  ctx: Context,
  endpoint: LimitedEndpoint,
  retryAfterSeconds: number,
  clients: ReadonlyMap<string, ClientEntry>,
  issuer: string,
  code: RefusalCode,
): void {
  const description = DESCRIPTIONS[code];
  if (API_CALLS.has(endpoint) || ctx.accepts('html', 'json') === 'json')
    return refuseApiCall(ctx, retryAfterSeconds, code);
  ctx.set('Retry-After', String(retryAfterSeconds));
  ctx.set('Cache-Control', 'no-store');
  const back =
    endpoint === 'authorize' && ctx.method === 'GET' ? backToClient(ctx, clients, issuer, description) : undefined;
  if (back !== undefined) {
    ctx.status = 303;
    ctx.redirect(back);
    return;
  }
  throw new GatewayError(code, STATUS[code], description);
}

/**
 * An API call refused (the OAuth-shaped body above): also what a handler answers once it knows more than the
 * middleware (the signed risk assessment's per-login bucket), so that one endpoint has one refusal.
 *
 * @example
 * if (refused) return refuseApiCall(ctx, refused.retryAfterSeconds, 'RATE_LIMITED');
 */
export function refuseApiCall(ctx: Context, retryAfterSeconds: number, code: RefusalCode): void {
  ctx.set('Retry-After', String(retryAfterSeconds));
  ctx.set('Cache-Control', 'no-store');
  ctx.status = STATUS[code];
  ctx.body = { error: 'temporarily_unavailable', error_description: DESCRIPTIONS[code] };
}

function backToClient(
  ctx: Context,
  clients: ReadonlyMap<string, ClientEntry>,
  issuer: string,
  description: string,
): string | undefined {
  const { client_id: clientId, redirect_uri: redirectUri, state, response_mode: mode } = ctx.query;
  if (typeof clientId !== 'string' || typeof redirectUri !== 'string') return undefined;
  if (mode !== undefined && mode !== 'query') return undefined;
  const client = clients.get(clientId);
  if (client === undefined || !client.redirect_uris.includes(redirectUri)) return undefined;
  const target = new URL(redirectUri);
  target.searchParams.set('error', 'temporarily_unavailable');
  target.searchParams.set('error_description', description);
  if (typeof state === 'string') target.searchParams.set('state', state);
  if (client.compatibility.errorResponseIss === 'send') target.searchParams.set('iss', issuer);
  return target.href;
}
