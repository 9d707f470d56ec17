/**
 * The limits a request handler applies once it knows more than the middleware can (issue #15):
 *
 * - `admitIdp(ctx, idp, 'request' | 'response', device)`: the IdP's bucket, taken by every AuthnRequest sent to it
 *   (start-upstream.ts) and every response it really sent (upstream-answer.ts, once the adapter verified it:
 *   a stranger's junk posted with a live RelayState takes nothing from the IdP). A request also takes its
 *   address's share, and either the device's share (`device`: the id of the browser's valid device cookie) or,
 *   without one, the cap on new browsers (`rateLimit.perIdp.knownDeviceShare`);
 * - `admitIdentity(ctx, key)`: the identity's bucket for this endpoint, and its slower failures bucket
 *   checked (ACS: the account of the verified answer's pivot identity, whatever the IdP and NameID — its IdP and
 *   NameID when it is no valid pivot; WebAuthn: the pivot identity's account). Only an HMAC of the key is
 *   stored in Redis, never the identity;
 * - `mayGiveDevice(ctx, key)`: whether the account's verified login may give this browser (which holds no laned
 *   device cookie) a laned one (`rateLimit.perIdentityNewDevices`; key: the account): past it the browser gets a
 *   risk-only one (risk/device-cookie.ts). Never a refusal: a laned cookie is what the known-device parts of the
 *   IdPs' and RPs' buckets are kept for, and one real account must not collect them by the thousand. Without the
 *   middleware (rate limits off) it admits: no such part is kept then;
 * - `admitLogin(ctx, grantId)`: the login's bucket at the signed risk assessment (`rateLimit.perLoginAssessment`),
 *   taken once the presented token is found, before the HSM signs (a made-up token writes no bucket);
 * - `markFailed(ctx)`: this request failed although it answers < 400 (a refused SAML response of a known
 *   login is a 303 to the RP's error): the middleware then charges the address's and, if one was admitted,
 *   the identity's failures buckets as for any answer ≥ 400.
 *
 * Each returns the refusal (Retry-After already set) or undefined; the handler answers it like its other
 * refusals (RATE_LIMITED: 429, or the RP told `temporarily_unavailable`). Without the middleware in front
 * (rate limits off) every check admits.
 */
import type { Context } from 'koa';
import type { Decision } from './bucket.ts';

export type IdpDirection = 'request' | 'response';

/** What the middleware hangs on each limited request. */
export interface RequestLimits {
  idp(idp: string, direction: IdpDirection, device?: string | null): Promise<Decision>;
  identity(key: string): Promise<Decision>;
  login(grantId: string): Promise<Decision>;
  newDevice(key: string): Promise<Decision>;
  markFailed(): void;
}

const LIMITS = Symbol('gateway.ratelimit.request');

export function attachLimits(ctx: Context, limits: RequestLimits): void {
  (ctx.state as Record<symbol, unknown>)[LIMITS] = limits;
}

function limitsOf(ctx: Context): RequestLimits | undefined {
  return (ctx.state as Record<symbol, RequestLimits | undefined>)[LIMITS];
}

/** A refusal to answer: how long to wait (Retry-After is already set on the response). */
export interface Refusal {
  retryAfterSeconds: number;
}

function refusalOf(ctx: Context, decision: Decision): Refusal | undefined {
  if (decision.admitted) return undefined;
  ctx.set('Retry-After', String(decision.retryAfterSeconds));
  return { retryAfterSeconds: decision.retryAfterSeconds };
}

/**
 * @example
 * const refused = await admitIdp(ctx, 'eidas-be', 'request', deviceId);
 * if (refused) throw new GatewayError('RATE_LIMITED', 429, 'too many requests to this identity provider');
 */
export async function admitIdp(
  ctx: Context,
  idp: string,
  direction: IdpDirection,
  device?: string | null,
): Promise<Refusal | undefined> {
  const limits = limitsOf(ctx);
  return limits ? refusalOf(ctx, await limits.idp(idp, direction, device)) : undefined;
}

/**
 * @example
 * const refused = await admitIdentity(ctx, `${identity.idp}\n${identity.subject}`);
 */
export async function admitIdentity(ctx: Context, key: string): Promise<Refusal | undefined> {
  const limits = limitsOf(ctx);
  return limits ? refusalOf(ctx, await limits.identity(key)) : undefined;
}

/**
 * @example
 * const refused = await admitLogin(ctx, at.grantId);
 * if (refused) return refuseApiCall(ctx, refused.retryAfterSeconds, 'RATE_LIMITED');
 */
export async function admitLogin(ctx: Context, grantId: string): Promise<Refusal | undefined> {
  const limits = limitsOf(ctx);
  return limits ? refusalOf(ctx, await limits.login(grantId)) : undefined;
}

/**
 * @example
 * const laned = await mayGiveDevice(ctx, `account\n${accountId}`);
 */
export async function mayGiveDevice(ctx: Context, key: string): Promise<boolean> {
  const limits = limitsOf(ctx);
  return limits ? (await limits.newDevice(key)).admitted : true;
}

export function markFailed(ctx: Context): void {
  limitsOf(ctx)?.markFailed();
}
