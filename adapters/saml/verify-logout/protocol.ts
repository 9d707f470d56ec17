/**
 * Logout steps 6 to 9, protocol checks on the signed values, each with its own code:
 *
 * | step           | enforces                                                                  | code |
 * |----------------|---------------------------------------------------------------------------|------|
 * | destination    | Destination present and = our SingleLogoutService URL, exactly            | `SAML_LOGOUT_DESTINATION_INVALID` |
 * | time-window    | IssueInstant not in the future (skew); not older than 300 s + skew; NotOnOrAfter not passed | `SAML_LOGOUT_NOT_YET_VALID`, `SAML_LOGOUT_EXPIRED` |
 * | replay         | the message ID once per IdP, across instances (`putIfAbsent`), kept until it could no longer pass the time window | `SAML_LOGOUT_REPLAYED` (a LogoutRequest whose sessions were ended but whose answer could not be signed is answered on its retry instead: `../logout-retry.ts`) |
 * | in-response-to | (LogoutResponse) InResponseTo = a LogoutRequest we sent this IdP, still pending; taken once | `SAML_LOGOUT_INRESPONSETO_UNKNOWN` (the store failing, or a pending value that is not what `startLogout` writes: `SAML_INTERNAL_ERROR`, audited by the gateway) |
 * | status         | (LogoutResponse) top-level StatusCode Success                             | `SAML_LOGOUT_STATUS_NOT_SUCCESS` |
 */
import { z } from 'zod';
import { AdapterError } from '../../contract.ts';
import { samlError } from '../errors.ts';
import { STATUS_SUCCESS } from '../xml/namespaces.ts';
import { instant, need } from '../verify/context.ts';
import { MAX_MESSAGE_AGE_SECONDS } from '../verify/time-window.ts';
import type { LogoutVerifyContext } from './context.ts';

/** What `startLogout` stores under `saml:logout:pending:<requestId>`. */
export interface PendingLogout {
  logoutId: string;
  idp: string;
  issuedAt: string;
}

/** What is accepted under `saml:logout:pending:<requestId>`: exactly what `startLogout` writes. */
const PENDING_LOGOUT = z.object({ logoutId: z.string().min(1), idp: z.string().min(1), issuedAt: z.string() }).strict();

/** Seconds a LogoutRequest of ours stays answerable. */
export const PENDING_LOGOUT_TTL_SECONDS = 600;

export function checkLogoutDestination(ctx: LogoutVerifyContext): void {
  const destination = need(ctx.signed, 'signed').destination;
  if (destination !== ctx.env.sloUrl)
    throw samlError('SAML_LOGOUT_DESTINATION_INVALID', { detail: `Destination ${destination ?? 'missing'}` });
}

export function checkLogoutTimeWindow(ctx: LogoutVerifyContext): void {
  const signed = need(ctx.signed, 'signed');
  const now = ctx.env.now.getTime();
  const skew = ctx.env.idp.clockSkewSeconds * 1000;
  const issued = instant(signed.issueInstant, 'IssueInstant');
  if (issued > now + skew)
    throw samlError('SAML_LOGOUT_NOT_YET_VALID', { detail: `IssueInstant ${signed.issueInstant}` });
  if (issued < now - skew - MAX_MESSAGE_AGE_SECONDS * 1000)
    throw samlError('SAML_LOGOUT_EXPIRED', { detail: `IssueInstant ${signed.issueInstant}` });
  if (signed.notOnOrAfter !== undefined && instant(signed.notOnOrAfter, 'NotOnOrAfter') <= now - skew)
    throw samlError('SAML_LOGOUT_EXPIRED', { detail: `NotOnOrAfter ${signed.notOnOrAfter}` });
}

/**
 * The key the replay guard keeps a logout message's ID under (per IdP): `saml:logout:<issuer>:<id>`.
 *
 * @example
 * logoutReplayKey({ issuer: 'https://idp.example/metadata', id: '_abc' }); // 'saml:logout:https://idp.example/metadata:_abc'
 */
export function logoutReplayKey(signed: { issuer: string; id: string }): string {
  return `saml:logout:${signed.issuer}:${signed.id}`;
}

/**
 * Seconds until the verified message could no longer pass the time window (IssueInstant + 300 s + skew), plus
 * one: how long its ID is kept by the replay guard (and an unsigned answer to it, `logout-retry.ts`).
 */
export function logoutReplayTtlSeconds(ctx: LogoutVerifyContext): number {
  const signed = need(ctx.signed, 'signed');
  const skew = ctx.env.idp.clockSkewSeconds * 1000;
  const lastAccepted = instant(signed.issueInstant, 'IssueInstant') + MAX_MESSAGE_AGE_SECONDS * 1000 + skew;
  return Math.max(1, Math.ceil((lastAccepted - ctx.env.now.getTime()) / 1000) + 1);
}

export async function rejectLogoutReplay(ctx: LogoutVerifyContext): Promise<void> {
  const signed = need(ctx.signed, 'signed');
  const fresh = await ctx.env.state.putIfAbsent(logoutReplayKey(signed), '1', logoutReplayTtlSeconds(ctx));
  if (!fresh) throw samlError('SAML_LOGOUT_REPLAYED', { detail: `${ctx.expect} ${signed.id}` });
}

/**
 * Takes the pending LogoutRequest the response answers; returns it. Runs after the pipeline, outside its wrapper:
 * the store failing, or a value that is not a `PendingLogout`, is `SAML_INTERNAL_ERROR` here, never a plain Error.
 */
export async function takePendingLogout(ctx: LogoutVerifyContext): Promise<PendingLogout> {
  const inResponseTo = need(need(ctx.signed, 'signed').inResponseTo, 'inResponseTo');
  const raw = await ctx.env.state.take(`saml:logout:pending:${inResponseTo}`).catch(pendingError);
  let pending: PendingLogout | null;
  try {
    pending = raw === null ? null : PENDING_LOGOUT.parse(JSON.parse(raw));
  } catch (error) {
    return pendingError(error);
  }
  if (!pending || pending.idp !== ctx.env.idp.id)
    throw samlError('SAML_LOGOUT_INRESPONSETO_UNKNOWN', { detail: `InResponseTo ${inResponseTo}` });
  return pending;
}

/** The store failing, or a pending value it cannot be: `SAML_INTERNAL_ERROR` (audited as a refusal by the gateway). */
function pendingError(cause: unknown): never {
  if (cause instanceof AdapterError) throw cause;
  throw samlError('SAML_INTERNAL_ERROR', { detail: 'logout response: pending request', cause });
}

export function checkLogoutStatus(ctx: LogoutVerifyContext, logoutId: string): void {
  const codes = need(ctx.signed, 'signed').statusCodes;
  if (codes[0] !== STATUS_SUCCESS)
    throw samlError('SAML_LOGOUT_STATUS_NOT_SUCCESS', { detail: `status ${codes.join(' / ')} (logout ${logoutId})` });
}
